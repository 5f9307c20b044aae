#!/usr/bin/env python3
"""Benchmark the sales funnel views against stock Odoo and full-scan SQL.

Usage:

    python3 bench/run.py -c /tmp/odoo.conf --dbname bn_100k --runs 7

Every measurement is a small function registered with :func:`measure`. It
runs ``--runs`` times after one warm-up run (warm: the ORM caches of the
registry are filled, the record cache is emptied before each run as a new
request would find it), and is printed beside its baseline, measured in the
same run on the same data: the stock Odoo view (the web client's own RPCs,
with the stock arch) or a hand-written full-scan SQL. A measurement whose
model is not in the registry (built on another branch) prints
"n/a (model missing)".

Measurements:

* forecast pivot: ``read_group`` of expected and weighted revenue by stage ×
  expected closing month over open opportunities, as the web pivot does it
  (one call; and the full load: the four calls of the pivot's headers);
* the funnel dashboard, the forecast report, the stage conversion table and
  the pipeline as of a date (models of other branches) with their SQL;
* the pipeline kanban, all columns: ``web_read_group`` with the kanban's
  aggregates, ``read_progress_bar``, the columns' header records and
  ``web_search_read`` of the first 40 cards of every column, with the
  kanban's field specification (as the web client does), as the admin (no
  filter) and as a salesperson (the default "My Pipeline" filter); the stock
  baseline uses the stock arch, Odoo's own ``read_progress_bar`` and runs
  without the addon's indexes (dropped in a savepoint, rolled back);
* one stage change through the real gate, in time and SQL queries (write +
  flush + the pre-commit tracking; in a savepoint that is rolled back);
* an XLSX export of up to 100,000 opportunities (time, peak RSS of the
  process: the server worker's memory, registry included).
"""

import argparse
import ast
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from lxml import etree

import odoo
from odoo import api, fields
from odoo.modules.registry import Registry

KANBAN_LIMIT = 40  # cards per kanban column (kanban_controller.js)
COUNT_LIMIT = 10000  # relational_model.js DEFAULT_COUNT_LIMIT
OPEN_DOMAIN = [
    ("type", "=", "opportunity"),
    ("active", "=", True),
    ("probability", "<", 100),
]
PIPELINE_DOMAIN = [("type", "=", "opportunity")]


@dataclass
class Result:
    name: str
    times: list = field(default_factory=list)
    queries: int | None = None
    baseline: "Result | None" = None
    note: str = ""
    peak_mb: float | None = None
    start_mb: float | None = None


@dataclass
class Measurement:
    name: str
    func: Callable
    baseline: Callable | None = None
    baseline_name: str = ""
    runs: int | None = None  # None: --runs
    requires: tuple = ()


MEASUREMENTS: list[Measurement] = []


def measure(name, baseline=None, baseline_name="", runs=None, requires=()):
    """Register a measurement ``func(bench) -> None`` (and its baseline)."""

    def decorator(func):
        MEASUREMENTS.append(
            Measurement(name, func, baseline, baseline_name, runs, tuple(requires))
        )
        return func

    return decorator


class Bench:
    """What measurements need: environments, the data's key records."""

    def __init__(self, cr, as_user):
        self.cr = cr
        self.admin = api.Environment(cr, 2, {"lang": "en_US", "tz": "UTC"})
        user = self.admin["res.users"].search([("login", "=", as_user)])
        if not user:
            raise SystemExit(f"no user {as_user!r}: run bench/generate.py first")
        self.user = self.admin(user=user.id)
        stages = self.admin["crm.stage"].search([("team_id", "=", False)])
        self.open_stages = stages.filtered(lambda s: not s.is_won)
        self.as_of = fields.Date.subtract(fields.Date.today(), days=90)

    def invalidate(self):
        self.admin.invalidate_all()

    def sql(self, query, params=None):
        self.cr.execute(query, params or {})
        return self.cr.fetchall()


