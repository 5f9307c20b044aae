from odoo import Command
from odoo.tests import tagged

from .. import funnel_terms as terms
from .common import AnalyticsCase

NOW = "2026-11-26 12:00:00"
LATER = "2027-03-31"  # expected closing of the open deals: outside December


@tagged("post_install", "-at_install")
class TestFunnelNeed(AnalyticsCase):
    """How many new opportunities each stage needs to reach the target, worked
    back from the gap and the conversions of the last twelve months.

    Li Na's history (2026), each stage converting half of what leaves it:

    - Closing: C1 won (40,000), C2 lost → 1 of 2;
    - Proposal: P1 on to Closing, P2 lost → 1 of 2;
    - Development: D1 on to Proposal, D2 lost → 1 of 2;
    - Verification: V1 and V2 on to Development, V3 lost, and a lead lost
      there before it was qualified → 2 of 4;
    - leads: L1 converted, L2 lost, L3 open → 1 of 2.

    From Verification a new opportunity ends won 1/2 × 1/2 × 1/2 × 1/2 = 1/16
    of the time and brings 40,000 / 16 = 2,500 on average.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team = cls.env["crm.team"].create(
            {
                "name": "East China",
                "member_ids": [Command.set((cls.salesman | cls.salesman2).ids)],
            }
        )

    def setUp(self):
        super().setUp()
        V, D, P, C = self.verification, self.development, self.proposal, self.closing
        team = {"team_id": self.team.id, "date_deadline": LATER}
        when = "2026-06-01 09:00:00"

        def deal(name, stage, revenue=40000.0):
            return self._create(name, when, revenue=revenue, stage_id=stage.id, **team)

        c1, c2 = deal("C1", C), deal("C2", C)
        self._win(c1, "2026-06-10 09:00:00")
        self._lose(c2, "2026-06-11 09:00:00")
        p1, p2 = deal("P1", P), deal("P2", P)
        self._move(p1, C, "2026-07-01 09:00:00")
        self._lose(p2, "2026-07-02 09:00:00")
        d1, d2 = deal("D1", D), deal("D2", D)
        self._move(d1, P, "2026-08-01 09:00:00")
        self._lose(d2, "2026-08-02 09:00:00")
        v1, v2, v3 = deal("V1", V), deal("V2", V), deal("V3", V)
        self._move(v1, D, "2026-09-01 09:00:00")
        self._move(v2, D, "2026-09-01 09:00:00")
        self._lose(v3, "2026-09-02 09:00:00")
        # Leads: one converted, one lost (archived in Verification), one open.
        l1, l2, l3 = (
            self._create(name, "2026-10-01 09:00:00", type="lead", **team)
            for name in ("L1", "L2", "L3")
        )
        with self._at("2026-10-05 09:00:00"):
            l1.with_user(self.salesman).convert_opportunity(self.partner)
            l2.with_user(self.salesman).action_archive()
            self.env.flush_all()
            self.env.cr.precommit.run()
        self.assertEqual((l1.type, l3.type), ("opportunity", "lead"))
        self.assertEqual(c1.stage_id, self.won)

    def _target(self, owner, amount):
        field = "user_id" if owner._name == "res.users" else "team_id"
        return (
            self.env["crm.sales.target"]
            .with_user(self.manager)
            .create(
                {
                    field: owner.id,
                    "period_type": "month",
                    "period_date": "2026-12-01",
                    "amount": amount,
                }
            )
        )

    def _health(self):
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
        with self._at(NOW):
            action = wizard.action_compute()
        return self.env["crm.funnel.health.line"].search(action["domain"])

    def test_formula(self):
        """The formula alone: each figure rounded up on its own; no division by
        zero; nothing needed once the target is covered."""
        need = terms.opportunities_needed(
            100000.0, 40000.0, [(1, 0.5), (2, 0.5), (3, 0.5), (4, 0.5)], 0.5
        )
        self.assertEqual(need.state, terms.NEED_NEEDED)
        self.assertEqual([stage.needed for stage in need.stages], [40, 20, 10, 5])
        self.assertEqual(
            [stage.win_rate for stage in need.stages], [0.0625, 0.125, 0.25, 0.5]
        )
        self.assertEqual(need.leads, 80)
        self.assertEqual(
            terms.opportunities_needed(0.0, 40000.0, [(1, 0.5)], 0.5).state,
            terms.NEED_REACHED,
        )
        self.assertEqual(
            terms.opportunities_needed(-5.0, 0.0, [(1, None)]).stages[0].needed, 0
        )
        for average, rates in (
            (0.0, [(1, 0.5)]),
            (40000.0, [(1, 0.5), (2, None)]),
            (40000.0, [(1, 0.0)]),
            (40000.0, []),
        ):
            need = terms.opportunities_needed(1000.0, average, rates, 0.5)
            self.assertEqual(need.state, terms.NEED_NO_HISTORY)
            self.assertFalse(need.stages)
        self.assertEqual(
            terms.opportunities_needed(None, 40000.0, [(1, 0.5)]).state,
            terms.NEED_NO_TARGET,
        )

    def test_needed_per_salesperson_and_team_in_funnel_health(self):
        self._target(self.salesman, 100000.0)
        self._target(self.salesman2, 2000.0)
        self._target(self.team, 150000.0)
        lines = self._health()
        mine = lines.filtered(
            lambda line: line.level == "salesperson" and line.user_id == self.salesman
        )
        # Nothing closes in December: the gap is the whole target.
        self.assertEqual(mine.gap_amount, 100000)
        # 100,000 / (40,000 × 1/16) = 40 in Verification, 20 in Development,
        # 10 in Proposal, 5 in Closing; 40 / 50% = 80 leads.
        self.assertEqual(
            mine.needed,
            "Verification 40 / Development 20 / Proposal 10 / Closing 5 (leads 80)",
        )
        self.assertEqual(
            (mine.needed_stage_id, mine.needed_count, mine.needed_lead_count),
            (self.verification, 40, 80),
        )
        self.assertEqual(mine.need_basis, "Own history")
        # One open lead at 50% supplies none of the 40: the funnel is not full.
        self.assertEqual(mine.open_lead_count, 1)
        self.assertTrue(mine.funnel_not_full)

        # Qian's own history is empty: the team's rates (the same, as only Li
        # Na's deals left a stage). 2,000 / 2,500 → 1 in Verification; his two
        # open leads at 50% supply it: his funnel is full although won +
        # weighted (0) are short of his target.
        theirs = lines.filtered(lambda line: line.user_id == self.salesman2)
        self.assertEqual(theirs.gap_amount, 2000)
        self.assertEqual(theirs.need_basis, "The team's history")
        self.assertEqual(theirs.needed_count, 1)
        self.assertEqual(theirs.needed_lead_count, 2)
        self.assertEqual(theirs.open_lead_count, 0)
        self.assertTrue(theirs.funnel_not_full)
        for name in ("L4", "L5"):
            self._create(
                name,
                "2026-11-20 09:00:00",
                user=self.salesman2,
                type="lead",
                team_id=self.team.id,
            )
        theirs = self._health().filtered(lambda line: line.user_id == self.salesman2)
        self.assertEqual(theirs.open_lead_count, 2)
        self.assertFalse(theirs.funnel_not_full)

        # The team: its own target, 150,000 / 2,500 = 60 in Verification.
        team = lines.filtered(lambda line: line.level == "team")
        self.assertEqual((team.team_id, team.user_id.id), (self.team, False))
        self.assertEqual(team.target_amount, 150000)
        self.assertEqual(
            team.needed,
            "Verification 60 / Development 30 / Proposal 15 / Closing 8 (leads 120)",
        )
        self.assertEqual(team.need_basis, "The team's history")

    def test_target_covered_needs_nothing(self):
        self._target(self.salesman, 10000.0)
        # 40,000 × 30% expected in December covers the target.
        self._create(
            "Covering",
            "2026-11-20 09:00:00",
            stage_id=self.development.id,
            team_id=self.team.id,
            date_deadline="2026-12-15",
        )
        mine = self._health().filtered(lambda line: line.user_id == self.salesman)
        self.assertEqual(mine.gap_amount, -20000)
        self.assertEqual(mine.needed, "Nothing needed")
        self.assertEqual(mine.needed_count, 0)
        self.assertFalse(mine.funnel_not_full)

    def test_dashboard_tells_the_salesperson(self):
        self._target(self.salesman, 100000.0)
        with self._at(NOW):
            data = (
                self.env["crm.funnel.dashboard"]
                .with_user(self.salesman)
                .get_data("next_month", user_id=self.salesman.id)
            )
        need = data["need"]
        self.assertEqual(need["state"], "needed")
        self.assertEqual(
            [(row["name"], row["needed"]) for row in need["stages"]],
            [
                ("Verification", 40),
                ("Development", 20),
                ("Proposal", 10),
                ("Closing", 5),
            ],
        )
        self.assertEqual(
            need["message"],
            "To reach the target you need new opportunities: 40 in Verification, 20 "
            "in Development, 10 in Proposal, 5 in Closing. New leads needed at the "
            "lead conversion observed: 80.",
        )
        self.assertTrue(need["not_full"])
        self.assertEqual(need["basis"], "Own history")
        self.assertIn(
            "Rates of the last twelve months: Own history.", need["explanation"]
        )
        self.assertIn("Lead conversion 50 %; open leads: 1.", need["explanation"])


@tagged("post_install", "-at_install")
class TestFunnelNeedWithoutHistory(AnalyticsCase):
    def test_not_enough_history(self):
        """A target and open deals, but nothing ever left a stage: the figure
        cannot be worked out, no division by zero, and the gap still says the
        funnel is not full."""
        self._create("Fresh", "2026-11-20 09:00:00", date_deadline="2026-12-15")
        self.env["crm.sales.target"].create(
            {
                "user_id": self.salesman.id,
                "period_type": "month",
                "period_date": "2026-12-01",
                "amount": 50000.0,
            }
        )
        with self._at(NOW):
            data = (
                self.env["crm.funnel.dashboard"]
                .with_user(self.salesman)
                .get_data("next_month", user_id=self.salesman.id)
            )
            wizard = (
                self.env["crm.funnel.health.wizard"]
                .with_user(self.manager)
                .create({"date_from": "2026-12-01", "date_to": "2026-12-31"})
            )
            rows = wizard._health_data()
        self.assertEqual(data["need"]["state"], "no_history")
        self.assertIn("Not enough history", data["need"]["message"])
        self.assertEqual(data["need"]["stages"], [])
        [row] = rows
        self.assertTrue(row["funnel_not_full"])  # 10,000 expected of 50,000
        self.assertEqual([line["needed"] for line in row["stages"]], [None] * 4)
