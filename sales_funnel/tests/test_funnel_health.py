from unittest.mock import patch

from odoo import Command
from odoo.tests import tagged

from .common_analytics import AnalyticsCase


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
        with self._at("2026-11-25 09:00:00"):
            self.closing_lead.with_user(self.manager).message_post(
                body="Checked one-to-one: the contract draft is with legal.",
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )

    def _health(self, user=None, targets=None):
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
        with (
            self._at("2026-11-26 12:00:00"),
            patch.object(type(wizard), "_targets", lambda self, pairs: targets),
        ):
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
        # No target model: nothing to compare with, nothing flagged.
        self.assertIsNone(mine["target"])
        self.assertFalse(mine["funnel_not_full"])
        self.assertIsNone(mine["stages"][0]["needed"])
        # Verification pass rate: 3 of 4 for Li Na, 0 of 1 for the other;
        # team 3 of 5 = 60%, 70% of it is 42%.
        self.assertAlmostEqual(theirs["stages"][0]["team_pass_rate"], 60.0)
        self.assertEqual(theirs["low_conversion_stage_ids"], [self.verification.id])
        self.assertEqual(mine["low_conversion_stage_ids"], [])
        # A manager's note 1 day ago on Li Na's funnel; none on the other's.
        self.assertFalse(mine["weak_inspection"])
        self.assertTrue(theirs["weak_inspection"])

    def test_targets_give_gap_and_needed_opportunities(self):
        rows = self._health(
            targets={
                (self.salesman.id, self.team.id): 100000.0,
                (self.salesman2.id, self.team.id): 20000.0,
            }
        )
        mine, theirs = rows[self.salesman.id], rows[self.salesman2.id]
        self.assertTrue(mine["funnel_not_full"])
        self.assertEqual((mine["gap"], mine["coverage"]), (75000, 25.0))
        # Average deal 182500 / 4 = 45625; needed = target / (deal × win rate).
        self.assertEqual([line["needed"] for line in mine["stages"]], [22, 8, 5, 3])
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
