from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import AnalyticsCase


@tagged("post_install", "-at_install")
class TestStageAnalytics(AnalyticsCase):
    """Pass rates, historical win rates, days in stage and promotion cycle,
    against numbers worked out by hand from the moves below."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stage_report = cls.env["crm.funnel.stage.report"]

    def setUp(self):
        super().setUp()
        V, D, P, C = self.verification, self.development, self.proposal, self.closing
        # A: straight through, won. V 10 d, D 10 d, P 20 d, C 10 d; cycle 50 d.
        self.a = self._create("A", "2026-01-01 08:00:00")
        self._walk(
            self.a,
            [(D, "2026-01-11 08:00:00"), (P, "2026-01-21 08:00:00")],
        )
        self._move(self.a, C, "2026-02-10 08:00:00")
        self._win(self.a, "2026-02-20 08:00:00")
        # B: V 4 d, lost after 20 d in D.
        self.b = self._create("B", "2026-01-01 08:00:00")
        self._move(self.b, D, "2026-01-05 08:00:00")
        self._lose(self.b, "2026-01-25 08:00:00")
        # C: lost in V after 6 d, restored 2 d later, 2 more days in V, still in D.
        self.c = self._create("C", "2026-01-02 08:00:00")
        self._lose(self.c, "2026-01-08 08:00:00")
        self._restore(self.c, "2026-01-10 08:00:00")
        self._move(self.c, D, "2026-01-12 08:00:00")
        # D: someone else's, V 6 d, still in D.
        self.d = self._create("D", "2026-01-03 08:00:00", user=self.salesman2)
        self._move(self.d, D, "2026-01-09 08:00:00")
        # E: V 2 d, D 2 d, back to V 4 d, D 10 d, P 1 d, C 4 d, won; cycle 23 d.
        self.e = self._create("E", "2026-02-01 08:00:00")
        self._walk(
            self.e,
            [
                (D, "2026-02-03 08:00:00"),
                (V, "2026-02-05 08:00:00"),
                (D, "2026-02-09 08:00:00"),
                (P, "2026-02-19 08:00:00"),
                (C, "2026-02-20 08:00:00"),
            ],
        )
        self._win(self.e, "2026-02-24 08:00:00")
        # F: lost after 5 d in V.
        self.f = self._create("F", "2026-01-15 08:00:00")
        self._lose(self.f, "2026-01-20 08:00:00")

    def _by_stage(self, report, domain=()):
        groups = report._read_group(
            list(domain),
            ["stage_id"],
            [
                "entered_count:sum",
                "passed_count:sum",
                "won_count:sum",
                "pass_rate:avg",
                "historical_win_rate:avg",
                "days_in_stage:avg",
                "median_days_in_stage:avg",
                "days_to_won:avg",
                "cycle_days:avg",
            ],
        )
        return {group[0]: tuple(group[1:]) for group in groups}

    def _assert_row(self, got, expected):
        self.assertEqual(got[:3], expected[:3])
        for value, wanted in zip(got[3:], expected[3:], strict=True):
            if wanted is None:
                self.assertFalse(value)
            else:
                self.assertAlmostEqual(value, wanted, places=4)

    def test_stage_control_parameters(self):
        rows = self._by_stage(self.stage_report.with_user(self.manager))
        self.assertEqual(
            set(rows),
            {self.verification, self.development, self.proposal, self.closing},
        )
        # entered, passed, won, pass %, win %, avg days, median days,
        # days to won, promotion cycle (on the funnel-entry stage only).
        self._assert_row(
            rows[self.verification],
            (6, 5, 2, 500 / 6, 200 / 6, 39 / 6, 6.0, (50 + 23) / 2, (50 + 23) / 2),
        )
        self._assert_row(
            rows[self.development],
            (5, 2, 2, 40.0, 40.0, (10 + 20 + 12) / 3, 12.0, (40 + 21) / 2, None),
        )
        self._assert_row(
            rows[self.proposal], (2, 2, 2, 100.0, 100.0, 10.5, 10.5, 17.5, None)
        )
        self._assert_row(
            rows[self.closing], (2, 2, 2, 100.0, 100.0, 7.0, 7.0, 7.0, None)
        )

    def test_rates_stay_ratios_when_regrouped(self):
        report = self.stage_report.with_user(self.manager)
        total = report._read_group(
            [], [], ["entered_count:sum", "passed_count:sum", "pass_rate:avg"]
        )[0]
        self.assertEqual(total[:2], (15, 11))
        self.assertAlmostEqual(total[2], 1100 / 15)
        # By month of entry: January V = A, B, C, D, F (4 passed).
        months = report._read_group(
            [("stage_id", "=", self.verification.id)],
            ["date:month"],
            ["entered_count:sum", "pass_rate:avg"],
        )
        self.assertEqual(
            [(count, round(rate, 2)) for _month, count, rate in months],
            [(5, 80.0), (1, 100.0)],
        )
        # By salesperson: the pivot's cells are what a hand count gives.
        people = dict(
            (user, (count, rate))
            for user, count, rate in report._read_group(
                [("stage_id", "=", self.development.id)],
                ["user_id"],
                ["entered_count:sum", "pass_rate:avg"],
            )
        )
        self.assertEqual(people[self.salesman2], (1, 0.0))
        self.assertEqual(people[self.salesman][0], 4)
        self.assertAlmostEqual(people[self.salesman][1], 50.0)

    def test_salesperson_sees_own_rows_only(self):
        rows = self._by_stage(self.stage_report.with_user(self.salesman))
        self.assertEqual(rows[self.verification][:3], (5, 4, 2))
        self.assertEqual(
            self.stage_report.with_user(self.salesman2).search([]).lead_id, self.d
        )

    def test_outcome_per_row(self):
        rows = self.stage_report.with_user(self.manager).search(
            [("stage_id", "=", self.development.id)]
        )
        outcome = {row.lead_id: row.state for row in rows}
        self.assertEqual(
            outcome,
            {
                self.a: "passed",
                self.b: "stopped",
                self.c: "in_stage",
                self.d: "in_stage",
                self.e: "passed",
            },
        )
        entry = rows.filtered(lambda row: row.lead_id == self.e)
        self.assertEqual(entry.date, self._day("2026-02-03 08:00:00"))

    def test_stage_form_agrees_with_the_analysis(self):
        for user in (self.manager, self.salesman):
            summary = self.stage_report.with_user(user)._stage_summary()
            for stage in self.stages.with_user(user):
                self.assertEqual(
                    (stage.historical_entered_count, stage.historical_won_count),
                    (summary[stage.id]["entered"], summary[stage.id]["won"]),
                )
                self.assertAlmostEqual(
                    stage.historical_win_rate,
                    summary[stage.id]["historical_win_rate"],
                )
        self.assertEqual(
            self.verification.with_user(self.salesman).historical_entered_count, 5
        )

    def test_historical_win_rate_on_stage_and_adoption(self):
        stages = (self.verification | self.development).with_user(self.manager)
        self.assertAlmostEqual(stages[0].historical_win_rate, 100 / 3)
        self.assertEqual(
            (stages[0].historical_won_count, stages[0].historical_entered_count),
            (2, 6),
        )
        self.assertAlmostEqual(stages[1].historical_win_rate, 40.0)
        with self.assertRaises(AccessError):
            stages.with_user(self.salesman).action_adopt_historical_win_rate()
        self.assertEqual(self.verification.win_rate, 10)

        stages.action_adopt_historical_win_rate()
        self.assertEqual(self.verification.win_rate, 33.33)
        self.assertEqual(self.development.win_rate, 40)
        log = self.verification.win_rate_log_ids
        self.assertEqual(len(log), 1)
        self.assertEqual(log.user_id, self.manager)
        self.assertEqual((log.old_win_rate, log.new_win_rate), (10, 33.33))
        self.assertEqual((log.entered_count, log.won_count), (6, 2))
        # Open opportunities follow the new preset rate.
        self.assertEqual(self.d.probability, 40)
        # Nothing to learn from: refused, nothing changed.
        self.env["crm.lead"].with_context(active_test=False).search([]).unlink()
        with self.assertRaises(UserError):
            self.proposal.with_user(self.manager).action_adopt_historical_win_rate()
        self.assertEqual(self.proposal.win_rate, 50)

    def test_companies_are_kept_apart(self):
        branch = self.env["res.company"].create({"name": "深圳分公司"})
        seller = new_test_user(
            self.env,
            "sf_sales_sz",
            groups="sales_team.group_sale_manager",
            company_id=branch.id,
            company_ids=[Command.set(branch.ids)],
        )
        lead = self._create(
            "Shenzhen", "2026-01-05 08:00:00", user=seller, company_id=branch.id
        )
        self._move(lead, self.development, "2026-01-07 08:00:00")
        # The branch sees its own funnel only, the head office does not see it.
        rows = self._by_stage(self.stage_report.with_user(seller))
        self.assertEqual(rows[self.verification][:3], (1, 1, 0))
        self.assertEqual(set(rows), {self.verification, self.development})
        home = self._by_stage(
            self.stage_report.with_user(self.manager).with_context(
                allowed_company_ids=self.company.ids
            )
        )
        self.assertEqual(home[self.verification][:3], (6, 5, 2))
        self.assertEqual(
            self.verification.with_user(seller).historical_entered_count, 1
        )
        pipeline = (
            self.env["crm.funnel.pipeline.report"]
            .with_user(seller)
            .with_context(sales_funnel_as_of="2026-01-31", tz="UTC")
            .search([])
        )
        self.assertEqual(pipeline.lead_id, lead)
        self.assertEqual(pipeline.stage_id, self.development)
