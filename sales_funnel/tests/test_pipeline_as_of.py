from odoo.tests import Form, tagged

from .common import AnalyticsCase


@tagged("post_install", "-at_install")
class TestPipelineAsOf(AnalyticsCase):
    """The pipeline of a past day, rebuilt from the stage history and the
    tracked changes of salesperson and amount."""

    def setUp(self):
        super().setUp()
        V, D, P, C = self.verification, self.development, self.proposal, self.closing
        # One: V on 1 March, D on 10 March, amount raised on 20 March, P on 1 April.
        self.one = self._create("One", "2026-03-01 08:00:00", revenue=100000)
        self._move(self.one, D, "2026-03-10 08:00:00")
        self._write(self.one, {"expected_revenue": 150000}, "2026-03-20 08:00:00")
        self._move(self.one, P, "2026-04-01 08:00:00")
        # Two: lost on 15 March.
        self.two = self._create("Two", "2026-03-05 08:00:00", revenue=50000)
        self._lose(self.two, "2026-03-15 08:00:00")
        # Three: handed over to the second salesperson on 18 March.
        self.three = self._create("Three", "2026-03-12 08:00:00", revenue=80000)
        self._write(self.three, {"user_id": self.salesman2.id}, "2026-03-18 08:00:00")
        # Four: created after the days looked at.
        self.four = self._create("Four", "2026-04-05 08:00:00", revenue=70000)
        # Five: through the funnel, won on 25 March.
        self.five = self._create("Five", "2026-03-02 08:00:00", revenue=20000)
        self._walk(
            self.five,
            [
                (D, "2026-03-06 08:00:00"),
                (P, "2026-03-09 08:00:00"),
                (C, "2026-03-20 08:00:00"),
            ],
        )
        self._win(self.five, "2026-03-25 08:00:00")
        self.stages = {V: "V", D: "D", P: "P", C: "C", self.five.stage_id: "Won"}

    def _pipeline(self, day, user=None, tz="UTC"):
        report = (
            self.env["crm.funnel.pipeline.report"]
            .with_user(user or self.manager)
            .with_context(sales_funnel_as_of=day, tz=tz)
        )
        return {
            row.lead_id.name: (
                self.stages[row.stage_id],
                row.state,
                row.user_id.login,
                row.amount,
                row.weighted_amount,
            )
            for row in report.search([])
        }

    def test_several_days(self):
        self.maxDiff = None
        self.assertEqual(
            self._pipeline("2026-03-08"),
            {
                "One": ("V", "open", "sf_sales", 100000, 10000),
                "Two": ("V", "open", "sf_sales", 50000, 5000),
                "Five": ("D", "open", "sf_sales", 20000, 6000),
            },
        )
        self.assertEqual(
            self._pipeline("2026-03-16"),
            {
                "One": ("D", "open", "sf_sales", 100000, 30000),
                "Two": ("V", "lost", "sf_sales", 50000, 0),
                "Three": ("V", "open", "sf_sales", 80000, 8000),
                "Five": ("P", "open", "sf_sales", 20000, 10000),
            },
        )
        self.assertEqual(
            self._pipeline("2026-03-31"),
            {
                "One": ("D", "open", "sf_sales", 150000, 45000),
                "Two": ("V", "lost", "sf_sales", 50000, 0),
                "Three": ("V", "open", "sf_sales2", 80000, 8000),
                "Five": ("Won", "won", "sf_sales", 20000, 20000),
            },
        )
        today = self._pipeline(False)
        self.assertEqual(today["One"], ("P", "open", "sf_sales", 150000, 75000))
        self.assertIn("Four", today)

    def test_days_in_stage_and_pivot_totals(self):
        report = (
            self.env["crm.funnel.pipeline.report"]
            .with_user(self.manager)
            .with_context(sales_funnel_as_of="2026-03-16", tz="UTC")
        )
        one = report.search([("lead_id", "=", self.one.id)])
        # In D since 10 March 08:00, looked at the end of 16 March.
        self.assertAlmostEqual(one.days_in_stage, 6 + 16 / 24)
        open_total = report._read_group(
            [("state", "=", "open")],
            [],
            ["opportunity_count:sum", "amount:sum", "weighted_amount:sum"],
        )[0]
        self.assertEqual(open_total, (3, 200000, 48000))

    def test_end_of_day_in_user_time_zone(self):
        # 1 March 08:00 UTC is already 1 March in Shanghai, not yet in Honolulu.
        self.assertIn("One", self._pipeline("2026-03-01", tz="Asia/Shanghai"))
        self.assertNotIn("One", self._pipeline("2026-02-28", tz="Asia/Shanghai"))
        self.assertIn("One", self._pipeline("2026-03-01", tz="Pacific/Honolulu"))
        # Five, created 2 March 08:00 UTC, is still 1 March in Honolulu.
        self.assertIn("Five", self._pipeline("2026-03-01", tz="Pacific/Honolulu"))
        self.assertNotIn("Five", self._pipeline("2026-03-01", tz="UTC"))

    def test_salesperson_sees_own_opportunities_only(self):
        self.assertEqual(
            set(self._pipeline("2026-03-31", user=self.salesman2)), {"Three"}
        )
        self.assertEqual(
            set(self._pipeline("2026-03-31", user=self.salesman)),
            {"One", "Two", "Five"},
        )

    def test_wizard_opens_the_day(self):
        wizard = Form(self.env["crm.funnel.pipeline.wizard"].with_user(self.salesman))
        wizard.date = "2026-03-16"
        action = wizard.save().action_open()
        self.assertEqual(action["res_model"], "crm.funnel.pipeline.report")
        self.assertEqual(action["context"]["sales_funnel_as_of"], "2026-03-16")
        self.assertIn("2026-03-16", action["name"])
        rows = (
            self.env["crm.funnel.pipeline.report"]
            .with_user(self.salesman)
            .with_context(action["context"], tz="UTC")
            .search([("state", "=", "open")])
        )
        self.assertEqual(rows.lead_id.mapped("name"), ["One", "Five"])
