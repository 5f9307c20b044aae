"""Start Odoo's command line, as the ``odoo`` script of an installed Odoo does.

The project's commands run Odoo through this file rather than ``python -m
odoo``: when Odoo restarts itself (``SIGHUP``, or a thread past its real-time
limit) it re-executes ``sys.argv``, and a module run with ``-m`` comes back as
a plain script that cannot import its own package.
"""

import sys

# This folder holds no part of Odoo: keep its files from shadowing modules.
sys.path.pop(0)

from odoo.cli.command import main  # noqa: E402

main()
