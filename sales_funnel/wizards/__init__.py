from . import crm_stage_gate_override_wizard
