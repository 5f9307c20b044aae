from . import crm_funnel_summary
