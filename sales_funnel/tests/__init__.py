from . import test_funnel
from . import test_stage_entry_activity
from . import test_ui
from . import test_stuck
from . import test_forecast_report
from . import test_stage_analytics
from . import test_pipeline_as_of
from . import test_funnel_health
