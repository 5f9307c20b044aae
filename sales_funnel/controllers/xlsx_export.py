import tempfile

import psycopg2.errors
from werkzeug.wsgi import wrap_file

from odoo import http
from odoo.http import content_disposition, request

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SalesFunnelXlsxController(http.Controller):
    # Read-only: with a read replica (--db_replica_host), the workbook is read
    # there. The export was saved on the primary a moment ago; a replica that
    # has not replayed it yet sends the request back to the primary (Odoo
    # retries a request on a read/write cursor after ReadOnlySqlTransaction).
    @http.route(
        "/sales_funnel/xlsx/<int:export_id>", type="http", auth="user", readonly=True
    )
    def download(self, export_id):
        # Transient records are private to their creator: no one else's export.
        export = request.env["crm.funnel.xlsx.export"].browse(export_id).exists()
        if not export:
            if request.env.cr.readonly:
                raise psycopg2.errors.ReadOnlySqlTransaction(
                    f"XLSX export {export_id} not on the read-only cursor yet"
                )
            raise request.not_found()
        spool = tempfile.TemporaryFile()
        export._write_workbook(spool)
        size = spool.tell()
        spool.seek(0)
        filename = f"{export.title or export.res_model}.xlsx"
        return http.Response(
            wrap_file(request.httprequest.environ, spool),
            headers=[
                ("Content-Type", XLSX),
                ("Content-Length", str(size)),
                ("Content-Disposition", content_disposition(filename)),
            ],
            direct_passthrough=True,
        )
