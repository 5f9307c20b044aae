"""Excel export of any funnel analysis: formatted, frozen header, a native
funnel chart, rows streamed from a server-side cursor (constant memory)."""

import ast

import xlsxwriter
from lxml import etree

from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import xlsx_rows

BATCH = 2000
NUMERIC = ("integer", "float", "monetary")
FUNNEL_MEASURES = ("expected_revenue", "prorated_revenue", "weighted_amount", "amount")


class CrmFunnelXlsxExport(models.TransientModel):
    _name = "crm.funnel.xlsx.export"
    _description = "Excel Export of a Funnel Analysis"

    res_model = fields.Char(required=True)
    domain = fields.Text(default="[]", required=True)
    field_names = fields.Char(required=True, help="Comma-separated columns.")
    title = fields.Char()

    # ------------------------------------------------------------------
    # Entry point (server actions bound to the analyses' list views)
    # ------------------------------------------------------------------

    @api.model
    def _action_export(self, records, active_domain=None):
        """Export the selected records, or the whole search when all are selected."""
        records.check_access("read")
        limit = int(
            self.env["ir.config_parameter"].sudo().get_param("web.active_ids_limit")
            or 20000
        )
        if active_domain is not None and len(records) >= limit:
            domain = active_domain
        else:
            domain = [("id", "in", records.ids)]
        export = self.create(
            {
                "res_model": records._name,
                "domain": repr(domain),
                "field_names": ",".join(self._list_columns(records)),
                "title": records._description,
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/sales_funnel/xlsx/{export.id}",
            "target": "download",
        }

    @api.model
    def _list_columns(self, model):
        """The visible, stored columns of the model's list view, in order."""
        arch = etree.fromstring(model.get_view(view_type="list")["arch"])
        names = []
        for node in arch.iter("field"):
            name = node.get("name")
            field = model._fields.get(name)
            hidden = node.get("column_invisible") in ("1", "True", "true")
            if (
                field
                and field.store
                and field.type not in ("one2many", "many2many", "binary", "html")
                and not hidden
                and node.get("optional") != "hide"
                and name not in names
            ):
                names.append(name)
        if not names:
            raise UserError(
                self.env._("Nothing to export: the list has no column to export.")
            )
        return names

    # ------------------------------------------------------------------
    # The workbook
    # ------------------------------------------------------------------

    def _write_workbook(self, fileobj):
        self.ensure_one()
        model = self.env[self.res_model]
        model.check_access("read")
        domain = ast.literal_eval(self.domain)
        names = self.field_names.split(",")
        workbook = xlsxwriter.Workbook(
            fileobj, {"constant_memory": True, "in_memory": False}
        )
        styles = self._styles(workbook)
        self._write_funnel_sheet(workbook, styles, model, domain, names)
        self._write_rows_sheet(workbook, styles, model, domain, names)
        workbook.close()

    def _styles(self, workbook):
        return {
            "header": workbook.add_format(
                {
                    "bold": True,
                    "bg_color": "#714B67",
                    "font_color": "#FFFFFF",
                    "border": 1,
                    "text_wrap": True,
                    "valign": "vcenter",
                }
            ),
            "title": workbook.add_format({"bold": True, "font_size": 14}),
            "integer": workbook.add_format({"num_format": "#,##0"}),
            "float": workbook.add_format({"num_format": "#,##0.00"}),
            "monetary": workbook.add_format({"num_format": "#,##0.00"}),
            "percent": workbook.add_format({"num_format": "0.0%"}),
            "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
            "datetime": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
            "total": workbook.add_format(
                {"bold": True, "num_format": "#,##0.00", "top": 1}
            ),
        }

    def _write_funnel_sheet(self, workbook, styles, model, domain, names):
        """Counts and amounts per stage, and a native Excel funnel chart."""
        if "stage_id" not in model._fields:
            return
        measures = [
            name
            for name in FUNNEL_MEASURES
            if name in names and model._fields[name].type in NUMERIC
        ]
        groups = model._read_group(
            domain, ["stage_id"], ["__count"] + [f"{m}:sum" for m in measures]
        )
        sheet = workbook.add_worksheet(self.env._("Funnel"))
        sheet.write(0, 0, self.title or model._description, styles["title"])
        header = [self.env._("Stage"), self.env._("Count")] + [
            model._fields[m].get_description(self.env)["string"] for m in measures
        ]
        for col, label in enumerate(header):
            sheet.write(2, col, label, styles["header"])
        sheet.set_column(0, 0, 24)
        sheet.set_column(1, len(header), 18)
        for row, (stage, count, *sums) in enumerate(groups, start=3):
            sheet.write(row, 0, stage.display_name or "")
            sheet.write_number(row, 1, count, styles["integer"])
            for col, value in enumerate(sums, start=2):
                sheet.write_number(row, col, float(value or 0.0), styles["monetary"])
        if not groups:
            return
        first, last = 3, 2 + len(groups)
        value_col = 2 if measures else 1
        chart = workbook.add_chart({"type": "bar"})
        chart.add_series(
            {
                "name": header[value_col],
                "categories": [sheet.name, first, 0, last, 0],
                "values": [sheet.name, first, value_col, last, value_col],
                "fill": {"color": "#714B67"},
                "gap": 30,
                "data_labels": {"value": True, "num_format": "#,##0"},
            }
        )
        # First stage on top: the bars narrow down like a funnel.
        chart.set_y_axis({"reverse": True})
        chart.set_legend({"none": True})
        chart.set_title({"name": self.env._("Sales funnel")})
        chart.set_size({"width": 720, "height": 360})
        sheet.insert_chart(last + 2, 0, chart)

    def _write_rows_sheet(self, workbook, styles, model, domain, names):
        fields_ = [model._fields[name] for name in names]
        sheet = workbook.add_worksheet(self.env._("Data"))
        for col, field in enumerate(fields_):
            label = field.get_description(self.env)["string"]
            sheet.write(0, col, label, styles["header"])
            wide = field.type in ("char", "many2one")
            sheet.set_column(col, col, 28 if wide else 16)
        sheet.freeze_panes(1, 0)
        query = model._search(domain, order=model._order)
        select = query.select(
            *[model._field_to_sql(model._table, name, query) for name in names]
        )
        selections = {
            field.name: dict(field._description_selection(self.env))
            for field in fields_
            if field.type == "selection"
        }
        labels = {"names": {}, "selections": selections}
        # A server-side cursor in the same transaction: rows arrive in batches.
        with self.env.cr._cnx.cursor("sales_funnel_xlsx") as cursor:
            cursor.itersize = BATCH
            cursor.execute(select.code, select.params)
            batches = iter(lambda: cursor.fetchmany(BATCH), [])
            row = self._write_rows(sheet, styles, fields_, batches, labels)
        if row:
            sheet.autofilter(0, 0, row, len(fields_) - 1)

    def _write_rows(self, sheet, styles, fields_, batches, labels):
        """Write the batches of values from the sheet's second row on; returns
        the number of rows."""
        stream = None
        if xlsx_rows.usable(sheet):
            renders = self._cell_renders(sheet, styles, fields_, labels)
            stream = xlsx_rows.RowStream(sheet, 1, renders)
        row = 0
        for batch in batches:
            self._fill_names(fields_, batch, labels["names"])
            if stream:
                stream.add(batch)
                row += len(batch)
                continue
            for values in batch:
                row += 1
                cells = enumerate(zip(fields_, values, strict=True))
                for col, (field, value) in cells:
                    self._write_cell(sheet, styles, row, col, field, value, labels)
        if stream:
            stream.close()
        return row

    def _cell_renders(self, sheet, styles, fields_, labels):
        """Per column, the cell's XML for a value: the same cells as
        _write_cell, about ten times faster (see xlsx_rows)."""
        renders = []
        for col, field in enumerate(fields_):
            kind = field.type
            if kind == "many2one":
                names = labels["names"].setdefault(field.comodel_name, {})
                render = xlsx_rows.string_cells(
                    sheet, col, lambda value, names=names: names.get(value) or ""
                )
            elif kind in NUMERIC:
                render = xlsx_rows.number_cells(sheet, col, styles[kind])
            elif kind in ("date", "datetime"):
                render = xlsx_rows.date_cells(sheet, col, styles[kind])
            elif kind == "boolean":
                render = xlsx_rows.boolean_cells(sheet, col)
            elif kind == "selection":
                options = labels["selections"][field.name]
                render = xlsx_rows.string_cells(
                    sheet,
                    col,
                    lambda value, options=options: str(options.get(value, value)),
                )
            else:
                render = xlsx_rows.text_cells(sheet, col)
            renders.append(render)
        return renders

    def _fill_names(self, fields_, batch, names_cache):
        """Display names of the batch's many2one values, one read per model."""
        for col, field in enumerate(fields_):
            if field.type != "many2one":
                continue
            cache = names_cache.setdefault(field.comodel_name, {})
            missing = {values[col] for values in batch} - cache.keys() - {None}
            if missing:
                records = self.env[field.comodel_name].sudo().browse(missing)
                cache.update(
                    (record.id, record.display_name)
                    for record in records.with_context(active_test=False)
                )

    def _write_cell(self, sheet, styles, row, col, field, value, labels):
        if value is None:
            return
        kind = field.type
        if kind == "many2one":
            name = labels["names"][field.comodel_name].get(value, "")
            sheet.write_string(row, col, name)
        elif kind in NUMERIC:
            sheet.write_number(row, col, float(value), styles[kind])
        elif kind == "date":
            sheet.write_datetime(row, col, value, styles["date"])
        elif kind == "datetime":
            sheet.write_datetime(row, col, value, styles["datetime"])
        elif kind == "boolean":
            sheet.write_boolean(row, col, bool(value))
        elif kind == "selection":
            label = labels["selections"][field.name].get(value, value)
            sheet.write_string(row, col, str(label))
        else:
            sheet.write_string(row, col, str(value))
