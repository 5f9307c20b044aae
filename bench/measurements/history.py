"""Reports read from the stage history: the stage conversion table (Stage
Analysis, and the dashboard's trigger-kept stage flow) and the pipeline as it
stood 90 days ago."""

from harness import measure
from webclient import pivot_load, report_read_group

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


# The measures of Stage Analysis' pivot view (its arch), as the web client asks.
STAGE_PIVOT_MEASURES = [
    "entered_count:sum",
    "passed_count:sum",
    "pass_rate:avg",
    "won_count:sum",
    "historical_win_rate:avg",
    "win_rate:avg",
    "days_in_stage:avg",
    "median_days_in_stage:avg",
]


def stage_pivot(Report, *groupbys):
    """The read_group of the pivot: its total, then each expanded header."""
    for groupby in ([], *groupbys):
        Report.read_group([], STAGE_PIVOT_MEASURES, groupby, lazy=False)


@measure(
    "stage conversion table (crm.funnel.stage.report)",
    baseline=sql_conversion,
    baseline_name="SQL history scan",
)
def stage_report(bench):
    # The action opens the pivot: rows by stage, no filter, as admin.
    stage_pivot(bench.admin["crm.funnel.stage.report"], ["stage_id"])


@measure(
    "stage conversion table (crm.funnel.stage.report, salesperson)",
    baseline=sql_conversion,
    baseline_name="SQL history scan",
)
def stage_report_salesperson(bench):
    # The record rule keeps the salesperson's own (and unassigned) rows.
    stage_pivot(bench.user["crm.funnel.stage.report"], ["stage_id"])


@measure(
    "stage conversion table (crm.funnel.stage.report, stage × salesperson)",
    baseline=sql_conversion,
    baseline_name="SQL history scan",
)
def stage_report_by_user(bench):
    stage_pivot(
        bench.admin["crm.funnel.stage.report"], ["stage_id"], ["stage_id", "user_id"]
    )


@measure(
    "stage conversion table (crm.funnel.stage.report, stage × month, Shanghai)",
    baseline=sql_conversion,
    baseline_name="SQL history scan",
)
def stage_report_by_month(bench):
    # Months in the user's time zone; the medians by month read the rows.
    Report = bench.admin["crm.funnel.stage.report"].with_context(tz="Asia/Shanghai")
    stage_pivot(Report, ["stage_id"], ["stage_id", "date:month"])


@measure(
    "stage conversion table (crm.stage.flow, last 12 months)",
    baseline=sql_conversion,
    baseline_name="SQL history scan",
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


@measure(
    "pipeline as of date (-90 days)",
    baseline=sql_as_of,
    baseline_name="SQL DISTINCT ON",
)
def pipeline_as_of(bench):
    # The wizard's action opens the report with the day in its context.
    env = bench.admin
    wizard = env["crm.funnel.pipeline.wizard"].create({"date": bench.as_of})
    action = wizard.action_open()
    Report = env[action["res_model"]].with_context(**action["context"])
    report_read_group(Report, ["stage_id", "date_deadline:month"])


def _pipeline_pivot(env, day):
    """The pivot the wizard's action opens: the Open filter, stages by
    salesperson, the arch's measures."""
    wizard = env["crm.funnel.pipeline.wizard"].create({"date": day})
    action = wizard.action_open()
    Report = env[action["res_model"]].with_context(**action["context"])
    measures = ["opportunity_count:sum", "amount:sum", "weighted_amount:sum"]
    pivot_load(Report, [("state", "=", "open")], measures, ["stage_id"], ["user_id"])


@measure(
    "pipeline as of date (-90 days), pivot as opened (4 read_group)",
    baseline=sql_as_of,
    baseline_name="SQL DISTINCT ON",
)
def pipeline_as_of_pivot(bench):
    _pipeline_pivot(bench.admin, bench.as_of)


@measure(
    "pipeline as of date (-90 days), pivot, salesperson",
    baseline=sql_as_of,
    baseline_name="SQL DISTINCT ON",
)
def pipeline_as_of_pivot_salesperson(bench):
    _pipeline_pivot(bench.user, bench.as_of)
