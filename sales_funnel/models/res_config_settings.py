from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    sales_funnel_probability_mode = fields.Selection(
        related="company_id.sales_funnel_probability_mode",
        readonly=False,
    )
