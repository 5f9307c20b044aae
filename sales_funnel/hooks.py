from .pipeline_adoption import adopt_default_pipeline
from .report.crm_funnel_grade_sums import drop_grade_sums
from .report.crm_funnel_pipeline_sums import drop_pipeline_sums
from .report.crm_funnel_source_sums import drop_source_sums
from .report.crm_funnel_stage_median import drop_medians
from .report.crm_funnel_stage_median_period import drop_period_medians
from .report.crm_funnel_stage_stay import drop_stage_stays
from .report.crm_funnel_stage_sums import drop_stage_sums
from .report.crm_funnel_summary import drop_funnel_summary
from .report.crm_lead_conversion_sums import drop_conversion_sums
from .report.crm_lead_kanban_sums import drop_kanban_sums
from .report.crm_stage_flow import drop_stage_flow


def post_init_hook(env):
    """Installation (never an upgrade): put the existing pipeline into the funnel.

    Opportunities of Odoo's default stages (New, Qualified, Proposition, Won),
    active or archived, move to Verification, Development, Proposal and Won;
    each default stage left empty is removed, one still in use (by any record)
    is left as it is. Every open opportunity then takes its stage's win rate,
    gets its checklist and a first history row, and every opportunity its
    source (``_fill_missing_funnel_sources``). Runs after the demo data, if
    any: the demo's deals are already in the funnel stages. Verification then
    requires the customer's facts (crm_stage_entry.py): the demo's deals were
    moved on as they were entered before the rule.
    """
    adopt_default_pipeline(env)
    env["crm.lead"]._fill_missing_funnel_sources()
    env["crm.stage"]._set_default_required_facts()


def uninstall_hook(env):
    """Drop what the ORM does not know: the triggers on crm_lead, the stage
    history and the tracked messages that keep the funnel sums, the kanban's
    column sums, the stage flow, Stage Analysis' rows and sums, Source
    Effectiveness' sums, the pipeline as of a date, the dashboard's grades and
    lead conversion, and their tables."""
    drop_funnel_summary(env)
    drop_kanban_sums(env)
    drop_stage_flow(env)
    drop_source_sums(env)  # its triggers are on Stage Analysis' rows
    drop_stage_sums(env)
    drop_medians(env)
    drop_period_medians(env)
    drop_stage_stays(env)
    drop_pipeline_sums(env.cr)
    drop_grade_sums(env)
    drop_conversion_sums(env)
