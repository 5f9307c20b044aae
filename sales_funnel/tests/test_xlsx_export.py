import io
import zipfile

import openpyxl

from odoo.tests import HttpCase, tagged

from .common import FunnelCase


def _book(export):
    buffer = io.BytesIO()
    export._write_workbook(buffer)
    return buffer.getvalue()


@tagged("post_install", "-at_install")
class TestXlsxExport(FunnelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.leads = cls.lead | cls._new_lead(
            "Metering", cls.salesman, cls.development, 40000.0
        )
        cls.others = cls._new_lead("Not mine", cls.salesman2, cls.proposal, 7000.0)

    def _export(self, user, records, active_domain=None):
        Export = self.env["crm.funnel.xlsx.export"].with_user(user)
        action = Export._action_export(records.with_user(user), active_domain)
        export_id = int(action["url"].rsplit("/", 1)[1])
        return Export.browse(export_id)

    def test_rows_formats_and_funnel_chart(self):
        export = self._export(self.manager, self.leads | self.others)
        content = _book(export)
        book = openpyxl.load_workbook(io.BytesIO(content))
        self.assertEqual(book.sheetnames, ["Funnel", "Data"])
        data = book["Data"]
        header = [cell.value for cell in data[1]]
        self.assertIn("Opportunity", header)
        self.assertEqual(data.freeze_panes, "A2")
        self.assertEqual(data.max_row, 1 + 3)
        revenue_col = header.index("Expected Revenue") + 1
        revenues = sorted(data.cell(row, revenue_col).value for row in (2, 3, 4))
        self.assertEqual(revenues, [7000.0, 40000.0, 100000.0])
        self.assertEqual(data.cell(2, revenue_col).number_format, "#,##0.00")
        stage_col = header.index("Stage") + 1
        self.assertIn(
            self.proposal.name, [data.cell(r, stage_col).value for r in (2, 3, 4)]
        )

        funnel = book["Funnel"]
        rows = [
            [c.value for c in row] for row in funnel.iter_rows(min_row=4, max_col=3)
        ]
        by_stage = {row[0]: row[1:] for row in rows if row[0]}
        self.assertEqual(by_stage[self.verification.name], [1, 100000.0])
        self.assertEqual(by_stage[self.development.name], [1, 40000.0])
        self.assertEqual(by_stage[self.proposal.name], [1, 7000.0])
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            chart = archive.read("xl/charts/chart1.xml").decode()
        self.assertIn("<c:barChart>", chart)

    def test_salesperson_exports_only_own_opportunities(self):
        self.env["ir.config_parameter"].set_param("web.active_ids_limit", 1)
        mine = (
            self.env["crm.lead"]
            .with_user(self.salesman)
            .search([("id", "in", (self.leads | self.others).ids)])
        )
        # "Select all" on a long list: the search domain is exported.
        export = self._export(
            self.salesman, mine, [("id", "in", (self.leads | self.others).ids)]
        )
        data = openpyxl.load_workbook(io.BytesIO(_book(export)))["Data"]
        header = [cell.value for cell in data[1]]
        names = {data.cell(r, header.index("Opportunity") + 1).value for r in (2, 3)}
        self.assertEqual(data.max_row, 3)
        self.assertEqual(names, set(self.leads.mapped("name")))


@tagged("post_install", "-at_install")
class TestXlsxDownload(HttpCase):
    def test_download_over_http(self):
        self.authenticate("admin", "admin")
        leads = self.env["crm.lead"].search([], limit=5)
        action = self.env["crm.funnel.xlsx.export"]._action_export(leads)
        response = self.url_open(action["url"])
        self.assertEqual(response.status_code, 200)
        self.assertIn("spreadsheetml", response.headers["Content-Type"])
        book = openpyxl.load_workbook(io.BytesIO(response.content))
        self.assertEqual(book["Data"].max_row, 1 + len(leads))
