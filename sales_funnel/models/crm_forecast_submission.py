from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL, date_utils

from .. import funnel_terms as terms

FORECAST_PERIOD_TYPES = [
    ("month", "Month"),
    ("quarter", "Quarter"),
]


def next_period_start(today, period_type):
    """First day of the month/quarter after the one containing ``today``."""
    return date_utils.end_of(today, period_type) + timedelta(days=1)


class CrmForecastSubmission(models.Model):
    _name = "crm.forecast.submission"
    _inherit = ["crm.immutable.mixin"]
    _description = "Sales Forecast Submission"
    _order = "date_from desc, submit_date desc, id desc"
    _check_company_auto = True

    submitter_id = fields.Many2one(
        "res.users",
        string="Submitted By",
        required=True,
        readonly=True,
        default=lambda self: self.env.user,
    )
    level = fields.Selection(
        [
            ("salesperson", "Salesperson"),
            ("team", "Sales Team"),
            ("company", "Company"),
        ],
        required=True,
        default="salesperson",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        index=True,
        check_company=True,
        ondelete="restrict",
        compute="_compute_owner",
        store=True,
        readonly=False,
        precompute=True,
        domain="[('share', '=', False)]",
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        index=True,
        check_company=True,
        ondelete="restrict",
        compute="_compute_owner",
        store=True,
        readonly=False,
        precompute=True,
    )
    period_type = fields.Selection(
        FORECAST_PERIOD_TYPES, required=True, default="month"
    )
    date_from = fields.Date(
        string="Period Start",
        compute="_compute_date_from",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
        help="First day of the forecast month or quarter (next one by default).",
    )
    date_to = fields.Date(
        string="Period End", compute="_compute_date_to", store=True, precompute=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    system_amount = fields.Monetary(
        string="System Forecast",
        compute="_compute_system_amount",
        store=True,
        precompute=True,
        help="Σ expected revenue × stage win rate of the open opportunities "
        "expected to close in the period (company currency).",
    )
    amount = fields.Monetary(
        string="Submitted Forecast",
        compute="_compute_amount",
        store=True,
        readonly=False,
        precompute=True,
        help="The forecast you commit to; explain in the comment why it differs "
        "from the system forecast.",
    )
    members_amount = fields.Monetary(
        string="Members' Forecasts",
        compute="_compute_members_amount",
        help="Sum of the latest forecasts submitted by the team members for the "
        "same period.",
    )
    comment = fields.Text()
    state = fields.Selection(
        [("draft", "Draft"), ("submitted", "Submitted")],
        default="draft",
        required=True,
        readonly=True,
        index=True,
        copy=False,
    )
    submit_date = fields.Datetime(string="Submitted On", readonly=True, copy=False)

    _sql_constraints = [
        (
            "owner_matches_level",
            "CHECK((level = 'salesperson' AND user_id IS NOT NULL AND team_id IS NULL)"
            " OR (level = 'team' AND team_id IS NOT NULL AND user_id IS NULL)"
            " OR (level = 'company' AND user_id IS NULL AND team_id IS NULL))",
            "A salesperson forecast names the salesperson, a team forecast the sales "
            "team, a company forecast neither.",
        ),
    ]

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends("level")
    def _compute_owner(self):
        for submission in self:
            if submission.level != "salesperson":
                submission.user_id = False
            elif not submission.user_id:
                submission.user_id = self.env.user
            if submission.level != "team":
                submission.team_id = False

    @api.depends("period_type")
    def _compute_date_from(self):
        today = fields.Date.context_today(self)
        for submission in self:
            submission.date_from = next_period_start(today, submission.period_type)

    @api.depends("period_type", "date_from")
    def _compute_date_to(self):
        for submission in self:
            submission.date_to = submission.date_from and date_utils.end_of(
                submission.date_from, submission.period_type
            )

    @api.depends("level", "user_id", "team_id", "company_id", "date_from", "date_to")
    def _compute_system_amount(self):
        for (date_from, date_to), submissions in self.grouped(
            lambda s: (s.date_from, s.date_to)
        ).items():
            if not date_from or not date_to:
                submissions.system_amount = 0.0
                continue
            for level, same_level in submissions.grouped("level").items():
                amounts = self._weighted_forecast(
                    same_level.company_id, date_from, date_to, level
                )
                for submission in same_level:
                    submission.system_amount = amounts.get(
                        (submission.company_id.id, submission._owner_id()), 0.0
                    )

    @api.depends("system_amount")
    def _compute_amount(self):
        for submission in self:
            submission.amount = submission.system_amount

    @api.depends("level", "team_id", "company_id", "period_type", "date_from")
    def _compute_members_amount(self):
        teams = self.filtered(lambda s: s.level == "team" and s.team_id and s.date_from)
        (self - teams).members_amount = 0.0
        if not teams:
            return
        self.flush_model()
        self.env["crm.team.member"].flush_model(["crm_team_id", "user_id", "active"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT member.crm_team_id, latest.company_id, latest.period_type,
                       latest.date_from, SUM(latest.amount)
                  FROM (
                       SELECT DISTINCT ON (company_id, period_type, date_from, user_id)
                              company_id, period_type, date_from, user_id, amount
                         FROM crm_forecast_submission
                        WHERE level = 'salesperson' AND state = 'submitted'
                          AND company_id IN %(companies)s
                          AND date_from IN %(dates)s
                        ORDER BY company_id, period_type, date_from, user_id,
                                 submit_date DESC, id DESC
                       ) latest
                  JOIN crm_team_member member
                    ON member.user_id = latest.user_id AND member.active
                 WHERE member.crm_team_id IN %(teams)s
                 GROUP BY member.crm_team_id, latest.company_id, latest.period_type,
                          latest.date_from
                """,
                companies=tuple(teams.company_id.ids),
                dates=tuple(set(teams.mapped("date_from"))),
                teams=tuple(teams.team_id.ids),
            )
        )
        sums = {row[:4]: row[4] for row in rows}
        for submission in teams:
            submission.members_amount = sums.get(
                (
                    submission.team_id.id,
                    submission.company_id.id,
                    submission.period_type,
                    submission.date_from,
                ),
                0.0,
            )

    def _owner_id(self):
        self.ensure_one()
        return {
            "salesperson": self.user_id.id,
            "team": self.team_id.id,
            "company": self.company_id.id,
        }[self.level]

    @api.model
    def _weighted_forecast(self, companies, date_from, date_to, level):
        """System forecast of a period: Σ expected revenue × stage win rate of
        the open opportunities (not won, not lost) whose expected closing date
        falls in [date_from, date_to], per company and per salesperson, team or
        company (``level``). Amounts are in the company currency, as crm.lead's
        expected revenue. Returns ``{(company_id, owner_id): amount}``."""
        owner = {
            "salesperson": SQL("lead.user_id"),
            "team": SQL("lead.team_id"),
            "company": SQL("lead.company_id"),
        }[level]
        if not companies:
            return {}
        self.env["crm.lead"].flush_model(
            [*terms.LEAD_COLUMNS, "company_id", "user_id", "team_id"]
        )
        self.env["crm.stage"].flush_model(terms.STAGE_COLUMNS)
        rows = self.env.execute_query(
            SQL(
                """
                SELECT lead.company_id, %(owner)s, SUM(%(weighted)s)
                  FROM crm_lead lead
                  JOIN crm_stage stage ON stage.id = lead.stage_id
                 WHERE %(open)s
                   AND lead.company_id IN %(companies)s
                   AND %(date)s BETWEEN %(date_from)s AND %(date_to)s
                   AND %(owner)s IS NOT NULL
                 GROUP BY lead.company_id, %(owner)s
                """,
                owner=owner,
                weighted=terms.weighted_amount(SQL("lead.expected_revenue")),
                open=terms.open_opportunity("lead", "stage"),
                date=terms.open_deal_date("lead"),
                companies=tuple(companies.ids),
                date_from=date_from,
                date_to=date_to,
            )
        )
        currencies = {company.id: company.currency_id for company in companies}
        return {
            (company_id, owner_id): currencies[company_id].round(amount or 0.0)
            for company_id, owner_id, amount in rows
        }

    # ------------------------------------------------------------------
    # Constraints and CRUD
    # ------------------------------------------------------------------

    @api.constrains("period_type", "date_from")
    def _check_period(self):
        for submission in self:
            start = date_utils.start_of(submission.date_from, submission.period_type)
            if submission.date_from != start:
                raise ValidationError(
                    self.env._(
                        "A forecast period starts on the first day of a month or "
                        "quarter: %(date)s is not one (use %(start)s).",
                        date=submission.date_from,
                        start=start,
                    )
                )

    @api.constrains("amount", "system_amount", "comment", "state")
    def _check_comment(self):
        for submission in self:
            if (
                submission.state == "submitted"
                and submission.currency_id.compare_amounts(
                    submission.amount, submission.system_amount
                )
                and not (submission.comment or "").strip()
            ):
                raise ValidationError(
                    self.env._(
                        "Your forecast %(amount)s differs from the system forecast "
                        "%(system)s: explain why in the comment.",
                        amount=submission.currency_id.format(submission.amount),
                        system=submission.currency_id.format(submission.system_amount),
                    )
                )

    def _is_mutable(self):
        # A submitted forecast is kept as submitted: submit a new one instead.
        self.ensure_one()
        return self.state == "draft"

    @api.depends("level", "user_id", "team_id", "company_id", "date_from")
    def _compute_display_name(self):
        for submission in self:
            owner = {
                "salesperson": submission.user_id,
                "team": submission.team_id,
                "company": submission.company_id,
            }.get(submission.level)
            submission.display_name = self.env._(
                "Forecast of %(owner)s from %(date)s",
                owner=owner.display_name if owner else "",
                date=submission.date_from or "",
            )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_submit(self):
        """Submit drafts. The system forecast is refreshed at submission; an
        amount left at the former system figure follows the fresh one."""
        self._check_mutable()
        for submission in self:
            fresh = self._weighted_forecast(
                submission.company_id,
                submission.date_from,
                submission.date_to,
                submission.level,
            ).get((submission.company_id.id, submission._owner_id()), 0.0)
            amount = submission.amount
            if not submission.currency_id.compare_amounts(
                amount, submission.system_amount
            ):
                amount = fresh
            submission.write(
                {
                    "system_amount": fresh,
                    "amount": amount,
                    "submit_date": fields.Datetime.now(),
                    "state": "submitted",
                }
            )
        return True

    def action_open_member_submissions(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Members' Forecasts"),
            "res_model": self._name,
            "view_mode": "list,form",
            "domain": [
                ("level", "=", "salesperson"),
                ("user_id", "in", self.team_id.member_ids.ids),
                ("company_id", "=", self.company_id.id),
                ("period_type", "=", self.period_type),
                ("date_from", "=", self.date_from),
            ],
        }
