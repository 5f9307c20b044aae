"""Every opportunity has one of the four sources (商机来源): give those of an
installed database the source their facts give (a campaign, a referrer, a
customer that had won before, otherwise found by the salesperson)."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["crm.lead"]._fill_missing_funnel_sources()
