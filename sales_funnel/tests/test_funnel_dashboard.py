from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .. import funnel_terms as terms
from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestFunnelDashboard(FunnelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Dashboard = cls.env["crm.funnel.dashboard"]
        cls.kind, cls.start, cls.end = Dashboard._period_bounds("next_quarter")
        # Only this test's opportunities count.
        cls.env["crm.lead"].search([("id", "!=", cls.lead.id)]).unlink()
        cls.lead.date_deadline = cls.start
        cls.b = cls._new_lead("B", cls.salesman, cls.proposal, 40000.0)
        cls.c = cls._new_lead("C", cls.salesman2, cls.closing, 30000.0)
        (cls.b | cls.c).date_deadline = cls.end
        cls.outside = cls._new_lead("Later", cls.salesman, cls.proposal, 999.0)
        cls.outside.date_deadline = cls.end + timedelta(days=1)
        cls.team = cls.env["crm.team"].create({"name": "Dashboard team"})
        cls.env["crm.team.member"].create(
            [
                {"crm_team_id": cls.team.id, "user_id": cls.salesman.id},
                {"crm_team_id": cls.team.id, "user_id": cls.salesman2.id},
            ]
        )
        (cls.lead | cls.b | cls.c | cls.outside).team_id = cls.team
        cls.env["crm.sales.target"].create(
            [
                {
                    "user_id": cls.salesman.id,
                    "period_type": "quarter",
                    "period_date": cls.start,
                    "amount": 100000.0,
                },
                {
                    "team_id": cls.team.id,
                    "period_type": "quarter",
                    "period_date": cls.start,
                    "amount": 160000.0,
                },
            ]
        )

    def _data(self, user=None, period="next_quarter", **filters):
        Dashboard = self.env["crm.funnel.dashboard"]
        if user:
            Dashboard = Dashboard.with_user(user)
        return Dashboard.get_data(period, **filters)

    def test_company_view_matches_a_hand_computation(self):
        data = self._data(user=self.manager)
        by_stage = {row["name"]: row for row in data["funnel"]}
        self.assertEqual(by_stage[self.verification.name]["amount"], 100000.0)
        self.assertEqual(by_stage[self.proposal.name]["weighted"], 20000.0)
        self.assertEqual(by_stage[self.closing.name]["committed"], 30000.0)
        totals = data["totals"]
        # 100,000 × 10% + 40,000 × 50% + 30,000 × 80% = 54,000
        self.assertEqual(totals["weighted"], 54000.0)
        self.assertEqual(totals["amount"], 170000.0)
        self.assertEqual(totals["count"], 3)
        self.assertEqual(totals["target"], 160000.0, "the team's target")
        self.assertAlmostEqual(totals["coverage"], 54000.0 / 160000.0)
        self.assertEqual(totals["gap"], 106000.0)

    def test_salesperson_slice_and_own_numbers_only(self):
        data = self._data(user=self.salesman, user_id=self.salesman.id)
        self.assertEqual(data["totals"]["weighted"], 30000.0)
        self.assertEqual(data["totals"]["target"], 100000.0)
        # Without a filter, a salesperson still sees only their own funnel.
        mine = self._data(user=self.salesman)
        self.assertEqual(mine["totals"]["weighted"], 30000.0)

    def test_won_counts_toward_the_target(self):
        self._tick_all(self.c, self.manager)
        self.c.with_user(self.manager).action_set_won()
        self.c.date_closed = self.start
        data = self._data(user=self.manager, team_id=self.team.id)
        self.assertEqual(data["totals"]["won"], 30000.0, data["totals"])
        self.assertEqual(data["totals"]["weighted"], 30000.0)
        self.assertAlmostEqual(data["totals"]["coverage"], 60000.0 / 160000.0)

    def test_conversion_table_from_the_history(self):
        self._tick_all(self.lead)
        self.lead.with_user(self.salesman).write({"stage_id": self.development.id})
        self.lead.with_user(self.salesman).write({"stage_id": self.verification.id})
        rows = {row["name"]: row for row in self._data(self.manager)["conversion"]}
        verification = rows[self.verification.name]
        # Created in Verification, moved on, came back: 2 entries, 1 exit onward.
        self.assertEqual(verification["entered"], 2)
        self.assertEqual(verification["moved_on"], 1)
        self.assertEqual(verification["pass_rate"], 0.5)
        self.assertEqual(rows[self.development.name]["moved_back"], 1)

    def test_stuck_deals(self):
        self.proposal.max_days_in_stage = 5
        self.env.cr.execute(
            "UPDATE crm_lead SET date_last_stage_update = now() - interval '9 days'"
            " WHERE id = %s",
            [self.b.id],
        )
        # Written in SQL: the stored "stuck since" follows (crm_lead_stuck.py).
        self.env["crm.lead"]._update_stuck_dates()
        stuck = self._data(self.manager)["stuck"]
        self.assertEqual(stuck["count"], 1)
        self.assertEqual([lead["name"] for lead in stuck["leads"]], ["B"])
        self.assertEqual(stuck["leads"][0]["days"], 9)

    def test_periods_come_from_the_server(self):
        """The dashboard offers the server's periods, and each reads its bounds."""
        data = self._data(self.manager)
        self.assertEqual([key for key, _label in data["periods"]], list(terms.PERIODS))
        self.assertEqual(data["period"], terms.DEFAULT_PERIOD)
        month = self._data(self.manager, period="this_month")
        today = fields.Date.context_today(self.env.user)
        self.assertEqual(month["date_from"], str(today.replace(day=1)))
        self.assertEqual(month["period_label"], today.strftime("%Y-%m"))

    def test_stuck_list_follows_a_company_record_rule(self):
        """A company's own record rule on crm.lead (here: everyone sees only the
        opportunities of the sales teams they belong to) applies to the stuck
        list as it does to the opportunities it opens."""
        self.proposal.max_days_in_stage = 5
        export = self.env["crm.team"].create({"name": "Export"})
        far = self._new_lead("Export deal", self.salesman, self.proposal, 5000.0)
        far.team_id = export
        # Pending writes first: a team change recomputes the stage and its date.
        self.env.flush_all()
        for lead, days in ((self.b, 9), (far, 8)):
            self.env.cr.execute(
                "UPDATE crm_lead SET date_last_stage_update = now() - %s * interval"
                " '1 day' WHERE id = %s",
                [days, lead.id],
            )
        self.env["crm.lead"]._update_stuck_dates()
        self.assertEqual(
            [lead["name"] for lead in self._data(self.salesman)["stuck"]["leads"]],
            ["B", "Export deal"],
        )
        self.env["ir.rule"].create(
            {
                "name": "Opportunities of one's own sales teams",
                "model_id": self.env["ir.model"]._get_id("crm.lead"),
                "domain_force": "['|', ('team_id', '=', False),"
                " ('team_id.member_ids', 'in', [user.id])]",
            }
        )
        stuck = self._data(self.salesman)["stuck"]
        self.assertEqual(stuck["count"], 1)
        self.assertEqual([lead["name"] for lead in stuck["leads"]], ["B"])
        # The list the dashboard opens shows the same.
        Lead = self.env["crm.lead"].with_user(self.salesman)
        self.assertEqual(Lead.search([("is_stuck", "=", True)]), self.b)
