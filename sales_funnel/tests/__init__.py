from . import test_funnel
from . import test_stage_entry_activity
from . import test_ui
from . import test_stuck
from . import test_handoff
from . import test_handoff_remote
from . import test_handoff_concurrency
from . import test_xlsx_export
