from .report.crm_funnel_summary import drop_funnel_summary


def uninstall_hook(env):
    drop_funnel_summary(env)
