from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    sales_funnel_probability_mode = fields.Selection(
        related="company_id.sales_funnel_probability_mode",
        readonly=False,
    )
    sales_funnel_handoff_confirm_order = fields.Boolean(
        related="company_id.sales_funnel_handoff_confirm_order", readonly=False
    )
    sales_funnel_order_endpoint_url = fields.Char(
        related="company_id.sales_funnel_order_endpoint_url", readonly=False
    )
    sales_funnel_order_endpoint_token = fields.Char(
        related="company_id.sales_funnel_order_endpoint_token",
        readonly=False,
        groups="base.group_system",
    )
    sales_funnel_order_endpoint_timeout = fields.Integer(
        related="company_id.sales_funnel_order_endpoint_timeout", readonly=False
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
    sales_funnel_selfcheck_weekday = fields.Selection(
        related="company_id.sales_funnel_selfcheck_weekday", readonly=False
    )
    sales_funnel_selfcheck_deadline_days = fields.Integer(
        related="company_id.sales_funnel_selfcheck_deadline_days", readonly=False
    )
    sales_funnel_inspection_days = fields.Integer(
        related="company_id.sales_funnel_inspection_days", readonly=False
    )
