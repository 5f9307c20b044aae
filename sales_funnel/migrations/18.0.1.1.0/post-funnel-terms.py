"""The Funnel Forecast's sums follow the one definition of a deal's period.

A deal created won (no closing date) now counts in the month it entered the
won stage, as on the other screens: sum the deltas again from crm_lead.
"""

from odoo import SUPERUSER_ID, api

from odoo.addons.sales_funnel.report.crm_funnel_summary import rebuild_funnel_summary


def migrate(cr, version):
    rebuild_funnel_summary(api.Environment(cr, SUPERUSER_ID, {}))
