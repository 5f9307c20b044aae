"""The measurement groups, registered with ``harness.measure`` on import.

The import order is the order of the printed rows.
"""

from . import forecast
from . import dashboard
from . import history
from . import kanban
from . import stage_change
from . import export
from . import jobs
from . import source
