"""The Stuck filter reads two stored dates of crm_lead (crm_lead_stuck.py).

The model creates and fills the columns when it first sees a database
without them (one UPDATE instead of a computation per opportunity); this
recount makes sure an upgraded database holds exactly what the sources say.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    api.Environment(cr, SUPERUSER_ID, {})["crm.lead"]._update_stuck_dates()
