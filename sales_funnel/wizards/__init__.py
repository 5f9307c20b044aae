from . import crm_stage_gate_override_wizard
from . import crm_funnel_pipeline_wizard
from . import crm_funnel_health_wizard
from . import crm_funnel_health_line
from . import crm_lead_lost
from . import crm_salesperson_handover_wizard
from . import crm_salesperson_handover_wizard_line
from . import crm_salesperson_handover_wizard_split
