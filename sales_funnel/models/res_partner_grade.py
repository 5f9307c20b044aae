from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    # Facts the pre-assessment rules of the opportunity grade read.
    sales_funnel_strategic_account = fields.Boolean(
        string="Strategic Account",
        tracking=True,
        help="Its opportunities are graded A directly (pre-assessment).",
    )
    sales_funnel_credit_failed = fields.Boolean(
        string="Credit Check Failed",
        tracking=True,
        help="Its opportunities are graded D directly (pre-assessment) and its "
        "risk indicator scores 1.",
    )
