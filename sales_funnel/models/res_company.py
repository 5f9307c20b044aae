from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    sales_funnel_probability_mode = fields.Selection(
        [
            ("stage", "Stage win rate"),
            ("pls", "Predictive lead scoring"),
        ],
        string="Opportunity Probability",
        default="stage",
        required=True,
        help="Stage win rate: an opportunity's probability is always the preset "
        "win rate of its stage (Won 100%, Lost 0%).\n"
        "Predictive lead scoring: keep Odoo's automatic probability.",
    )
