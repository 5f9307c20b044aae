from datetime import timedelta

from odoo.tests import tagged

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestForecastViewsAgree(FunnelCase):
    """The weighted forecast of a period is one number, whichever screen shows it."""

    def test_next_quarter_everywhere(self):
        Dashboard = self.env["crm.funnel.dashboard"]
        kind, start, end = Dashboard._period_bounds("next_quarter")
        self.env["crm.lead"].search([("id", "!=", self.lead.id)]).unlink()
        self.lead.date_deadline = start
        for name, stage, revenue, deadline in (
            ("B", self.development, 33000.0, start + timedelta(days=20)),
            ("C", self.proposal, 47000.0, end),
            ("D", self.closing, 12500.0, end),
            ("Outside", self.proposal, 99999.0, end + timedelta(days=1)),
        ):
            self._new_lead(name, self.salesman, stage, revenue).date_deadline = deadline
        # 100,000 × 10% + 33,000 × 30% + 47,000 × 50% + 12,500 × 80%
        expected = 10000.0 + 9900.0 + 23500.0 + 10000.0
        in_period = [("period", ">=", start), ("period", "<=", end)]

        [(summary,)] = self.env["crm.funnel.summary"]._read_group(
            in_period, aggregates=["weighted_amount:sum"]
        )
        [(details,)] = self.env["crm.funnel.forecast.report"]._read_group(
            [("date", ">=", start), ("date", "<=", end)],
            aggregates=["weighted_amount:sum"],
        )
        dashboard = Dashboard.get_data("next_quarter")["totals"]["weighted"]
        system = self.env["crm.forecast.submission"]._weighted_forecast(
            self.company, start, end, "company"
        )[(self.company.id, self.company.id)]
        self.assertEqual(
            [summary, details, dashboard, system], [expected] * 4, "same forecast"
        )