# ----------------------------------------------------------------------
# Forecast pivot
# ----------------------------------------------------------------------

FORECAST_SQL = """
    SELECT stage_id, date_trunc('month', date_deadline) AS month, count(*),
           sum(expected_revenue), sum(prorated_revenue)
      FROM crm_lead
     WHERE type = 'opportunity' AND active AND probability < 100
     GROUP BY 1, 2
"""


def sql_forecast(bench):
    bench.sql(FORECAST_SQL)


PIVOT_MEASURES = ["expected_revenue:sum", "prorated_revenue:sum"]


@measure(
    "forecast pivot stage×month (read_group)",
    baseline=sql_forecast,
    baseline_name="SQL full scan",
)
def stock_forecast_pivot(bench):
    bench.admin["crm.lead"].read_group(
        OPEN_DOMAIN, PIVOT_MEASURES, ["stage_id", "date_deadline:month"], lazy=False
    )


@measure(
    "forecast pivot full load (4 read_group)",
    baseline=sql_forecast,
    baseline_name="SQL full scan",
)
def stock_forecast_pivot_full(bench):
    Lead = bench.admin["crm.lead"]
    for groupby in (
        [],
        ["date_deadline:month"],
        ["stage_id"],
        ["date_deadline:month", "stage_id"],
    ):
        Lead.read_group(OPEN_DOMAIN, PIVOT_MEASURES, groupby, lazy=False)


# ----------------------------------------------------------------------
# Reports of other branches (skipped when the model is missing)
# ----------------------------------------------------------------------


def report_read_group(env, model_name, date_names=("date", "date_deadline")):
    """Pivot-like read_group of a report: every measure by stage × month."""
    Model = env[model_name]
    info = Model.fields_get(attributes=["type", "aggregator"])
    measures = [
        f"{name}:{desc['aggregator']}"
        for name, desc in info.items()
        if desc.get("aggregator") and desc["type"] in ("integer", "float", "monetary")
    ]
    groupby = [name for name in ("stage_id",) if name in info]
    groupby += [f"{name}:month" for name in date_names if name in info][:1]
    return Model.read_group([], measures or ["__count"], groupby, lazy=False)


@measure(
    "forecast report (crm.funnel.forecast.report)",
    baseline=sql_forecast,
    baseline_name="SQL full scan",
    requires=["crm.funnel.forecast.report"],
)
def forecast_report(bench):
    report_read_group(
        bench.admin,
        "crm.funnel.forecast.report",
        ("date_deadline", "date", "period_start"),
    )


@measure(
    "forecast pivot stage×month (crm.funnel.summary)",
    baseline=sql_forecast,
    baseline_name="SQL full scan",
    requires=["crm.funnel.summary"],
)
def summary_pivot(bench):
    bench.admin["crm.funnel.summary"].read_group(
        [],
        ["open_count:sum", "open_amount:sum", "weighted_amount:sum"],
        ["stage_id", "period:month"],
        lazy=False,
    )


@measure(
    "forecast pivot full load (crm.funnel.summary, 4 read_group)",
    baseline=sql_forecast,
    baseline_name="SQL full scan",
    requires=["crm.funnel.summary"],
)
def summary_pivot_full(bench):
    # What the pivot view sends: totals, rows, columns, cells.
    Summary = bench.admin["crm.funnel.summary"]
    measures = [
        "weighted_amount:sum",
        "open_amount:sum",
        "committed_amount:sum",
        "won_amount:sum",
    ]
    for groupby in ([], ["stage_id"], ["period:month"], ["stage_id", "period:month"]):
        Summary.read_group([], measures, groupby, lazy=False)


@measure(
    "forecast next quarter by salesperson (crm.funnel.summary, salesperson)",
    baseline=sql_forecast,
    baseline_name="SQL full scan",
    requires=["crm.funnel.summary"],
)
def summary_salesperson(bench):
    start = fields.Date.today().replace(day=1)
    bench.user["crm.funnel.summary"].read_group(
        [("period", ">=", start)],
        ["weighted_amount:sum", "open_amount:sum"],
        ["stage_id", "period:month"],
        lazy=False,
    )


