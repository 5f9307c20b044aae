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
    sales_funnel_handoff_confirm_order = fields.Boolean(
        string="Confirm Handed-off Orders",
        default=True,
        help="Confirm the sales order created from a won deal at once (contracts "
        "are created on confirmation). Untick to review the quotations first.",
    )
    sales_funnel_order_endpoint_url = fields.Char(
        string="Order System URL",
        help="Also post every won deal as JSON to this external order system.",
    )
    sales_funnel_order_endpoint_token = fields.Char(
        string="Order System Token", groups="base.group_system", copy=False
    )
    sales_funnel_order_endpoint_timeout = fields.Integer(
        string="Order System Timeout (s)", default=10
    )
