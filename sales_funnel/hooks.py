from .report.crm_funnel_summary import drop_funnel_summary
from .report.crm_stage_flow import drop_stage_flow


def uninstall_hook(env):
    drop_funnel_summary(env)
    drop_stage_flow(env)