DASHBOARD_SQL = """
    SELECT l.stage_id,
           count(*) FILTER (WHERE l.probability < 100),
           sum(l.expected_revenue) FILTER (WHERE l.probability < 100),
           sum(l.prorated_revenue) FILTER (WHERE l.probability < 100),
           sum(l.prorated_revenue) FILTER (
               WHERE l.probability < 100
                 AND l.date_deadline >= date_trunc('month', current_date)
                                        + interval '1 month'
                 AND l.date_deadline < date_trunc('month', current_date)
                                       + interval '2 month'),
           sum(l.expected_revenue) FILTER (
               WHERE l.probability = 100
                 AND l.date_closed >= date_trunc('quarter', current_date))
      FROM crm_lead l
     WHERE l.type = 'opportunity' AND l.active
     GROUP BY l.stage_id
"""


def sql_dashboard(bench):
    bench.sql(DASHBOARD_SQL)


def dashboard_model(env):
    """The dashboard model of the analytics branch (name not settled yet)."""
    for name in (
        "crm.funnel.dashboard",
        "crm.funnel.dashboard.report",
        "sales.funnel.dashboard",
    ):
        if name in env:
            return name
    return next(
        (name for name in env if "funnel" in name and "dashboard" in name), None
    )


@measure(
    "funnel dashboard",
    baseline=sql_dashboard,
    baseline_name="SQL full scan",
    requires=[dashboard_model],
)
def funnel_dashboard(bench):
    env = bench.admin
    Model = env[dashboard_model(env)]
    for method in ("get_dashboard_data", "retrieve_dashboard", "get_data"):
        if hasattr(Model, method):
            getattr(Model, method)()
            return
    report_read_group(env, Model._name)


@measure(
    "funnel dashboard without the stuck list (figures only)",
    baseline=sql_dashboard,
    baseline_name="SQL full scan",
    requires=["crm.funnel.dashboard"],
)
def funnel_dashboard_figures(bench):
    Dashboard = bench.admin["crm.funnel.dashboard"]
    kind, start, end = Dashboard._period_bounds("next_quarter")
    domain = [("period", ">=", start), ("period", "<=", end)]
    Dashboard._funnel(domain)
    Dashboard._won(domain)
    Dashboard._target(start, end, False, False)
    Dashboard._conversion([])


CONVERSION_SQL = """
    WITH ranks(stage_id, rank) AS (SELECT * FROM unnest(%(ids)s::int[],
                                                        %(ranks)s::int[])),
    entered AS (
        SELECT DISTINCT h.lead_id, COALESCE(r.rank, 1000) AS rank
          FROM crm_lead_stage_history h
          LEFT JOIN ranks r ON r.stage_id = h.to_stage_id
         WHERE h.event <> 'lost'
    ), top AS (
        SELECT lead_id, max(rank) AS top FROM entered GROUP BY lead_id
    )
    SELECT e.rank, count(*) AS in_stage,
           count(*) FILTER (WHERE t.top > e.rank) AS passed,
           count(*) FILTER (WHERE t.top = 1000) AS won
      FROM entered e JOIN top t USING (lead_id)
     GROUP BY e.rank
"""


def sql_conversion(bench):
    stages = bench.open_stages
    bench.sql(
        CONVERSION_SQL,
        {"ids": stages.ids, "ranks": list(range(1, len(stages) + 1))},
    )


@measure(
    "stage conversion table (crm.funnel.stage.report)",
    baseline=sql_conversion,
    baseline_name="SQL history scan",
    requires=["crm.funnel.stage.report"],
)
def stage_report(bench):
    env = bench.admin
    Model = env["crm.funnel.stage.report"]
    info = Model.fields_get(attributes=["type", "aggregator"])
    measures = [
        f"{name}:{desc['aggregator']}"
        for name, desc in info.items()
        if desc.get("aggregator") and desc["type"] in ("integer", "float", "monetary")
    ]
    groupby = [name for name in ("stage_id", "to_stage_id") if name in info][:1]
    Model.read_group([], measures or ["__count"], groupby, lazy=False)


