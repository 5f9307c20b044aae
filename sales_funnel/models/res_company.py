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
    # Forecast accuracy (销售预测准确度): snapshot day and tolerance per level.
    sales_funnel_snapshot_day = fields.Integer(
        string="Forecast Snapshot Day",
        default=1,
        help="Day of the month on which the forecasts of next month and next "
        "quarter are frozen for the accuracy report (1-28).",
    )
    sales_funnel_tolerance_salesperson = fields.Float(
        string="Salesperson Forecast Tolerance (%)",
        default=35.0,
        help="A salesperson's forecast is accurate when it is within this "
        "percentage of the amount actually won.",
    )
    sales_funnel_tolerance_team = fields.Float(
        string="Team Forecast Tolerance (%)",
        default=25.0,
        help="A sales team's (department manager's) forecast is accurate when it "
        "is within this percentage of the amount actually won.",
    )
    sales_funnel_tolerance_company = fields.Float(
        string="Company Forecast Tolerance (%)",
        default=20.0,
        help="The company's (director's) forecast is accurate when it is within "
        "this percentage of the amount actually won.",
    )

    _sql_constraints = [
        (
            "sales_funnel_snapshot_day_range",
            "CHECK(sales_funnel_snapshot_day BETWEEN 1 AND 28)",
            "The forecast snapshot day must be between 1 and 28.",
        ),
    ]

    def write(self, vals):
        back_to_stage = vals.get("sales_funnel_probability_mode") == "stage" and any(
            company.sales_funnel_probability_mode == "pls" for company in self
        )
        res = super().write(vals)
        if back_to_stage:
            # Back from predictive scoring: every probability follows its stage
            # again at once, not only when an opportunity is next edited.
            self.env["crm.lead"].sudo()._sales_funnel_sync_probabilities()
        return res
