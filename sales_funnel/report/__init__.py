from . import crm_funnel_summary
from . import crm_stage_flow
from . import crm_funnel_forecast_report
from . import crm_funnel_forecast_kept
from . import crm_funnel_stage_sums
from . import crm_funnel_stage_report
from . import crm_funnel_pipeline_report
from . import crm_funnel_source_report
