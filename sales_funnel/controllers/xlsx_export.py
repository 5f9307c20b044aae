import tempfile

from werkzeug.wsgi import wrap_file

from odoo import http
from odoo.http import content_disposition, request

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SalesFunnelXlsxController(http.Controller):
    @http.route("/sales_funnel/xlsx/<int:export_id>", type="http", auth="user")
    def download(self, export_id):
        # Transient records are private to their creator: no one else's export.
        export = request.env["crm.funnel.xlsx.export"].browse(export_id).exists()
        if not export:
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
