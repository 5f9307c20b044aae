from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from lxml import etree

from odoo import Command
from odoo.tests import new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from .common import AnalyticsCase

MEASURES = [
    "weighted_amount:sum",
    "committed_amount:sum",
    "won_amount:sum",
    "forecast_amount:sum",
]


@tagged("post_install", "-at_install")
class TestForecastReport(AnalyticsCase):
    """Forecast = Σ amount × stage win rate of what is expected to close in the
    period, beside what was won in it (销售预测)."""

    def setUp(self):
        super().setUp()
        D, P, C = self.development, self.proposal, self.closing
        when = "2026-11-02 08:00:00"
        self.v = self._create("V", when, revenue=100000, date_deadline="2026-12-10")
        self.d = self._create("D", when, revenue=200000, date_deadline="2026-12-20")
        self._move(self.d, D, when)
        self.p = self._create("P", when, revenue=50000, date_deadline="2027-01-15")
        self._walk(self.p, [(D, when), (P, when)])
        self.c = self._create("C", when, revenue=40000, date_deadline="2026-12-05")
        self._walk(self.c, [(D, when), (P, when), (C, when)])
        self.won = self._create("Won", when, revenue=30000, date_deadline="2027-02-01")
        self._walk(self.won, [(D, when), (P, when), (C, when)])
        self._win(self.won, "2026-12-03 08:00:00")
        self.lost = self._create(
            "Lost", when, revenue=999999, date_deadline="2026-12-01"
        )
        self._lose(self.lost, when)
        self.other = self._create(
            "Other's",
            when,
            user=self.salesman2,
            revenue=10000,
            date_deadline="2026-12-01",
        )
        self.raw_lead = self._create(
            "Raw lead", when, revenue=777777, date_deadline="2026-12-01", type="lead"
        )
        self.report = self.env["crm.funnel.forecast.report"]

    def _totals(self, report, domain=(), groupby=()):
        return {
            group[:-4]: tuple(round(value, 2) for value in group[-4:])
            for group in report._read_group(list(domain), list(groupby), MEASURES)
        }

    def test_weighted_committed_won_by_month(self):
        report = self.report.with_user(self.manager)
        months = self._totals(report, groupby=["date:month"])
        # December: 100000×10% + 200000×30% + 40000×80% + 10000×10% weighted,
        # 40000 committed (Closing), 30000 won on 3 December.
        december = [value for key, value in months.items() if key[0].month == 12]
        self.assertEqual(december, [(103000.0, 40000.0, 30000.0, 133000.0)])
        january = [value for key, value in months.items() if key[0].month == 1]
        self.assertEqual(january, [(25000.0, 0.0, 0.0, 25000.0)])
        self.assertEqual(len(months), 2, "lost opportunities and leads are left out")

    def test_pivot_list_and_graph_agree(self):
        report = self.report.with_user(self.manager)
        cells = self._totals(report, groupby=["stage_id", "date:month"])
        by_stage = self._totals(report, groupby=["stage_id"])
        total = self._totals(report)[()]
        rows = report.search_read([], ["weighted_amount", "won_amount"])
        self.assertEqual(
            round(sum(row["weighted_amount"] for row in rows), 2), total[0]
        )
        self.assertEqual(round(sum(row["won_amount"] for row in rows), 2), total[2])
        for column in range(4):
            self.assertAlmostEqual(
                sum(value[column] for value in cells.values()), total[column]
            )
            self.assertAlmostEqual(
                sum(value[column] for value in by_stage.values()), total[column]
            )
        self.assertEqual(by_stage[(self.verification,)][0], 11000.0)
        self.assertEqual(by_stage[(self.closing,)][:2], (32000.0, 40000.0))
        self.assertEqual(by_stage[(self.won.stage_id,)][2], 30000.0)
        self.assertEqual(total, (128000.0, 40000.0, 30000.0, 158000.0))

    def test_salesperson_sees_own_pipeline_only(self):
        mine = self._totals(self.report.with_user(self.salesman))[()]
        self.assertEqual(mine, (127000.0, 40000.0, 30000.0, 157000.0))
        theirs = self.report.with_user(self.salesman2).search([])
        self.assertEqual(theirs.lead_id, self.other)

    def test_closing_is_the_last_open_stage(self):
        rows = self.report.search([("is_closing", "=", True)])
        self.assertEqual(rows.lead_id, self.c)
        # A stage added after Closing becomes the one that commits.
        self.env["crm.stage"].create(
            {"name": "Contract Review", "sequence": 50, "win_rate": 90}
        )
        self.assertFalse(self.report.search([("is_closing", "=", True)]))

    def test_second_company_in_another_currency(self):
        currency = self.env.ref("base.EUR")
        currency.active = True
        main_currency = self.company.currency_id
        self.assertNotEqual(main_currency, currency)
        # 1 unit of the main currency = 0.5 EUR: 1 EUR counts as 2.
        self.env["res.currency.rate"].create(
            {
                "currency_id": currency.id,
                "rate": 0.5,
                "name": "2026-01-01",
                "company_id": self.company.id,
            }
        )
        branch = self.env["res.company"].create(
            {"name": "Frankfurt GmbH", "currency_id": currency.id}
        )
        seller = new_test_user(
            self.env,
            "sf_sales_branch",
            groups="sales_team.group_sale_salesman",
            company_id=branch.id,
            company_ids=[Command.set(branch.ids)],
        )
        lead = self._create(
            "Branch deal",
            "2026-11-02 08:00:00",
            user=seller,
            revenue=10000,
            date_deadline="2026-12-15",
            company_id=branch.id,
        )
        self._move(lead, self.development, "2026-11-03 08:00:00")
        self.manager.company_ids = [Command.link(branch.id)]
        both = self.report.with_user(self.manager).with_context(
            allowed_company_ids=[self.company.id, branch.id]
        )
        total = self._totals(both)[()]
        # 10000 EUR × 30% = 3000 EUR = 6000 in the main currency.
        self.assertEqual(total[0], 128000.0 + 6000.0)
        self.assertEqual(both.search([("lead_id", "=", lead.id)]).amount, 20000.0)
        home = self.report.with_user(self.manager).with_context(
            allowed_company_ids=self.company.ids
        )
        home = self._totals(home)[()]
        self.assertEqual(home[0], 128000.0)
        own = self.report.with_user(seller).with_context(allowed_company_ids=branch.ids)
        self.assertEqual(self._totals(own)[()][0], 3000.0)
        self.assertEqual(own.search([]).currency_id, currency)

    def test_period_filters(self):
        """The search view's period filters, evaluated on 26 November 2026."""
        arch = etree.fromstring(
            self.env.ref("sales_funnel.crm_funnel_forecast_report_view_search").arch
        )
        context = {
            "context_today": lambda: date(2026, 11, 26),
            "relativedelta": relativedelta,
            "datetime": datetime,
            "uid": self.salesman.id,
        }
        domains = {
            node.get("name"): safe_eval(node.get("domain"), context)
            for node in arch.iter("filter")
            if node.get("domain")
        }
        bounds = {
            name: (domains[name][0][2], domains[name][1][2])
            for name in ("this_month", "next_month", "this_quarter", "next_quarter")
        }
        self.assertEqual(
            bounds,
            {
                "this_month": ("2026-11-01", "2026-12-01"),
                "next_month": ("2026-12-01", "2027-01-01"),
                "this_quarter": ("2026-10-01", "2027-01-01"),
                "next_quarter": ("2027-01-01", "2027-04-01"),
            },
        )
        report = self.report.with_user(self.salesman)
        self.assertEqual(
            self._totals(report, domains["next_month"] + domains["my_pipeline"])[()],
            (102000.0, 40000.0, 30000.0, 132000.0),
        )
        self.assertEqual(self._totals(report, domains["next_quarter"])[()][0], 25000.0)
