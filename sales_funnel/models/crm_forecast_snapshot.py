from odoo import api, fields, models
from odoo.tools import SQL, date_utils, float_compare

from .. import funnel_terms as terms
from ..jobs import run_batches
from .crm_forecast_submission import FORECAST_PERIOD_TYPES, next_period_start

LEVELS = [
    ("salesperson", "Salesperson"),
    ("team", "Sales Team"),
    ("company", "Company"),
]


class CrmForecastSnapshot(models.Model):
    _name = "crm.forecast.snapshot"
    _inherit = ["crm.immutable.mixin"]
    _description = "Sales Forecast Snapshot"
    _order = "date_from desc, company_id, level, id"
    _check_company_auto = True

    snapshot_date = fields.Date(required=True, readonly=True, index=True)
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    level = fields.Selection(LEVELS, required=True, readonly=True)
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        readonly=True,
        index=True,
        check_company=True,
        ondelete="restrict",
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        readonly=True,
        index=True,
        check_company=True,
        ondelete="restrict",
    )
    period_type = fields.Selection(FORECAST_PERIOD_TYPES, required=True, readonly=True)
    date_from = fields.Date(string="Period Start", required=True, readonly=True)
    date_to = fields.Date(string="Period End", required=True, readonly=True)
    system_amount = fields.Monetary(string="System Forecast", readonly=True)
    submission_id = fields.Many2one(
        "crm.forecast.submission",
        readonly=True,
        help="The latest forecast submitted before the snapshot.",
    )
    submitted_amount = fields.Monetary(string="Submitted Forecast", readonly=True)
    forecast_amount = fields.Monetary(
        readonly=True,
        help="The submitted forecast, or the system forecast when none was "
        "submitted: the figure whose accuracy is measured.",
    )
    state = fields.Selection(
        [("pending", "Period Not Over"), ("evaluated", "Evaluated")],
        default="pending",
        required=True,
        readonly=True,
        index=True,
    )
    actual_amount = fields.Monetary(
        string="Actual Won",
        readonly=True,
        help="Expected revenue of the opportunities won (closed) in the period, "
        "company currency.",
    )
    error_pct = fields.Float(
        string="Error (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="|forecast − actual| ÷ actual × 100. When nothing was won, the "
        "error is 0% for a zero forecast and 100% otherwise.",
    )
    system_error_pct = fields.Float(
        string="System Error (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="The same error for the system forecast.",
    )
    tolerance_pct = fields.Float(
        string="Tolerance (%)",
        readonly=True,
        aggregator="avg",
        help="The company's tolerance for this level when the period was evaluated.",
    )
    within_tolerance = fields.Boolean(readonly=True, index=True)

    @api.depends("level", "user_id", "team_id", "company_id", "date_from")
    def _compute_display_name(self):
        for snapshot in self:
            owner = snapshot.user_id or snapshot.team_id or snapshot.company_id
            snapshot.display_name = self.env._(
                "Forecast of %(owner)s from %(date)s",
                owner=owner.display_name or "",
                date=snapshot.date_from or "",
            )

    # ------------------------------------------------------------------
    # Cron
    # ------------------------------------------------------------------

    @api.model
    def _cron_forecast_snapshots(self):
        """Daily: on each company's snapshot day, freeze the forecasts of next
        month and next quarter; evaluate the snapshots whose period is over."""
        today = fields.Date.context_today(self)
        snapshots = self.sudo()

        def step():
            # One company's snapshots, then one period's evaluation, a batch.
            companies = self.env["res.company"].search(
                [("sales_funnel_snapshot_day", "=", today.day)]
            )
            taken = snapshots.search([("snapshot_date", "=", today)]).company_id
            todo = companies - taken
            groups = snapshots._pending_evaluations(today)
            if todo:
                snapshots._take_snapshots(todo[0], today)
                return 1, len(todo) - 1 + len(groups)
            if groups:
                evaluated = snapshots._evaluate_snapshots(today, groups[:1])
                return len(evaluated), len(groups) - 1
            return 0, 0

        run_batches(self.env, step)

    def _take_snapshots(self, company, today):
        vals_list = []
        for period_type, _label in FORECAST_PERIOD_TYPES:
            date_from = next_period_start(today, period_type)
            date_to = date_utils.end_of(date_from, period_type)
            vals_list += self._prepare_period_snapshots(
                company, period_type, date_from, date_to, today
            )
        return self._create_record(vals_list)

    def _prepare_period_snapshots(self, company, period_type, date_from, date_to, day):
        Submission = self.env["crm.forecast.submission"]
        common = {
            "snapshot_date": day,
            "company_id": company.id,
            "period_type": period_type,
            "date_from": date_from,
            "date_to": date_to,
        }
        latest = self._latest_submissions(company, period_type, date_from)
        owners = {
            "salesperson": self._owners_with_opportunities(company, "user_id"),
            "team": self._owners_with_opportunities(company, "team_id")
            | set(self.env["crm.team"].search([("company_id", "=", company.id)]).ids),
            "company": {company.id},
        }
        vals_list = []
        for level, owner_ids in owners.items():
            system = Submission._weighted_forecast(company, date_from, date_to, level)
            owner_ids |= {owner for (__, owner) in system}
            owner_ids |= {owner for (lvl, owner) in latest if lvl == level}
            owner_field = {"salesperson": "user_id", "team": "team_id"}.get(level)
            for owner_id in sorted(owner_ids):
                submission = latest.get((level, owner_id), Submission)
                system_amount = system.get((company.id, owner_id), 0.0)
                vals = dict(
                    common,
                    level=level,
                    system_amount=system_amount,
                    submission_id=submission.id,
                    submitted_amount=submission.amount,
                    forecast_amount=(
                        submission.amount if submission else system_amount
                    ),
                )
                if owner_field:
                    vals[owner_field] = owner_id
                vals_list.append(vals)
        return vals_list

    def _owners_with_opportunities(self, company, column):
        """Ids of the salespeople (``user_id``) or teams (``team_id``) with open
        opportunities in the company."""
        self.env["crm.lead"].flush_model([*terms.LEAD_COLUMNS, "company_id", column])
        self.env["crm.stage"].flush_model(terms.STAGE_COLUMNS)
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT %(owner)s
                  FROM crm_lead lead
                  JOIN crm_stage stage ON stage.id = lead.stage_id
                 WHERE %(open)s
                   AND lead.company_id = %(company)s
                   AND %(owner)s IS NOT NULL
                """,
                owner=SQL.identifier("lead", column),
                open=terms.open_opportunity("lead", "stage"),
                company=company.id,
            )
        )
        return {row[0] for row in rows}

    def _latest_submissions(self, company, period_type, date_from):
        """{(level, owner_id): submission}: the latest submitted forecast of
        each salesperson, team and the company for the period."""
        Submission = self.env["crm.forecast.submission"]
        Submission.flush_model()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT ON (level, owner_id) level, owner_id, id
                  FROM (
                       SELECT level, id, submit_date,
                              COALESCE(user_id, team_id, company_id) AS owner_id
                         FROM crm_forecast_submission
                        WHERE state = 'submitted' AND company_id = %(company)s
                          AND period_type = %(period_type)s
                          AND date_from = %(date_from)s
                       ) submission
                 ORDER BY level, owner_id, submit_date DESC, id DESC
                """,
                company=company.id,
                period_type=period_type,
                date_from=date_from,
            )
        )
        return {(level, owner): Submission.browse(sid) for level, owner, sid in rows}

    def _pending_evaluations(self, today):
        """[(company, date_from, date_to)] of the snapshots to evaluate: their
        period is over."""
        return [
            (company, date_from, date_to)
            for company, date_from, date_to in self._read_group(
                [("state", "=", "pending"), ("date_to", "<", today)],
                ["company_id", "date_from:day", "date_to:day"],
                order="company_id, date_from:day, date_to:day",
            )
        ]

    def _evaluate_snapshots(self, today, groups=None):
        """Evaluate the snapshots whose period is over (those of ``groups``,
        from ``_pending_evaluations``); returns them."""
        evaluated = self.browse()
        pending = self.search([("state", "=", "pending"), ("date_to", "<", today)])
        for (company, date_from, date_to), snapshots in pending.grouped(
            lambda s: (s.company_id, s.date_from, s.date_to)
        ).items():
            if groups is not None and (company, date_from, date_to) not in groups:
                continue
            actual = self._won_amounts(company, date_from, date_to)
            tolerance = {
                "salesperson": company.sales_funnel_tolerance_salesperson,
                "team": company.sales_funnel_tolerance_team,
                "company": company.sales_funnel_tolerance_company,
            }
            for snapshot in snapshots:
                owner = snapshot.user_id or snapshot.team_id or snapshot.company_id
                won = actual.get((snapshot.level, owner.id), 0.0)
                error = self._error_pct(snapshot.forecast_amount, won, company)
                snapshot._write_record(
                    {
                        "state": "evaluated",
                        "actual_amount": won,
                        "error_pct": error,
                        "system_error_pct": self._error_pct(
                            snapshot.system_amount, won, company
                        ),
                        "tolerance_pct": tolerance[snapshot.level],
                        "within_tolerance": float_compare(
                            error, tolerance[snapshot.level], precision_digits=2
                        )
                        <= 0,
                    }
                )
            evaluated |= snapshots
        return evaluated

    @api.model
    def _error_pct(self, forecast, actual, company):
        """|forecast − actual| ÷ actual in %; with nothing won, 0% for a zero
        forecast and 100% (the whole forecast missed) otherwise."""
        currency = company.currency_id
        if currency.is_zero(actual):
            return 0.0 if currency.is_zero(forecast) else 100.0
        return round(abs(forecast - actual) / actual * 100.0, 2)

    def _won_amounts(self, company, date_from, date_to):
        """{(level, owner_id): won amount} of the opportunities won in the
        period (period date of the deal in [date_from, date_to], UTC), company
        currency."""
        self.env["crm.lead"].flush_model(
            [*terms.LEAD_COLUMNS, "company_id", "user_id", "team_id"]
        )
        self.env["crm.stage"].flush_model(terms.STAGE_COLUMNS)
        rows = self.env.execute_query(
            SQL(
                """
                SELECT GROUPING(lead.user_id), GROUPING(lead.team_id),
                       lead.user_id, lead.team_id, SUM(lead.expected_revenue)
                  FROM crm_lead lead
                  JOIN crm_stage stage ON stage.id = lead.stage_id
                 WHERE %(won)s
                   AND lead.company_id = %(company)s
                   AND %(date)s BETWEEN %(start)s AND %(stop)s
                 GROUP BY GROUPING SETS ((lead.user_id), (lead.team_id), ())
                """,
                won=terms.won_opportunity("lead", "stage"),
                date=terms.won_deal_date("lead"),
                company=company.id,
                start=date_from,
                stop=date_to,
            )
        )
        won = {}
        for user_rolled_up, team_rolled_up, user_id, team_id, amount in rows:
            amount = company.currency_id.round(amount or 0.0)
            if not user_rolled_up:
                won[("salesperson", user_id)] = amount
            elif not team_rolled_up:
                won[("team", team_id)] = amount
            else:
                won[("company", company.id)] = amount
        return won
