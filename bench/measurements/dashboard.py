"""The funnel dashboard (``crm.funnel.dashboard``), whole and figures only."""

from harness import measure

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


@measure("funnel dashboard", baseline=sql_dashboard, baseline_name="SQL full scan")
def funnel_dashboard(bench):
    # What the dashboard's client action asks when it opens (next quarter).
    bench.admin["crm.funnel.dashboard"].get_data()


@measure(
    "funnel dashboard without the stuck list (figures only)",
    baseline=sql_dashboard,
    baseline_name="SQL full scan",
)
def funnel_dashboard_figures(bench):
    Dashboard = bench.admin["crm.funnel.dashboard"]
    kind, start, end = Dashboard._period_bounds("next_quarter")
    domain = [("period", ">=", start), ("period", "<=", end)]
    Dashboard._funnel(domain)
    Dashboard._won(domain)
    Dashboard._target(start, end, False, False)
    Dashboard._conversion([])


@measure(
    "funnel dashboard grade and need panels",
    baseline=sql_dashboard,
    baseline_name="SQL full scan",
)
def funnel_dashboard_grades_need(bench):
    # The two panels that read crm_lead before their sums were kept.
    Dashboard = bench.admin["crm.funnel.dashboard"]
    Dashboard._grades([])
    Dashboard._need(False, False, 1000000.0)