@measure(
    "stage conversion table (crm.stage.flow, last 12 months)",
    baseline=sql_conversion,
    baseline_name="SQL history scan",
    requires=["crm.stage.flow"],
)
def stage_flow(bench):
    bench.admin["crm.funnel.dashboard"]._conversion([])


AS_OF_SQL = """
    SELECT to_stage_id, count(*), sum(expected_revenue), sum(weighted_revenue)
      FROM (
        SELECT DISTINCT ON (lead_id) lead_id, event, to_stage_id,
               expected_revenue, weighted_revenue
          FROM crm_lead_stage_history
         WHERE date < %(as_of)s::date + 1
         ORDER BY lead_id, date DESC, id DESC
      ) last
     WHERE event NOT IN ('won', 'lost')
     GROUP BY to_stage_id
"""


def sql_as_of(bench):
    bench.sql(AS_OF_SQL, {"as_of": bench.as_of})


def as_of_model(env):
    """The pipeline-as-of-date model (wizard or report)."""
    if "crm.funnel.pipeline.wizard" in env:
        return "crm.funnel.pipeline.wizard"
    return next(
        (
            name
            for name in env
            if any(key in name for key in ("as.of", "asof", "as_of"))
            and ("pipeline" in name or "funnel" in name)
        ),
        None,
    )


@measure(
    "pipeline as of date (-90 days)",
    baseline=sql_as_of,
    baseline_name="SQL DISTINCT ON",
    requires=[as_of_model],
)
def pipeline_as_of(bench):
    env = bench.admin
    Model = env[as_of_model(env)]
    info = Model.fields_get(attributes=["type"])
    date_field = next(
        (n for n in ("date", "as_of_date", "date_as_of") if n in info), None
    )
    if Model._transient:
        # A wizard: create it for the date, run its action, read what it opens.
        wizard = Model.create({date_field: bench.as_of} if date_field else {})
        for method in ("action_compute", "action_open", "action_view", "compute"):
            if hasattr(wizard, method):
                action = getattr(wizard, method)()
                if isinstance(action, dict) and action.get("res_model"):
                    context = action.get("context")
                    target = env[action["res_model"]].with_context(
                        **(context if isinstance(context, dict) else {})
                    )
                    report_read_group(env, target._name)
                return
    report_read_group(env, Model._name)


# ----------------------------------------------------------------------
# Pipeline kanban
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


# Indexes the addon adds for its views: dropped (in a savepoint, rolled back)
# while a stock baseline runs, so that it measures stock Odoo.
ADDON_INDEXES = ["crm_lead_sales_funnel_kanban_idx"]


@contextmanager
def without_addon_indexes(cr):
    cr.execute("SAVEPOINT bench_stock_indexes")
    try:
        for name in ADDON_INDEXES:
            cr.execute(f"DROP INDEX IF EXISTS {name}")  # noqa: S608 (fixed names)
        cr.sql_log_count -= 1 + len(ADDON_INDEXES)  # bookkeeping, not the view's
        yield
    finally:
        cr.execute("ROLLBACK TO SAVEPOINT bench_stock_indexes")
        cr.sql_log_count -= 1


def stock_kanban(env, domain):
    with without_addon_indexes(env.cr):
        load_kanban(env, domain, *Kanban.get(env, stock=True), stock=True)


def funnel_kanban(env, domain):
    load_kanban(env, domain, *Kanban.get(env, stock=False))


@measure(
    "kanban all columns, admin, no filter",
    baseline=lambda b: stock_kanban(b.admin, PIPELINE_DOMAIN),
    baseline_name="stock crm kanban",
)
def kanban_admin(bench):
    funnel_kanban(bench.admin, PIPELINE_DOMAIN)


