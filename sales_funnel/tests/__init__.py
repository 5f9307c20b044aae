from . import test_funnel
from . import test_stage_entry_activity
from . import test_ui
from . import test_stuck
