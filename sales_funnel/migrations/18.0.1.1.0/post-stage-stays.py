"""Stage Analysis reads rows kept by triggers (crm_funnel_stage_stay.py).

The report's init() creates the table, its triggers and its rows on a
database without them; this makes sure an upgraded database has them.
"""

from odoo import SUPERUSER_ID, api

from odoo.addons.sales_funnel.report.crm_funnel_stage_stay import setup_stage_stays


def migrate(cr, version):
    setup_stage_stays(api.Environment(cr, SUPERUSER_ID, {}))
