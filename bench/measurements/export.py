"""XLSX export of up to 100,000 opportunities: time and peak RSS of the process
(the server worker's memory, registry included).

Stock: the list's export (``/web/export/xlsx``); the addon's exporter
(``crm.funnel.xlsx.export``) streams the list view's columns from a
server-side cursor into xlsxwriter's constant-memory mode.
"""

import io
import tempfile

from harness import measure
from webclient import PIPELINE_DOMAIN, export_xlsx

EXPORT_FIELDS = [
    "name",
    "partner_id/name",
    "user_id/name",
    "team_id/name",
    "stage_id/name",
    "expected_revenue",
    "probability",
    "prorated_revenue",
    "date_deadline",
    "create_date",
]

EXPORT_SQL = """
    SELECT l.name, p.name, pu.name, t.name->>'en_US', s.name->>'en_US',
           l.expected_revenue, l.probability, l.prorated_revenue,
           l.date_deadline, l.create_date
      FROM crm_lead l
      LEFT JOIN res_partner p ON p.id = l.partner_id
      LEFT JOIN res_users u ON u.id = l.user_id
      LEFT JOIN res_partner pu ON pu.id = u.partner_id
      LEFT JOIN crm_team t ON t.id = l.team_id
      LEFT JOIN crm_stage s ON s.id = l.stage_id
     WHERE l.type = 'opportunity' AND l.active
     ORDER BY l.priority DESC, l.id DESC
     LIMIT 100000
"""


def export_sql(bench):
    """Baseline: the same columns fetched by one SQL join and written with
    xlsxwriter's constant-memory mode."""
    import xlsxwriter

    rows = bench.sql(EXPORT_SQL)
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "constant_memory": True})
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r + 1, c, str(value) if hasattr(value, "isoformat") else value)
    book.close()


@measure(
    "XLSX export 100,000 rows (admin)",
    baseline=export_sql,
    baseline_name="SQL + xlsxwriter",
    runs=1,
    memory=True,
)
def export_100k(bench):
    export_xlsx(bench.admin, PIPELINE_DOMAIN, 100000, EXPORT_FIELDS)


@measure(
    "XLSX export 100,000 rows (sales_funnel exporter, streamed)",
    baseline=export_sql,
    baseline_name="SQL + xlsxwriter",
    runs=1,
    memory=True,
)
def export_100k_streamed(bench):
    env = bench.admin
    [(last_id,)] = bench.sql(
        "SELECT max(id) FROM (SELECT id FROM crm_lead"
        " WHERE type = 'opportunity' AND active ORDER BY id LIMIT 100000) ids"
    )
    Export = env["crm.funnel.xlsx.export"]
    export = Export.create(
        {
            "res_model": "crm.lead",
            "domain": repr(PIPELINE_DOMAIN + [("id", "<=", last_id)]),
            "field_names": ",".join(Export._list_columns(env["crm.lead"])),
            "title": "Pipeline",
        }
    )
    with tempfile.TemporaryFile() as spool:
        export._write_workbook(spool)
