"""What the web client sends: the RPCs of a view, built as its JavaScript does.

- the pivot: one ``read_group`` per header combination (:func:`pivot_load`),
  every measure of a report by its row and column groupby
  (:func:`report_read_group`);
- the kanban: the field specification, aggregates and progress bar read from
  the arch (:func:`kanban_spec`, cached per user by :class:`Kanban`), and the
  RPCs of opening all its columns (:func:`load_kanban`);
- the list's export: what ``/web/export/xlsx`` does (:func:`export_xlsx`).
"""

import ast
from dataclasses import dataclass

from lxml import etree

KANBAN_LIMIT = 40  # cards per kanban column (kanban_controller.js)
COUNT_LIMIT = 10000  # relational_model.js DEFAULT_COUNT_LIMIT

# The pipeline action's domain, and with the Open Opportunities filter.
PIPELINE_DOMAIN = [("type", "=", "opportunity")]
OPEN_DOMAIN = [
    ("type", "=", "opportunity"),
    ("active", "=", True),
    ("probability", "<", 100),
]


# ----------------------------------------------------------------------
# Pivot
# ----------------------------------------------------------------------


def pivot_load(Model, domain, measures, rows, cols):
    """The four ``read_group`` of a pivot opening with one row and one column
    groupby: totals, rows, columns, cells."""
    for groupby in ([], rows, cols, rows + cols):
        Model.read_group(domain, measures, groupby, lazy=False)


def report_read_group(Model, groupby):
    """Pivot-like ``read_group`` of a report: every measure by ``groupby``."""
    info = Model.fields_get(attributes=["type", "aggregator"])
    measures = [
        f"{name}:{desc['aggregator']}"
        for name, desc in info.items()
        if desc.get("aggregator") and desc["type"] in ("integer", "float", "monetary")
    ]
    return Model.read_group([], measures or ["__count"], groupby, lazy=False)


# ----------------------------------------------------------------------
# Kanban
# ----------------------------------------------------------------------


def kanban_spec(arch, fields_info):
    """(specification, aggregates, progress bar) of a kanban arch, as the
    web client builds them from the view (getFieldsSpec / _webReadGroup)."""
    root = etree.fromstring(arch) if isinstance(arch, str) else arch
    spec = {}
    for node in root.iter("field"):
        name = node.get("name")
        desc = fields_info.get(name)
        if not desc or name in spec:
            continue
        if desc["type"] == "many2one":
            spec[name] = {"fields": {"display_name": {}}}
        elif desc["type"] in ("many2many", "one2many"):
            sub = {"display_name": {}}
            options = node.get("options") or ""
            if "color_field" in options:
                sub["color"] = {}
            spec[name] = {"fields": sub}
        else:
            spec[name] = {}
    aggregates = [
        f"{name}:{fields_info[name]['aggregator']}"
        for name in spec
        if fields_info[name].get("aggregator") and name != "stage_id"
    ]
    bar = root.find(".//progressbar")
    progress = None
    if bar is not None:
        progress = {
            "field": bar.get("field"),
            "colors": ast.literal_eval(bar.get("colors")),
            "sum_field": bar.get("sum_field"),
        }
        for key in ("sum_field", "recurring_revenue_sum_field"):
            name = bar.get(key)
            if name and name in fields_info and name not in spec:
                aggregates.append(f"{name}:sum")
    return spec, aggregates, progress


class Kanban:
    """Field specifications of the stock crm kanban and of the real one."""

    cache = {}

    @classmethod
    def get(cls, env, stock):
        key = (env.uid, stock)
        if key not in cls.cache:
            Lead = env["crm.lead"]
            info = Lead.fields_get(attributes=["type", "aggregator", "relation"])
            if stock:
                arch = env.ref("crm.crm_case_kanban_view_leads").sudo().arch
            else:
                arch = Lead.get_views([(False, "kanban")])["views"]["kanban"]["arch"]
            cls.cache[key] = kanban_spec(arch, info)
        return cls.cache[key]


def load_kanban(env, domain, spec, aggregates, progress, stock=False):
    """The RPCs of the web client opening the pipeline kanban."""
    Lead = env["crm.lead"].with_context(bin_size=True)
    result = Lead.web_read_group(domain, aggregates, ["stage_id"], lazy=True)
    if progress:
        if stock:
            from odoo.addons.sales_funnel.models.crm_lead import CrmLead

            # Odoo's own method, not sales_funnel's override.
            super(CrmLead, Lead).read_progress_bar(domain, "stage_id", progress)
        else:
            Lead.read_progress_bar(domain, "stage_id", progress)
    stage_ids = [g["stage_id"][0] for g in result["groups"] if g["stage_id"]]
    env["crm.stage"].browse(stage_ids).web_read({"requirements": {}})
    cards = 0
    for group in result["groups"]:
        if group.get("__fold") or not group["stage_id_count"]:
            continue
        page = Lead.web_search_read(
            group["__domain"],
            spec,
            limit=KANBAN_LIMIT,
            count_limit=COUNT_LIMIT + 1,
        )
        cards += len(page["records"])
    return cards


# ----------------------------------------------------------------------
# List export (/web/export/xlsx)
# ----------------------------------------------------------------------


@dataclass
class FakeRequest:
    """The export writer reads ``request.env`` only."""

    env: object


def export_xlsx(env, domain, limit, field_names):
    """What /web/export/xlsx does: search, export_data, ExcelExport.from_data."""
    from odoo.http import _request_stack

    from odoo.addons.web.controllers.export import ExcelExport

    Lead = env["crm.lead"]
    info = Lead.fields_get([name.split("/")[0] for name in field_names])
    columns = [
        {"name": name, "label": name, "type": info[name.split("/")[0]]["type"]}
        for name in field_names
    ]
    records = Lead.search(domain, limit=limit)
    rows = records.export_data(field_names)["datas"]
    _request_stack.push(FakeRequest(env))
    try:
        data = ExcelExport().from_data(columns, field_names, rows)
    finally:
        _request_stack.pop()
    return len(data)