def my_pipeline(env):
    return PIPELINE_DOMAIN + [("user_id", "=", env.uid)]


@measure(
    "kanban all columns, salesperson, My Pipeline",
    baseline=lambda b: stock_kanban(b.user, my_pipeline(b.user)),
    baseline_name="stock crm kanban",
)
def kanban_user(bench):
    funnel_kanban(bench.user, my_pipeline(bench.user))


@measure(
    "kanban all columns, salesperson, no filter",
    baseline=lambda b: stock_kanban(b.user, PIPELINE_DOMAIN),
    baseline_name="stock crm kanban",
)
def kanban_user_all(bench):
    funnel_kanban(bench.user, PIPELINE_DOMAIN)


@measure(
    "search Stuck filter, admin (search_count)",
    baseline=lambda b: b.admin["crm.lead"].search_count(
        PIPELINE_DOMAIN + [("activity_date_deadline", "<", fields.Date.today())]
    ),
    baseline_name="stock Late Activities",
)
def stuck_filter(bench):
    bench.admin["crm.lead"].search_count(PIPELINE_DOMAIN + [("is_stuck", "=", True)])


# ----------------------------------------------------------------------
# Stage change (gate + history), counted in SQL queries
# ----------------------------------------------------------------------


class StageChange:
    """One opportunity of the salesperson in the first stage, moved to the
    second one, in a savepoint rolled back after each run."""

    def __init__(self, bench, extra_criteria=0):
        self.bench = bench
        self.extra = extra_criteria
        env = bench.user
        first, second = bench.open_stages[:2]
        self.target = second
        bench.cr.execute(
            """
            SELECT id FROM crm_lead
             WHERE user_id = %s AND stage_id = %s AND active
             ORDER BY id LIMIT 1
            """,
            [env.uid, first.id],
        )
        self.lead_id = bench.cr.fetchone()[0]

    def prepare(self):
        """Inside the savepoint: every required criterion of the stage ticked."""
        cr, env = self.bench.cr, self.bench.admin
        lead = env["crm.lead"].browse(self.lead_id)
        lead._ensure_checklist()
        env.flush_all()
        if self.extra:
            cr.execute(
                """
                WITH new AS (
                    INSERT INTO crm_stage_criterion (name, stage_id, sequence,
                                                     required, active)
                    SELECT jsonb_build_object('en_US', 'Bench criterion ' || g),
                           %(stage)s, 100 + g, TRUE, TRUE
                      FROM generate_series(1, %(n)s) g
                    RETURNING id, stage_id
                )
                INSERT INTO crm_lead_criterion (lead_id, criterion_id, stage_id,
                                                active, in_current_stage, done)
                SELECT %(lead)s, new.id, new.stage_id, TRUE, TRUE, TRUE FROM new
                """,
                {"stage": lead.stage_id.id, "n": self.extra, "lead": lead.id},
            )
        cr.execute(
            "UPDATE crm_lead_criterion SET done = TRUE WHERE lead_id = %s",
            [self.lead_id],
        )
        self.bench.invalidate()

    def run(self, action):
        """Time and count the queries of ``action(lead)`` (+ flush, precommit)."""
        cr = self.bench.cr
        cr.execute("SAVEPOINT bench_stage_change")
        try:
            self.prepare()
            lead = self.bench.user["crm.lead"].browse(self.lead_id)
            count = cr.sql_log_count
            start = time.perf_counter()
            action(lead)
            lead.env.flush_all()
            cr.precommit.run()
            elapsed = time.perf_counter() - start
            queries = cr.sql_log_count - count
            if lead.stage_id != self.target:
                raise RuntimeError("the stage change did not happen")
        finally:
            self.bench.invalidate()
            cr.precommit.clear()
            cr.postcommit.clear()
            cr.execute("ROLLBACK TO SAVEPOINT bench_stage_change")
        return elapsed, queries


