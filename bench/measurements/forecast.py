"""Forecast: the stock pivot on crm.lead, the per-opportunity Forecast Details
report and the Funnel Forecast pivot (``crm.funnel.summary``)."""

from dateutil.relativedelta import relativedelta
from harness import measure
from webclient import OPEN_DOMAIN, pivot_load, report_read_group

from odoo import fields
from odoo.tools import date_utils

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
    pivot_load(
        bench.admin["crm.lead"],
        OPEN_DOMAIN,
        PIVOT_MEASURES,
        ["date_deadline:month"],
        ["stage_id"],
    )


# Forecast Details as it opens: the action's "Next Quarter" filter, the pivot
# arch's measures, stages in rows, months in columns.
REPORT_MEASURES = ["weighted_amount:sum", "won_amount:sum", "forecast_amount:sum"]
PER_ROW = {"sales_funnel_forecast_per_row": True}


def next_quarter_domain():
    today = fields.Date.today()
    start = date_utils.start_of(today, "quarter") + relativedelta(months=3)
    return [
        ("date", ">=", fields.Date.to_string(start)),
        ("date", "<", fields.Date.to_string(start + relativedelta(months=3))),
    ]


def open_forecast_details(Report):
    pivot_load(
        Report, next_quarter_domain(), REPORT_MEASURES, ["stage_id"], ["date:month"]
    )


@measure(
    "forecast report (crm.funnel.forecast.report)",
    baseline=sql_forecast,
    baseline_name="SQL full scan",
)
def forecast_report(bench):
    open_forecast_details(bench.admin["crm.funnel.forecast.report"])


@measure(
    "forecast report per row (crm.funnel.forecast.report)",
    baseline=sql_forecast,
    baseline_name="SQL full scan",
)
def forecast_report_per_row(bench):
    open_forecast_details(
        bench.admin["crm.funnel.forecast.report"].with_context(PER_ROW)
    )


@measure(
    "forecast report, salesperson (crm.funnel.forecast.report)",
    baseline=sql_forecast,
    baseline_name="SQL full scan",
)
def forecast_report_salesperson(bench):
    open_forecast_details(bench.user["crm.funnel.forecast.report"])


@measure(
    "forecast report, Asia/Shanghai (crm.funnel.forecast.report)",
    baseline=sql_forecast,
    baseline_name="SQL full scan",
)
def forecast_report_shanghai(bench):
    """Won deals dated in another time zone than the kept sums' UTC."""
    report = bench.admin["crm.funnel.forecast.report"]
    open_forecast_details(report.with_context(tz="Asia/Shanghai"))


@measure(
    "forecast report every measure (crm.funnel.forecast.report)",
    baseline=sql_forecast,
    baseline_name="SQL full scan",
)
def forecast_report_every_measure(bench):
    """Every measure, the average win rate too: the per-row path."""
    report_read_group(
        bench.admin["crm.funnel.forecast.report"], ["stage_id", "date:month"]
    )


@measure(
    "forecast pivot stage×month (crm.funnel.summary)",
    baseline=sql_forecast,
    baseline_name="SQL full scan",
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
)
def summary_pivot_full(bench):
    pivot_load(
        bench.admin["crm.funnel.summary"],
        [],
        [
            "weighted_amount:sum",
            "open_amount:sum",
            "committed_amount:sum",
            "won_amount:sum",
        ],
        ["stage_id"],
        ["period:month"],
    )


@measure(
    "forecast next quarter by salesperson (crm.funnel.summary, salesperson)",
    baseline=sql_forecast,
    baseline_name="SQL full scan",
)
def summary_salesperson(bench):
    start = fields.Date.today().replace(day=1)
    bench.user["crm.funnel.summary"].read_group(
        [("period", ">=", start)],
        ["weighted_amount:sum", "open_amount:sum"],
        ["stage_id", "period:month"],
        lazy=False,
    )
