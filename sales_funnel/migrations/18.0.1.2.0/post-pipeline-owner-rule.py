"""Pipeline as of a Date: the salespeople's rule reads the report's own
column ``owner_id`` (the opportunity's salesperson today) instead of
``lead_id.user_id``, the same opportunities, so that their pivots are summed
from the kept figures. The rule is noupdate: change it unless someone has
changed it meanwhile."""

from odoo import SUPERUSER_ID, api

OLD_DOMAIN = "['|', ('lead_id.user_id', '=', user.id), ('lead_id.user_id', '=', False)]"
NEW_DOMAIN = "['|', ('owner_id', '=', user.id), ('owner_id', '=', False)]"


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    rule = env.ref("sales_funnel.crm_funnel_pipeline_report_personal_rule", False)
    if rule and rule.domain_force.strip() == OLD_DOMAIN:
        rule.domain_force = NEW_DOMAIN