def stage_write(lead, target):
    lead.write({"stage_id": target.id})


def stock_write(lead, target):
    from odoo.addons.sales_funnel.models.crm_lead import CrmLead

    # The write of the modules below sales_funnel (crm, mail...): no gate,
    # no history, no checklist; the rest of the addon (computes) still runs.
    super(CrmLead, lead).write({"stage_id": target.id})


def kanban_drop(lead, target):
    spec = Kanban.get(lead.env, stock=False)[0]
    lead.web_save({"stage_id": target.id}, spec)


def stage_change(extra=0, action=stage_write):
    def run(bench):
        change = StageChange(bench, extra)
        return change.run(lambda lead: action(lead, change.target))

    return run


measure(
    "stage change: write (gate+history+tracking)",
    baseline=stage_change(action=stock_write),
    baseline_name="write w/o sales_funnel.write",
)(stage_change())
measure(
    "stage change: kanban drop (web_save + card)",
    baseline=stage_change(action=stock_write),
    baseline_name="write w/o sales_funnel.write",
)(stage_change(action=kanban_drop))
measure(
    "stage change: write, +50 required criteria",
    baseline=stage_change(),
    baseline_name="same, stage's own criteria",
)(stage_change(extra=50))


# ----------------------------------------------------------------------
# XLSX export
# ----------------------------------------------------------------------

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


def export_xlsx(env, domain, limit):
    """What /web/export/xlsx does: search, export_data, ExcelExport.from_data."""
    from odoo.http import _request_stack

    from odoo.addons.web.controllers.export import ExcelExport

    Lead = env["crm.lead"]
    info = Lead.fields_get([name.split("/")[0] for name in EXPORT_FIELDS])
    columns = [
        {"name": name, "label": name, "type": info[name.split("/")[0]]["type"]}
        for name in EXPORT_FIELDS
    ]
    records = Lead.search(domain, limit=limit)
    rows = records.export_data(EXPORT_FIELDS)["datas"]
    _request_stack.push(FakeRequest(env))
    try:
        data = ExcelExport().from_data(columns, EXPORT_FIELDS, rows)
    finally:
        _request_stack.pop()
    return len(data)


@dataclass
class FakeRequest:
    """The export writer reads ``request.env`` only."""

    env: object


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
)
def export_100k(bench):
    export_xlsx(bench.admin, PIPELINE_DOMAIN, 100000)


@measure(
    "XLSX export 100,000 rows (sales_funnel exporter, streamed)",
    baseline=export_sql,
    baseline_name="SQL + xlsxwriter",
    runs=1,
    requires=["sales_funnel.xlsx.export"],
)
def export_100k_streamed(bench):
    env = bench.admin
    [(last_id,)] = bench.sql(
        "SELECT max(id) FROM (SELECT id FROM crm_lead"
        " WHERE type = 'opportunity' AND active ORDER BY id LIMIT 100000) ids"
    )
    Export = env["sales_funnel.xlsx.export"]
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


# ----------------------------------------------------------------------
# Runner
# ----------------------------------------------------------------------


def available(bench, item):
    for requirement in item.requires:
        name = requirement(bench.admin) if callable(requirement) else requirement
        if not name or name not in bench.admin:
            return False
    return True


