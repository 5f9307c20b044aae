"""Source Effectiveness' monthly sums kept the UTC month of arrival; they now
keep its month, or its hour near a month's end (as Stage Analysis does), so
that a user's own months are read from them in any time zone of whole hours.
The rows kept the old way are summed again."""

from odoo import SUPERUSER_ID, api

from odoo.addons.sales_funnel.report.crm_funnel_source_sums import (
    refill_monthly_source_sums,
)


def migrate(cr, version):
    refill_monthly_source_sums(api.Environment(cr, SUPERUSER_ID, {}))
