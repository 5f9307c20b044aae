from datetime import timedelta

from odoo import fields
from odoo.tests import tagged
from odoo.tools import SQL

from .. import funnel_terms as terms
from .common import FunnelCase

AMOUNTS = ["weighted_amount:sum", "committed_amount:sum", "won_amount:sum"]


@tagged("post_install", "-at_install")
class TestForecastViewsAgree(FunnelCase):
    """A funnel figure is one number, whichever screen shows it: every screen's
    figure equals the evaluation of the term it is built from (funnel_terms)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Dashboard = cls.env["crm.funnel.dashboard"]
        # Out of the figures (archiving would lose them, which asks for reports).
        cls.env["crm.lead"].search([("id", "!=", cls.lead.id)]).unlink()

    def _terms(self, start, end):
        """The terms evaluated on crm_lead: weighted and committed amounts of the
        open opportunities and won amount of the won ones whose period date is
        in [start, end]."""
        self.env.flush_all()
        [row] = self.env.execute_query(
            SQL(
                """
                SELECT COALESCE(SUM(%(weighted)s) FILTER (WHERE %(open)s), 0),
                       COALESCE(SUM(%(committed)s) FILTER (WHERE %(open)s), 0),
                       COALESCE(SUM(lead.expected_revenue)
                                FILTER (WHERE %(won)s), 0)
                  FROM crm_lead lead
                  JOIN crm_stage stage ON stage.id = lead.stage_id
                 WHERE %(funnel)s AND %(date)s BETWEEN %(start)s AND %(end)s
                """,
                weighted=terms.weighted_amount(SQL("lead.expected_revenue")),
                committed=terms.committed_amount(
                    SQL("lead.expected_revenue"),
                    SQL("lead.stage_id"),
                    SQL("lead.team_id"),
                ),
                open=terms.open_opportunity(),
                won=terms.won_opportunity(),
                funnel=terms.funnel_opportunity(),
                date=terms.deal_date(),
                start=start,
                end=end,
            )
        )
        return dict(zip(("weighted", "committed", "won"), row, strict=True))

    def _screens(self, period):
        """{screen: {figure: amount}} of the period on every screen showing it."""
        kind, start, end = self.Dashboard._period_bounds(period)
        in_period = [("period", ">=", start), ("period", "<=", end)]
        [summary] = self.env["crm.funnel.summary"]._read_group(
            in_period,
            aggregates=AMOUNTS,
        )
        [details] = self.env["crm.funnel.forecast.report"]._read_group(
            [("date", ">=", start), ("date", "<=", end)],
            aggregates=AMOUNTS,
        )
        dashboard = self.Dashboard.get_data(period)["totals"]
        company = self.company.id
        system = self.env["crm.forecast.submission"]._weighted_forecast(
            self.company, start, end, "company"
        )
        won = self.env["crm.forecast.snapshot"]._won_amounts(self.company, start, end)
        figures = ("weighted", "committed", "won")
        return {
            "summary": dict(zip(figures, [v or 0.0 for v in summary], strict=True)),
            "forecast report": dict(zip(figures, details, strict=True)),
            "dashboard": {figure: dashboard[figure] for figure in figures},
            "submission": {"weighted": system.get((company, company), 0.0)},
            "snapshot": {"won": won.get(("company", company), 0.0)},
        }

    def assertScreensAgree(self, period):
        kind, start, end = self.Dashboard._period_bounds(period)
        expected = self._terms(start, end)
        for screen, figures in self._screens(period).items():
            for figure, amount in figures.items():
                self.assertAlmostEqual(
                    amount, expected[figure], 2, f"{figure} of the {screen}"
                )
        return expected

    def test_next_quarter_everywhere(self):
        kind, start, end = self.Dashboard._period_bounds("next_quarter")
        self.lead.date_deadline = start
        for name, stage, revenue, deadline in (
            ("B", self.development, 33000.0, start + timedelta(days=20)),
            ("C", self.proposal, 47000.0, end),
            ("D", self.closing, 12500.0, end),
            ("Outside", self.proposal, 99999.0, end + timedelta(days=1)),
        ):
            self._new_lead(name, self.salesman, stage, revenue).date_deadline = deadline
        expected = self.assertScreensAgree("next_quarter")
        # 100,000 × 10% + 33,000 × 30% + 47,000 × 50% + 12,500 × 80%
        self.assertEqual(expected["weighted"], 10000.0 + 9900.0 + 23500.0 + 10000.0)
        self.assertEqual(expected["committed"], 12500.0)

    def test_committed_is_the_closing_stage_of_the_team(self):
        """A team whose pipeline has a stage after Closing commits in that stage;
        the other teams still commit in Closing, on every screen."""
        kind, start, end = self.Dashboard._period_bounds("next_quarter")
        own, other = self.env["crm.team"].create(
            [{"name": "Projects"}, {"name": "Spare parts"}]
        )
        review = self.env["crm.stage"].create(
            {
                "name": "Contract Review",
                "team_id": own.id,
                "sequence": self.closing.sequence + 1,
                "win_rate": 90,
            }
        )
        self.lead.date_deadline = start
        for name, team, stage, revenue in (
            ("Projects in Closing", own, self.closing, 12500.0),
            ("Projects in Review", own, review, 20000.0),
            ("Parts in Closing", other, self.closing, 30000.0),
            ("No team in Closing", False, self.closing, 7000.0),
        ):
            lead = self._new_lead(name, self.salesman, stage, revenue)
            lead.write({"team_id": team and team.id, "date_deadline": end})
        self.assertEqual(terms.closing_stage_of(self.env, own), review)
        self.assertEqual(terms.closing_stage_of(self.env, other), self.closing)
        self.assertEqual(
            terms.closing_stage_of(self.env, self.env["crm.team"]), self.closing
        )
        expected = self.assertScreensAgree("next_quarter")
        self.assertEqual(expected["committed"], 20000.0 + 30000.0 + 7000.0)

    def test_deal_created_won_counts_where_it_was_won(self):
        """A deal created won (an import: no closing date) counts as won in the
        month it entered the won stage, on every screen."""
        self.lead.date_deadline = fields.Date.context_today(self.lead)
        won = self.env["crm.lead"].create(
            {
                "name": "Imported won deal",
                "type": "opportunity",
                "partner_id": self.partner.id,
                "user_id": self.salesman.id,
                "stage_id": self.won.id,
                "expected_revenue": 42000.0,
            }
        )
        self.assertFalse(won.date_closed)
        expected = self.assertScreensAgree("this_month")
        self.assertEqual(expected["won"], 42000.0)
