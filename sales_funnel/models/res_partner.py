from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    sales_funnel_is_competitor = fields.Boolean(
        string="Competitor",
        index="btree_not_null",
        help="A company we compete with: loss reports name it as the one who won.",
    )
