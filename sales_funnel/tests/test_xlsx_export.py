import datetime
import io
import re
import zipfile
from unittest.mock import patch

import openpyxl
import xlsxwriter

from odoo.tests import HttpCase, tagged

from odoo.addons.sales_funnel import xlsx_rows

from .common import FunnelCase


def _excel_text(value):
    """A cell's text as Excel shows it: openpyxl leaves the _xHHHH_ escapes."""
    if not isinstance(value, str):
        return value
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), value)


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

    def test_cells_match_export_data(self):
        """Each cell of the Data sheet is what Odoo's own export gives for the
        record (display names, selection labels, amounts), awkward text too."""
        self.leads[0].write(
            {
                "name": " R&D <pilot> _x0041_ ",
                "contact_name": "Zoë\tWang",
                "email_from": "zoe@example.com",
                "funnel_source": "referral",
                "expected_revenue": 1234.5,
            }
        )
        records = self.leads | self.others
        export = self._export(self.manager, records)
        names = export.field_names.split(",")
        self.assertIn("funnel_source", names)
        data = openpyxl.load_workbook(io.BytesIO(_book(export)))["Data"]
        rows = {
            row[0]: row
            for row in data.iter_rows(min_row=2, values_only=True)
            for row in [tuple(map(_excel_text, row))]
        }
        self.assertEqual(len(rows), len(records))
        expected = dict(
            zip(
                records.mapped("name"), records.export_data(names)["datas"], strict=True
            )
        )
        self.assertEqual(rows.keys(), expected.keys())
        for name, cells in rows.items():
            for field_name, cell, value in zip(
                names, cells, expected[name], strict=True
            ):
                with self.subTest(record=name, field=field_name):
                    self.assertEqual(cell, value if value != "" else None)
        self.assertEqual(
            rows[" R&D <pilot> _x0041_ "][names.index("funnel_source")],
            "Referred by an Existing Customer",
        )

    def test_streamed_rows_are_xlsxwriter_cells(self):
        """The rows streamed as XML (xlsx_rows) make the same file as
        xlsxwriter's write_* cell by cell, on awkward values."""
        lead = self.env["crm.lead"]
        fields_ = [
            lead._fields[name]
            for name in (
                "name",
                "user_id",
                "expected_revenue",
                "probability",
                "color",
                "date_deadline",
                "date_closed",
                "active",
                "funnel_source",
                "lead_properties",
            )
        ]
        rows = [
            (
                "plain",
                self.salesman.id,
                100000,
                12.5,
                3,
                datetime.date(2031, 2, 28),
                datetime.datetime(2031, 2, 28, 13, 45, 10),
                True,
                "referral",
                [{"name": "a", "value": "<b>"}],
            ),
            (
                " lead & <trail> ",
                self.salesman2.id,
                0.1,
                -3.0,
                0,
                None,
                None,
                False,
                "not-a-key",
                None,
            ),
            ("_x0041_ and \x01\x1f\ufffe\uffff", None, 1e20, 1 / 3, None) + (None,) * 5,
            ("\ttabbed\n", None, -0.0, 123456789.123456, None) + (None,) * 5,
            ("x" * 40000, None, float("nan"), None, None) + (None,) * 5,
            ("",) + (None,) * 9,
            (None,) * 10,
            ("after an empty row",) + (None,) * 9,
        ]

        def book(streamed):
            buffer = io.BytesIO()
            workbook = xlsxwriter.Workbook(
                buffer, {"constant_memory": True, "in_memory": False}
            )
            Export = self.env["crm.funnel.xlsx.export"]
            styles = Export._styles(workbook)
            workbook.add_worksheet("Funnel").write(0, 0, "funnel")
            sheet = workbook.add_worksheet("Data")
            for col, field in enumerate(fields_):
                sheet.write(0, col, field.string, styles["header"])
            labels = {
                "names": {},
                "selections": {
                    "funnel_source": dict(
                        lead._fields["funnel_source"]._description_selection(self.env)
                    )
                },
            }
            with patch.object(xlsx_rows, "usable", return_value=streamed):
                if streamed:
                    count = Export._write_rows(
                        sheet, styles, fields_, [rows[:3], rows[3:]], labels
                    )
                else:
                    # xlsxwriter refuses NaN: compare the rest of the rows.
                    clean = [
                        r if r[2] == r[2] else r[:2] + (None,) + r[3:] for r in rows
                    ]
                    count = Export._write_rows(
                        sheet, styles, fields_, [clean[:3], clean[3:]], labels
                    )
            sheet.autofilter(0, 0, count, len(fields_) - 1)
            workbook.close()
            with zipfile.ZipFile(buffer) as archive:
                return {
                    name: archive.read(name)
                    for name in archive.namelist()
                    if name != "docProps/core.xml"  # creation time
                }

        streamed, reference = book(True), book(False)
        self.assertEqual(streamed.keys(), reference.keys())
        for name in reference:
            with self.subTest(part=name):
                self.assertEqual(streamed[name].decode(), reference[name].decode())
        sheet = streamed["xl/worksheets/sheet2.xml"].decode()
        self.assertIn('<t xml:space="preserve"> lead &amp; &lt;trail&gt; </t>', sheet)
        self.assertIn('<row r="9">', sheet)
        self.assertNotIn('<row r="8">', sheet)

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
