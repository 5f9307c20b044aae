from odoo import Command
from odoo.tests import tagged

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestSliceTargets(FunnelCase):
    """The target of a slice (salesperson, team, company) for a period: one
    definition (crm.sales.target._target_amounts) read by every screen."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team = cls.env["crm.team"].create(
            {
                "name": "East China",
                "member_ids": [Command.set((cls.salesman | cls.salesman2).ids)],
            }
        )
        cls.Target = cls.env["crm.sales.target"].with_user(cls.manager)

    def _target(self, owner, period_type, day, amount):
        owner_field = "user_id" if owner._name == "res.users" else "team_id"
        return self.Target.create(
            {
                owner_field: owner.id,
                "period_type": period_type,
                "period_date": day,
                "amount": amount,
            }
        )

    def _read(self, owner, date_from, date_to):
        """(amount, basis) of a salesperson's or a team's target, or None."""
        key = (owner.id, False) if owner._name == "res.users" else (False, owner.id)
        value = self.Target._target_amounts([key], date_from, date_to)[key]
        return value and (value.amount, value.basis)

    def test_quarter_target_read_for_a_month_is_its_share_by_days(self):
        # 2030 Q2: April 30 + May 31 + June 30 = 91 days.
        self._target(self.salesman, "quarter", "2030-05-15", 91000.0)
        prorated = "Prorated by days from the quarter target"
        self.assertEqual(
            self._read(self.salesman, "2030-04-01", "2030-04-30"), (30000, prorated)
        )
        self.assertEqual(
            self._read(self.salesman, "2030-05-01", "2030-05-31"), (31000, prorated)
        )
        self.assertEqual(
            self._read(self.salesman, "2030-04-01", "2030-05-31"), (61000, prorated)
        )
        self.assertEqual(
            self._read(self.salesman, "2030-04-01", "2030-06-30"),
            (91000, "Target of the quarter"),
        )
        # The year holds the quarter: its target is the whole quarter's.
        self.assertEqual(
            self._read(self.salesman, "2030-01-01", "2030-12-31"),
            (91000, "Target of the quarter"),
        )
        self.assertIsNone(self._read(self.salesman, "2030-07-01", "2030-07-31"))
        self.assertIsNone(self._read(self.salesman2, "2030-04-01", "2030-04-30"))

    def test_year_target_prorated_by_days(self):
        self._target(self.salesman, "year", "2030-06-01", 365000.0)
        self.assertEqual(
            self._read(self.salesman, "2030-02-01", "2030-02-28"),
            (28000, "Prorated by days from the year target"),
        )
        self.assertEqual(
            self._read(self.salesman, "2030-04-01", "2030-06-30"),
            (91000, "Prorated by days from the year target"),
        )
        self.assertEqual(
            self._read(self.salesman, "2030-01-01", "2030-12-31"),
            (365000, "Target of the year"),
        )

    def test_own_period_type_first_then_inside_then_longer(self):
        self._target(self.salesman, "year", "2030-01-01", 365000.0)
        quarter = self._target(self.salesman, "quarter", "2030-04-01", 120000.0)
        self._target(self.salesman, "month", "2030-04-01", 40000.0)
        self._target(self.salesman, "month", "2030-05-01", 50000.0)
        # The quarter's own target, not quarter + months + a share of the year.
        self.assertEqual(
            self._read(self.salesman, "2030-04-01", "2030-06-30"),
            (120000, "Target of the quarter"),
        )
        self.assertEqual(
            self._read(self.salesman, "2030-04-01", "2030-04-30"),
            (40000, "Target of the month"),
        )
        # June has no month target: its share of the quarter's (30 of 91 days).
        self.assertEqual(
            self._read(self.salesman, "2030-06-01", "2030-06-30"),
            (round(120000 * 30 / 91, 2), "Prorated by days from the quarter target"),
        )
        self.assertEqual(
            self._read(self.salesman, "2030-01-01", "2030-12-31"),
            (365000, "Target of the year"),
        )
        # Without the quarter's own target: the month targets it holds.
        quarter.unlink()
        self.assertEqual(
            self._read(self.salesman, "2030-04-01", "2030-06-30"),
            (90000, "Sum of the month targets"),
        )

    def test_team_own_target_else_its_members(self):
        self._target(self.salesman, "quarter", "2030-04-01", 91000.0)
        self._target(self.salesman2, "month", "2030-04-01", 20000.0)
        outsider = self.env["res.users"].create(
            {"name": "Outsider", "login": "sf_outsider"}
        )
        self._target(outsider, "month", "2030-04-01", 999000.0)
        # No team target: the members' (30000 of the quarter + 20000).
        self.assertEqual(
            self._read(self.team, "2030-04-01", "2030-04-30"),
            (50000, "Sum of the members' targets, prorated by days"),
        )
        self.assertEqual(
            self._read(self.team, "2030-04-01", "2030-06-30"),
            (111000, "Sum of the members' targets"),
        )
        # The team's own target, once entered, wins (also over a share of
        # its quarterly target for the month).
        self._target(self.team, "quarter", "2030-04-01", 182000.0)
        self.assertEqual(
            self._read(self.team, "2030-04-01", "2030-04-30"),
            (60000, "Prorated by days from the quarter target"),
        )
        self._target(self.team, "month", "2030-04-01", 80000.0)
        self.assertEqual(
            self._read(self.team, "2030-04-01", "2030-04-30"),
            (80000, "Target of the month"),
        )
        # A salesperson's slice is the salesperson's, whatever the team.
        key = (self.salesman.id, self.team.id)
        self.assertEqual(
            self.Target._target_amounts([key], "2030-04-01", "2030-04-30")[key].amount,
            30000,
        )

    def test_company_sums_the_teams_else_the_salespeople(self):
        self.env["crm.sales.target"].search([]).unlink()
        self._target(self.salesman, "quarter", "2030-04-01", 91000.0)
        self._target(self.salesman2, "month", "2030-04-01", 20000.0)
        key = (False, False)
        company = self.Target._target_amounts([key], "2030-04-01", "2030-04-30")[key]
        self.assertEqual(company.amount, 50000)
        self.assertEqual(
            company.basis, "Sum of the salespeople's targets, prorated by days"
        )
        self._target(self.team, "month", "2030-04-01", 80000.0)
        company = self.Target._target_amounts([key], "2030-04-01", "2030-04-30")[key]
        self.assertEqual(
            (company.amount, company.basis), (80000, "Sum of the teams' targets")
        )

    def test_many_slices_in_a_constant_number_of_queries(self):
        users = self.env["res.users"].create(
            [
                {"name": f"Seller {index}", "login": f"sf_seller_{index}"}
                for index in range(8)
            ]
        )
        for user in users:
            self._target(user, "quarter", "2030-04-01", 91000.0)
        self.env.flush_all()

        def queries(slices):
            before = self.env.cr.sql_log_count
            self.Target._target_amounts(slices, "2030-04-01", "2030-04-30")
            return self.env.cr.sql_log_count - before

        few = queries([(users[0].id, False), (False, self.team.id)])
        many = queries(
            [(user.id, self.team.id) for user in users]
            + [(False, self.team.id), (False, False)]
        )
        self.assertLessEqual(many, few)
        result = self.Target._target_amounts(
            [(user.id, False) for user in users], "2030-04-01", "2030-04-30"
        )
        self.assertEqual({value.amount for value in result.values()}, {30000})

    def test_dashboard_reads_the_same_target(self):
        self._target(self.salesman, "quarter", "2030-04-01", 91000.0)
        self._target(self.salesman2, "month", "2030-04-01", 20000.0)
        Dashboard = self.env["crm.funnel.dashboard"].with_user(self.manager)
        with self._at("2030-03-20 10:00:00"):
            month = Dashboard.get_data("next_month", team_id=self.team.id)["totals"]
            quarter = Dashboard.get_data("next_quarter", team_id=self.team.id)["totals"]
            mine = Dashboard.get_data("next_month", user_id=self.salesman.id)["totals"]
        self.assertEqual(
            (month["target"], month["target_basis"]),
            self._read(self.team, "2030-04-01", "2030-04-30"),
        )
        self.assertEqual(month["target"], 50000)
        self.assertEqual(quarter["target"], 111000)
        self.assertEqual(
            (mine["target"], mine["target_basis"]),
            (30000, "Prorated by days from the quarter target"),
        )
