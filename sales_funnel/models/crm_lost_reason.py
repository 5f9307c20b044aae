from odoo import fields, models


class CrmLostReason(models.Model):
    _inherit = "crm.lost.reason"

    sales_funnel_competitor_required = fields.Boolean(
        string="Competitor Required",
        help="A loss for this reason names the competitor who won: the loss report "
        "is not complete without it.",
    )
