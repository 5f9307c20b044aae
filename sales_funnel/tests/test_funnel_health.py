from odoo import Command
from odoo.tests import tagged

from .common import AnalyticsCase


@tagged("post_install", "-at_install")
class TestFunnelHealth(AnalyticsCase):
    """Balanced funnel, funnel not full, low conversion, weak inspection."""

    def setUp(self):
        super().setUp()
        V, D, P, C = self.verification, self.development, self.proposal, self.closing
        self.team = self.env["crm.team"].create(
            {
                "name": "华东",
                "member_ids": [Command.set((self.salesman | self.salesman2).ids)],
            }
        )
        when = "2026-11-02 08:00:00"
        vals = {"team_id": self.team.id}
        # Li Na: 10000 + 15000 + 10000 + 10000 weighted, a balanced funnel.
        self._create("V", when, revenue=100000, date_deadline="2026-12-10", **vals)
        lead = self._create(
            "D", when, revenue=50000, date_deadline="2026-12-20", **vals
        )
        self._move(lead, D, "2026-11-03 08:00:00")
        lead = self._create(
            "P", when, revenue=20000, date_deadline="2027-01-20", **vals
        )
        self._walk(lead, [(D, "2026-11-03 08:00:00"), (P, "2026-11-04 08:00:00")])
        self.closing_lead = self._create(
            "C", when, revenue=12500, date_deadline="2027-02-20", **vals
        )
        self._walk(
            self.closing_lead,
            [
                (D, "2026-11-03 08:00:00"),
                (P, "2026-11-04 08:00:00"),
                (C, "2026-11-05 08:00:00"),
            ],
        )
        # The second salesperson: everything at the top, nothing converts.
        self.top_heavy = self._create(
            "V2",
            when,
            user=self.salesman2,
            revenue=300000,
            date_deadline="2026-12-05",
            **vals,
        )
        self.assertEqual(V, self.top_heavy.stage_id)
        # Li Na's one-to-one review was signed yesterday; not the other's.
        self._signed_review(self.salesman, "2026-11-20 08:00:00", "2026-11-25 09:00:00")

    def _health(self, user=None):
        wizard = (
            self.env["crm.funnel.health.wizard"]
            .with_user(user or self.manager)
            .create(
                {
                    "date_from": "2026-12-01",
                    "date_to": "2026-12-31",
                    "team_id": self.team.id,
                }
            )
        )
        with self._at("2026-11-26 12:00:00"):
            return {row["user_id"]: row for row in wizard._health_data()}

    def test_shape_and_flags_without_targets(self):
        rows = self._health()
        mine, theirs = rows[self.salesman.id], rows[self.salesman2.id]
        self.assertEqual(
            [line["weighted"] for line in mine["stages"]],
            [10000, 15000, 10000, 10000],
        )
        self.assertEqual((mine["count"], mine["weighted"]), (4, 45000))
        self.assertTrue(mine["balanced"])
        self.assertFalse(theirs["balanced"])
        # The period: December deadlines only (10000 + 15000).
        self.assertEqual((mine["forecast"], mine["won"]), (25000, 0))
        # No target: nothing to compare with, nothing flagged.
        self.assertIsNone(mine["target"])
        self.assertEqual(mine["target_basis"], "")
        self.assertFalse(mine["funnel_not_full"])
        self.assertIsNone(mine["stages"][0]["needed"])
        # Verification pass rate: 3 of 4 for Li Na, 0 of 1 for the other;
        # team 3 of 5 = 60%, 70% of it is 42%.
        self.assertAlmostEqual(theirs["stages"][0]["team_pass_rate"], 60.0)
        self.assertEqual(theirs["low_conversion_stage_ids"], [self.verification.id])
        self.assertEqual(mine["low_conversion_stage_ids"], [])
        # Li Na's review signed 1 day ago; none of the other's.
        self.assertFalse(mine["weak_inspection"])
        self.assertTrue(theirs["weak_inspection"])

    def _targets(self, *targets):
        """Real targets, entered by the manager: (owner, type, day, amount)."""
        return (
            self.env["crm.sales.target"]
            .with_user(self.manager)
            .create(
                [
                    {
                        "user_id"
                        if owner._name == "res.users"
                        else "team_id": owner.id,
                        "period_type": period_type,
                        "period_date": day,
                        "amount": amount,
                    }
                    for owner, period_type, day, amount in targets
                ]
            )
        )

    def test_targets_give_gap_and_needed_opportunities(self):
        self._targets(
            (self.salesman, "month", "2026-12-01", 100000.0),
            (self.salesman2, "month", "2026-12-01", 20000.0),
            # Another month's target, the team's and a yearly one do not add up.
            (self.salesman, "month", "2026-11-01", 500000.0),
            (self.salesman, "year", "2026-01-01", 900000.0),
            (self.team, "month", "2026-12-01", 700000.0),
        )
        rows = self._health()
        mine, theirs = rows[self.salesman.id], rows[self.salesman2.id]
        self.assertEqual(mine["target"], 100000)
        self.assertEqual(mine["target_basis"], "Target of the month")
        self.assertTrue(mine["funnel_not_full"])
        self.assertEqual((mine["gap"], mine["coverage"]), (75000, 25.0))
        # Nothing won, nothing left a stage yet: not enough history to work
        # the gap back to opportunities (test_funnel_need.py), and the gap
        # alone says the funnel is not full.
        self.assertEqual([line["needed"] for line in mine["stages"]], [None] * 4)
        # 300000 × 10% = 30000 expected in December covers 20000.
        self.assertFalse(theirs["funnel_not_full"])
        self.assertEqual(theirs["coverage"], 150.0)

    def test_salesperson_sees_own_health_and_list(self):
        rows = self._health(user=self.salesman)
        self.assertEqual(set(rows), {self.salesman.id})
        wizard = (
            self.env["crm.funnel.health.wizard"]
            .with_user(self.manager)
            .create(
                {
                    "date_from": "2026-12-01",
                    "date_to": "2026-12-31",
                    "team_id": self.team.id,
                }
            )
        )
        with self._at("2026-11-26 12:00:00"):
            action = wizard.action_compute()
        lines = self.env["crm.funnel.health.line"].search(action["domain"])
        self.assertEqual(lines.user_id, self.salesman | self.salesman2)
        other = lines.filtered(lambda line: line.user_id == self.salesman2)
        self.assertTrue(other.low_conversion and other.weak_inspection)
        self.assertEqual(other.low_conversion_stage_ids, self.verification)
        self.assertIn("Verification 30,000", other.stage_weighted)

    def test_quarter_target_prorated_for_the_month_as_on_the_dashboard(self):
        # Quarterly targets, as in the demo: December counts 31 of 92 days.
        self._targets(
            (self.salesman, "quarter", "2026-10-01", 92000.0),
            (self.salesman2, "quarter", "2026-10-01", 46000.0),
            (self.team, "quarter", "2026-10-01", 138000.0),
        )
        rows = self._health()
        mine, theirs = rows[self.salesman.id], rows[self.salesman2.id]
        self.assertEqual(mine["target"], 31000)
        self.assertEqual(
            mine["target_basis"], "Prorated by days from the quarter target"
        )
        # 25000 expected in December against 31000: not full; 30000 against
        # 15500 is.
        self.assertTrue(mine["funnel_not_full"])
        self.assertEqual(mine["gap"], 6000)
        self.assertEqual(theirs["target"], 15500)
        self.assertFalse(theirs["funnel_not_full"])
        # No conversion history: no figure (test_funnel_need.py).
        self.assertEqual([line["needed"] for line in mine["stages"]], [None] * 4)
        # The dashboard reads the same target for the same salesperson and month.
        with self._at("2026-11-26 12:00:00"):
            totals = (
                self.env["crm.funnel.dashboard"]
                .with_user(self.manager)
                .get_data("next_month", user_id=self.salesman.id)["totals"]
            )
        self.assertEqual(totals["target"], mine["target"])
        self.assertEqual(totals["target_basis"], mine["target_basis"])
        # And the list says how the target was read.
        wizard = (
            self.env["crm.funnel.health.wizard"]
            .with_user(self.manager)
            .create({"date_from": "2026-12-01", "date_to": "2026-12-31"})
        )
        with self._at("2026-11-26 12:00:00"):
            action = wizard.action_compute()
        line = self.env["crm.funnel.health.line"].search(
            action["domain"] + [("user_id", "=", self.salesman.id)]
        )
        self.assertEqual(line.target_amount, 31000)
        self.assertEqual(line.target_basis, "Prorated by days from the quarter target")

    def test_weak_inspection_follows_signed_reviews(self):
        """检查不力: no one-to-one review signed within the company's interval,
        whatever is written in the chatter."""
        other = self.top_heavy
        # A manager's note on the deal is not a one-to-one review.
        with self._at("2026-11-25 09:00:00"):
            other.with_user(self.manager).message_post(
                body="Checked one-to-one: nothing moves at the top.",
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
        rows = self._health()
        self.assertTrue(rows[self.salesman2.id]["weak_inspection"])
        self.assertFalse(rows[self.salesman2.id]["last_inspection"])
        # A review signed 20 days before: weak within 14 days, not within 30.
        selfcheck = self._signed_review(
            self.salesman2, "2026-11-02 08:00:00", "2026-11-06 10:00:00"
        )
        rows = self._health()
        self.assertTrue(rows[self.salesman2.id]["weak_inspection"])
        self.assertEqual(
            rows[self.salesman2.id]["last_inspection"], selfcheck.review_date
        )
        self.company.sales_funnel_inspection_days = 30
        rows = self._health()
        self.assertFalse(rows[self.salesman2.id]["weak_inspection"])
        # Submitted the week after, but not reviewed yet: it does not count.
        self.company.sales_funnel_inspection_days = 14
        self._submitted_selfcheck(self.salesman2, "2026-11-20 08:00:00")
        self.assertTrue(self._health()[self.salesman2.id]["weak_inspection"])
