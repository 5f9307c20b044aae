from urllib.parse import urlsplit

from odoo import api, fields, models
from odoo.exceptions import ValidationError

ORDER_ENDPOINT_MAX_TIMEOUT = 300  # seconds; a hand-off tries three times
WEEKDAYS = [
    ("0", "Monday"),
    ("1", "Tuesday"),
    ("2", "Wednesday"),
    ("3", "Thursday"),
    ("4", "Friday"),
    ("5", "Saturday"),
    ("6", "Sunday"),
]


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
        string="Order System Timeout (s)",
        default=10,
        help="Seconds to wait for the order system's answer (1-300).",
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

    # The inspection rhythm (周自检, 一对一检查): see crm.funnel.selfcheck.
    sales_funnel_selfcheck_weekday = fields.Selection(
        WEEKDAYS,
        string="Weekly Self-Check Day",
        default="4",
        required=True,
        help="Day of the week on which every salesperson's weekly self-check of "
        "their funnel is prepared.",
    )
    sales_funnel_selfcheck_deadline_days = fields.Integer(
        string="Self-Check Deadline (Days)",
        default=3,
        help="Days the salesperson has to submit the weekly self-check; a reminder "
        "follows when it is still not submitted after that.",
    )
    sales_funnel_inspection_days = fields.Integer(
        string="Inspection Interval (Days)",
        default=14,
        help="Funnel Health flags a weak inspection (检查不力) when no one-to-one "
        "review of the salesperson's self-checks was signed within this many days.",
    )

    _sql_constraints = [
        (
            "sales_funnel_snapshot_day_range",
            "CHECK(sales_funnel_snapshot_day BETWEEN 1 AND 28)",
            "The forecast snapshot day must be between 1 and 28.",
        ),
    ]

    @api.constrains("sales_funnel_snapshot_day")
    def _check_sales_funnel_snapshot_day(self):
        for company in self:
            if not 1 <= company.sales_funnel_snapshot_day <= 28:
                raise ValidationError(
                    self.env._(
                        "%(company)s: the forecast snapshot day must be a day of the "
                        "month between 1 and 28, not %(day)s.",
                        company=company.name,
                        day=company.sales_funnel_snapshot_day,
                    )
                )

    @api.constrains(
        "sales_funnel_selfcheck_deadline_days", "sales_funnel_inspection_days"
    )
    def _check_sales_funnel_inspection_rhythm(self):
        for company in self:
            if not 0 <= company.sales_funnel_selfcheck_deadline_days <= 6:
                raise ValidationError(
                    self.env._(
                        "%(company)s: the self-check deadline must be between 0 and "
                        "6 days after the self-check day, not %(days)s.",
                        company=company.name,
                        days=company.sales_funnel_selfcheck_deadline_days,
                    )
                )
            if company.sales_funnel_inspection_days < 1:
                raise ValidationError(
                    self.env._(
                        "%(company)s: the inspection interval must be at least one "
                        "day, not %(days)s.",
                        company=company.name,
                        days=company.sales_funnel_inspection_days,
                    )
                )

    @api.constrains(
        "sales_funnel_tolerance_salesperson",
        "sales_funnel_tolerance_team",
        "sales_funnel_tolerance_company",
    )
    def _check_sales_funnel_tolerances(self):
        for company in self:
            for field_name in (
                "sales_funnel_tolerance_salesperson",
                "sales_funnel_tolerance_team",
                "sales_funnel_tolerance_company",
            ):
                if not 0 <= company[field_name] <= 100:
                    raise ValidationError(
                        self.env._(
                            "%(company)s: “%(setting)s” must be between 0 and "
                            "100, not %(value)s.",
                            company=company.name,
                            setting=company._fields[field_name]._description_string(
                                self.env
                            ),
                            value=company[field_name],
                        )
                    )

    @api.constrains("sales_funnel_order_endpoint_timeout")
    def _check_sales_funnel_order_endpoint_timeout(self):
        for company in self:
            timeout = company.sales_funnel_order_endpoint_timeout
            if not 1 <= timeout <= ORDER_ENDPOINT_MAX_TIMEOUT:
                raise ValidationError(
                    self.env._(
                        "%(company)s: the order system timeout must be between 1 "
                        "and %(max)s seconds, not %(timeout)s.",
                        company=company.name,
                        max=ORDER_ENDPOINT_MAX_TIMEOUT,
                        timeout=timeout,
                    )
                )

    @api.constrains("sales_funnel_order_endpoint_url")
    def _check_sales_funnel_order_endpoint_url(self):
        for company in self:
            url = company.sales_funnel_order_endpoint_url
            if url and not _is_http_url(url):
                raise ValidationError(
                    self.env._(
                        "%(company)s: the order system URL “%(url)s” is not a web "
                        "address: enter an http:// or https:// address such as "
                        "https://erp.example.com/api/orders.",
                        company=company.name,
                        url=url,
                    )
                )

    def write(self, vals):
        back_to_stage = vals.get("sales_funnel_probability_mode") == "stage" and any(
            company.sales_funnel_probability_mode == "pls" for company in self
        )
        res = super().write(vals)
        if back_to_stage:
            # Back from predictive scoring: every probability follows its stage
            # again at once, not only when an opportunity is next edited.
            self.env["crm.lead"].sudo()._sync_stage_probabilities()
        return res


def _is_http_url(url):
    """An absolute http(s) address with a host (and a valid port, if any)."""
    if any(char.isspace() for char in url):
        return False
    try:
        parts = urlsplit(url)
        return (
            parts.scheme in ("http", "https")
            and bool(parts.hostname)
            and (parts.port is None or parts.port > 0)
        )
    except ValueError:  # e.g. a port that is not a number
        return False
