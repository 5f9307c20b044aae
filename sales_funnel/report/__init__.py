from . import crm_funnel_summary
from . import crm_stage_flow