def reset_peak_rss():
    """Reset the process's peak RSS (Linux: VmHWM := VmRSS)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _status_mb(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb():
    return _status_mb("VmHWM:")


def rss_mb():
    return _status_mb("VmRSS:")


def timed(bench, func, runs, memory=False):
    result = Result(getattr(func, "__name__", "baseline"))
    for index in range(runs + 1):  # the first run warms up
        bench.invalidate()
        if memory:
            start_rss = rss_mb()
            reset_peak_rss()
        count = bench.cr.sql_log_count
        start = time.perf_counter()
        out = func(bench)
        elapsed = time.perf_counter() - start
        queries = bench.cr.sql_log_count - count
        if memory:
            peak = peak_rss_mb()
        if isinstance(out, tuple):  # (elapsed, queries) measured by the function
            elapsed, queries = out
        if index:
            result.times.append(elapsed)
            result.queries = queries
            if memory:
                result.peak_mb = max(result.peak_mb or 0, peak)
                result.start_mb = start_rss
    return result


def fmt_ms(values):
    return f"{statistics.median(values) * 1000:9.1f}" if values else " " * 9


def run_all(bench, runs, only=None, memory=False):
    results = []
    for item in MEASUREMENTS:
        if only and not any(word in item.name for word in only):
            continue
        if not available(bench, item):
            results.append(Result(item.name, note="n/a (model missing)"))
            print_row(results[-1])
            continue
        count = item.runs or runs
        track = memory or item.name.startswith("XLSX")
        bench.cr.execute("SAVEPOINT bench_measurement")
        try:
            result = timed(bench, item.func, count, memory=track)
            result.name = item.name
            if item.baseline:
                result.baseline = timed(bench, item.baseline, count, memory=track)
                result.baseline.name = item.baseline_name
        except Exception as error:  # noqa: BLE001 (one row fails, not the run)
            result = Result(item.name, note=f"error: {error!r}"[:200])
        finally:
            bench.cr.execute("ROLLBACK TO SAVEPOINT bench_measurement")
            bench.invalidate()
        results.append(result)
        print_row(result)
    return results


HEADER = (
    f"{'measurement':46} {'median':>9} {'min':>9} {'max':>9} {'q':>5}  "
    f"{'baseline':30} {'median':>9} {'q':>5} {'ratio':>6}"
)


def print_row(result):
    if result.note:
        print(f"{result.name:46} {result.note}", flush=True)
        return
    times = result.times
    queries = "" if result.queries is None else str(result.queries)
    line = (
        f"{result.name:46} {fmt_ms(times)} {min(times) * 1000:9.1f} "
        f"{max(times) * 1000:9.1f} {queries:>5}"
    )
    base = result.baseline
    if base:
        ratio = statistics.median(times) / statistics.median(base.times)
        base_q = "" if base.queries is None else str(base.queries)
        line += f"  {base.name:30} {fmt_ms(base.times)} {base_q:>5} {ratio:6.2f}"
    if result.peak_mb is not None:
        line += f"  peak RSS {result.peak_mb:.0f} MB (from {result.start_mb:.0f})"
        if base and base.peak_mb is not None:
            line += f"; baseline {base.peak_mb:.0f} MB (from {base.start_mb:.0f})"
    print(line, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dbname", "-d", required=True)
    parser.add_argument("--config", "-c", help="Odoo configuration file")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--as-user", default="bench_sp_01", help="login of the salesperson"
    )
    parser.add_argument(
        "--only", nargs="*", help="run the measurements whose name contains a word"
    )
    args = parser.parse_args()
    odoo_args = ["-c", args.config] if args.config else []
    odoo.tools.config.parse_config([*odoo_args, "-d", args.dbname])
    registry = Registry(args.dbname)
    with registry.cursor() as cr:
        bench = Bench(cr, args.as_user)
        n_opps = bench.sql("SELECT count(*) FROM crm_lead WHERE type='opportunity'")
        n_hist = bench.sql("SELECT count(*) FROM crm_lead_stage_history")
        version = bench.sql("SHOW server_version")[0][0]
        print(
            f"database {args.dbname}: {n_opps[0][0]:,} opportunities, "
            f"{n_hist[0][0]:,} history rows; PostgreSQL {version}; "
            f"{args.runs} warm runs (median/min/max in ms, q = SQL queries); "
            f"salesperson {args.as_user}"
        )
        print(HEADER)
        run_all(bench, args.runs, args.only)
        cr.rollback()
    return 0


if __name__ == "__main__":
    sys.exit(main())
