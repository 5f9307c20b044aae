from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    sales_funnel_probability_mode = fields.Selection(
        related="company_id.sales_funnel_probability_mode",
        readonly=False,
    )
    sales_funnel_snapshot_day = fields.Integer(
        related="company_id.sales_funnel_snapshot_day",
        readonly=False,
    )
    sales_funnel_tolerance_salesperson = fields.Float(
        related="company_id.sales_funnel_tolerance_salesperson",
        readonly=False,
    )
    sales_funnel_tolerance_team = fields.Float(
        related="company_id.sales_funnel_tolerance_team",
        readonly=False,
    )
    sales_funnel_tolerance_company = fields.Float(
        related="company_id.sales_funnel_tolerance_company",
        readonly=False,
    )
