from . import test_funnel
from . import test_stage_entry_activity
from . import test_ui
from . import test_stuck
from . import test_targets
from . import test_forecast_submission
from . import test_forecast_accuracy
