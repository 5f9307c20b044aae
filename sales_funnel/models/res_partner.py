from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    sales_funnel_is_competitor = fields.Boolean(
        string="Competitor",
        index="btree_not_null",
        help="A company we compete with: loss reports name it as the one who won.",
    )

    # 规模: a slice of the forecast and funnel reports, and one of the facts
    # a deal needs before it leaves Verification.
    company_size = fields.Selection(
        [
            ("micro", "Micro (under 10 staff)"),
            ("small", "Small (10-99 staff)"),
            ("medium", "Medium (100-999 staff)"),
            ("large", "Large (1,000 staff or more)"),
        ],
        tracking=True,
        help="The customer's size, a slice of the funnel and forecast reports.",
    )
