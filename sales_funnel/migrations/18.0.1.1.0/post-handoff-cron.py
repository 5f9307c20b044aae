"""The hand-off job's method is ``_cron_handoff`` (was ``_cron_sales_funnel_handoff``).

The cron record is ``noupdate``: an installed database keeps the old code until
it is rewritten here.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    cron = env.ref(
        "sales_funnel.ir_cron_sales_funnel_handoff", raise_if_not_found=False
    )
    if cron and "_cron_sales_funnel_handoff" in (cron.code or ""):
        cron.code = cron.code.replace("_cron_sales_funnel_handoff", "_cron_handoff")
