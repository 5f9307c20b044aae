"""Source Effectiveness (crm.funnel.source.report): leads → opportunities →
stages reached → won per source and campaign, as its pivot opens."""

from harness import measure
from webclient import report_read_group

SOURCE_SQL = """
    WITH reached AS (
        SELECT DISTINCT h.lead_id, h.to_stage_id
          FROM crm_lead_stage_history h
         WHERE h.event IN ('create', 'forward', 'backward')
    )
    SELECT l.funnel_source, l.campaign_id,
           count(*) FILTER (WHERE l.type = 'lead' OR l.date_conversion IS NOT NULL),
           count(*) FILTER (WHERE l.type = 'opportunity'),
           count(*) FILTER (WHERE l.active AND s.is_won),
           sum(l.expected_revenue) FILTER (WHERE l.active AND s.is_won),
           (SELECT count(*) FROM reached)
      FROM crm_lead l
      LEFT JOIN crm_stage s ON s.id = l.stage_id
     GROUP BY l.funnel_source, l.campaign_id
"""


def sql_source(bench):
    bench.sql(SOURCE_SQL, {})


@measure(
    "source effectiveness source × campaign (crm.funnel.source.report)",
    baseline=sql_source,
    baseline_name="SQL lead + history scan",
)
def source_report(bench):
    report_read_group(
        bench.admin["crm.funnel.source.report"], ["funnel_source", "campaign_id"]
    )


@measure(
    "source effectiveness stages reached (crm.funnel.source.report)",
    baseline=sql_source,
    baseline_name="SQL lead + history scan",
)
def source_report_stages(bench):
    report_read_group(
        bench.admin["crm.funnel.source.report"], ["funnel_source", "step", "stage_id"]
    )
