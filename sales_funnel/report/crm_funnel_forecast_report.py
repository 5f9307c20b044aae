from odoo import api, fields, models, tools
from odoo.tools import SQL

from .. import funnel_terms as terms
from ..models.crm_grade_matrix import GRADES

# Partial indexes of crm_lead that serve the forecast: its rows are the active
# opportunities, filtered by period, person, team or stage.
FORECAST_INDEXES = {
    "crm_lead_sf_forecast_deadline_idx": ["date_deadline"],
    "crm_lead_sf_forecast_user_deadline_idx": ["user_id", "date_deadline"],
    "crm_lead_sf_forecast_team_deadline_idx": ["team_id", "date_deadline"],
    "crm_lead_sf_forecast_stage_deadline_idx": ["stage_id", "date_deadline"],
    "crm_lead_sf_forecast_company_deadline_idx": ["company_id", "date_deadline"],
    "crm_lead_sf_forecast_closed_idx": ["date_closed"],
}
FORECAST_INDEX_WHERE = "active AND type = 'opportunity'"


class CrmFunnelForecastReport(models.Model):
    """Weighted forecast 销售预测: one row per active opportunity.

    Open opportunities count in the period of their expected closing with
    amount × stage win rate; won ones count in the period they were won with
    their full amount. Σ won + Σ weighted is what a period target
    (``crm.sales.target``) is compared with: join on salesperson / team /
    company and the period of ``date``.
    """

    _name = "crm.funnel.forecast.report"
    _description = "Weighted Forecast Analysis"
    _auto = False
    _rec_name = "lead_id"
    _order = "date, id"
    _depends = {
        "crm.lead": [
            "active",
            "type",
            "stage_id",
            "user_id",
            "team_id",
            "company_id",
            "partner_id",
            "source_id",
            "country_id",
            "state_id",
            "expected_revenue",
            "date_deadline",
            "date_closed",
            "date_last_stage_update",
        ],
        "crm.stage": ["sequence", "is_won", "win_rate", "team_id"],
        "res.partner": ["industry_id", "commercial_partner_id", "company_size"],
    }

    lead_id = fields.Many2one("crm.lead", string="Opportunity", readonly=True)
    state = fields.Selection(
        [("open", "Open"), ("won", "Won")], string="Status", readonly=True
    )
    date = fields.Date(
        string="Period Date",
        readonly=True,
        help="Expected closing of an open opportunity, closing date of a won one.",
    )
    stage_id = fields.Many2one("crm.stage", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    source_id = fields.Many2one("utm.source", readonly=True)
    industry_id = fields.Many2one("res.partner.industry", readonly=True)
    company_size = fields.Selection(
        lambda self: self.env["res.partner"]._fields["company_size"].selection,
        readonly=True,
        help="Size of the customer's company.",
    )
    country_id = fields.Many2one("res.country", readonly=True)
    state_id = fields.Many2one("res.country.state", string="Region", readonly=True)
    grade = fields.Selection(GRADES, string="Opportunity Grade", readonly=True)
    is_closing = fields.Boolean(
        string="In Closing Stage",
        readonly=True,
        help="The opportunity is in the last stage before Won of its team's pipeline.",
    )
    win_rate = fields.Float(
        string="Stage Win Rate (%)", readonly=True, aggregator="avg"
    )
    currency_id = fields.Many2one("res.currency", compute="_compute_currency_id")
    amount = fields.Monetary(
        readonly=True,
        help="Expected revenue, converted to the currency of the current company.",
    )
    weighted_amount = fields.Monetary(
        readonly=True, help="Open opportunities: amount × stage win rate."
    )
    committed_amount = fields.Monetary(
        readonly=True, help="Amount of the open opportunities in the Closing stage."
    )
    won_amount = fields.Monetary(readonly=True)
    forecast_amount = fields.Monetary(
        string="Won + Weighted",
        readonly=True,
        help="What is compared with the period target.",
    )
    opportunity_count = fields.Integer(string="Opportunities", readonly=True)

    @api.depends_context("allowed_company_ids")
    def _compute_currency_id(self):
        self.currency_id = self.env.company.currency_id

    def init(self):
        for name, columns in FORECAST_INDEXES.items():
            tools.create_index(
                self.env.cr, name, "crm_lead", columns, where=FORECAST_INDEX_WHERE
            )

    # The query, in parts an extension can change (as sale.report's): one
    # branch of open opportunities, one of won ones.

    @property
    def _table_query(self):
        return self._query()

    def _query(self):
        return SQL("%s UNION ALL %s", self._branch(won=False), self._branch(won=True))

    def _branch(self, won):
        return SQL(
            "SELECT %s FROM %s WHERE %s",
            self._select(won),
            self._from(),
            self._where(won),
        )

    def _period_tz(self):
        """The time zone of the won deals' closing dates: the user's."""
        return self.env.context.get("tz") or self.env.user.tz or "UTC"

    def _amount(self):
        """Expected revenue in the current company's currency."""
        return SQL("lead.expected_revenue * COALESCE(account_currency_table.rate, 1)")

    def _select(self, won):
        amount = self._amount()
        zero = SQL("0.0")
        weighted = zero if won else terms.weighted_amount(amount)
        if won:
            date = terms.won_deal_date("lead", self._period_tz())
        else:
            date = terms.open_deal_date("lead")
        closing = terms.closing_stage(SQL("lead.stage_id"), SQL("lead.team_id"))
        return SQL(
            """
            lead.id AS id,
            lead.id AS lead_id,
            %(state)s AS state,
            %(date)s AS date,
            lead.stage_id,
            lead.user_id,
            lead.team_id,
            lead.company_id,
            lead.partner_id,
            lead.source_id,
            partner.industry_id,
            commercial.company_size,
            lead.country_id,
            lead.state_id,
            lead.grade,
            %(is_closing)s AS is_closing,
            stage.win_rate,
            %(amount)s AS amount,
            %(weighted)s AS weighted_amount,
            %(committed)s AS committed_amount,
            %(won_amount)s AS won_amount,
            %(forecast)s AS forecast_amount,
            1 AS opportunity_count
            """,
            state="won" if won else "open",
            date=date,
            is_closing=SQL("FALSE") if won else closing,
            amount=amount,
            weighted=weighted,
            committed=zero
            if won
            else terms.committed_amount(
                amount, SQL("lead.stage_id"), SQL("lead.team_id")
            ),
            won_amount=amount if won else zero,
            forecast=amount if won else weighted,
        )

    def _from(self):
        currency_table = self.env["res.currency"]._get_simple_currency_table(
            self.env.companies
        )
        return SQL(
            """
            crm_lead lead
            JOIN crm_stage stage ON stage.id = lead.stage_id
            LEFT JOIN res_partner partner ON partner.id = lead.partner_id
            LEFT JOIN res_partner commercial
                   ON commercial.id = partner.commercial_partner_id
            LEFT JOIN %(currency_table)s
                   ON account_currency_table.company_id = lead.company_id
            """,
            currency_table=currency_table,
        )

    def _where(self, won):
        if won:
            return terms.won_opportunity("lead", "stage")
        return terms.open_opportunity("lead", "stage")
