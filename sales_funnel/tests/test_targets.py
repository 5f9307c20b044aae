from psycopg2 import IntegrityError
from psycopg2.errors import ExclusionViolation

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.service.model import _as_validation_error
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestSalesTarget(FunnelCase):
    """销售目标: one target per salesperson (or team), period type and period."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.reader = new_test_user(
            cls.env,
            "sf_all_leads",
            groups="sales_team.group_sale_salesman_all_leads",
        )
        cls.team = cls.env["crm.team"].create(
            {"name": "East China", "member_ids": [Command.set(cls.salesman.ids)]}
        )
        cls.other_team = cls.env["crm.team"].create(
            {"name": "North China", "member_ids": [Command.set(cls.salesman2.ids)]}
        )
        cls.Target = cls.env["crm.sales.target"].with_user(cls.manager)

    def _target(self, owner, period_date, period_type="month", amount=100000.0):
        owner_field = "user_id" if owner._name == "res.users" else "team_id"
        return self.Target.create(
            {
                owner_field: owner.id,
                "period_type": period_type,
                "period_date": period_date,
                "amount": amount,
            }
        )

    def test_period_dates_aligned_on_the_period(self):
        month = self._target(self.salesman, "2030-02-17")
        self.assertEqual(str(month.date_from), "2030-02-01")
        self.assertEqual(str(month.date_to), "2030-02-28")
        quarter = self._target(self.salesman, "2030-05-10", "quarter")
        self.assertEqual(str(quarter.date_from), "2030-04-01")
        self.assertEqual(str(quarter.date_to), "2030-06-30")
        year = self._target(self.team, "2030-08-31", "year")
        self.assertEqual(str(year.date_from), "2030-01-01")
        self.assertEqual(str(year.date_to), "2030-12-31")
        month.period_type = "quarter"
        month.period_date = "2030-01-05"
        self.assertEqual(str(month.date_from), "2030-01-01")
        self.assertEqual(str(month.date_to), "2030-03-31")

    def test_overlap_refused_with_a_clear_message(self):
        target = self._target(self.salesman, "2030-03-01", amount=150000)
        with self.assertRaises(ValidationError) as refusal:
            self._target(self.salesman, "2030-03-20")
        message = str(refusal.exception)
        self.assertIn(self.salesman.name, message)
        self.assertIn("2030-03-01", message)
        self.assertIn("2030-03-31", message)
        # Same period, other type / other person / other team: allowed.
        self._target(self.salesman, "2030-03-20", "quarter")
        self._target(self.salesman, "2030-03-20", "year")
        self._target(self.salesman2, "2030-03-20")
        self._target(self.team, "2030-03-20")
        self._target(self.other_team, "2030-03-20")
        self._target(self.salesman, "2030-04-01")
        with self.assertRaises(ValidationError):
            self._target(self.team, "2030-03-02")
        # Moving a target onto another one is refused too.
        april = self.Target.search(
            [("user_id", "=", self.salesman.id), ("date_from", "=", "2030-04-01")]
        )
        with self.assertRaises(ValidationError):
            april.period_date = "2030-03-15"
        self.assertEqual(
            self.Target.search_count(
                [("user_id", "=", self.salesman.id), ("period_type", "=", "month")]
            ),
            2,
        )
        self.assertEqual(target.amount, 150000)

    def test_salesperson_xor_team(self):
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            self.Target.create(
                {
                    "user_id": self.salesman.id,
                    "team_id": self.team.id,
                    "period_date": "2030-03-01",
                    "amount": 1,
                }
            )

    def test_database_refuses_overlaps_of_concurrent_writers(self):
        """Two writers that each passed the check: the EXCLUDE constraint
        refuses the second, and the RPC layer shows the friendly message."""
        target = self._target(self.salesman, "2030-03-01")
        self.env.flush_all()
        with (
            self.assertRaises(ExclusionViolation) as refusal,
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.env.cr.execute(
                """
                INSERT INTO crm_sales_target
                       (user_id, period_type, period_date, date_from, date_to,
                        amount, company_id)
                VALUES (%s, 'month', '2030-03-10', '2030-03-01', '2030-03-31',
                        1, %s)
                """,
                [self.salesman.id, target.company_id.id],
            )
            self.env.cr.execute("SET CONSTRAINTS ALL IMMEDIATE")
        error = _as_validation_error(self.env, refusal.exception)
        self.assertIn(
            "A salesperson cannot have two targets of the same period type",
            str(error),
        )

    def test_revisions_are_tracked(self):
        target = self._target(self.salesman, "2030-03-01")
        self.env.flush_all()
        self.env.cr.precommit.run()
        target.amount = 180000
        self.env.flush_all()
        self.env.cr.precommit.run()
        tracked = target.sudo().message_ids.tracking_value_ids.filtered(
            lambda value: value.field_id.name == "amount"
        )
        self.assertEqual(tracked.old_value_float, 100000)
        self.assertEqual(tracked.new_value_float, 180000)

    def test_salesperson_reads_own_and_team_targets(self):
        own = self._target(self.salesman, "2030-03-01")
        team = self._target(self.team, "2030-03-01")
        other = self._target(self.salesman2, "2030-03-01")
        other_team = self._target(self.other_team, "2030-03-01")
        everything = own | team | other | other_team
        visible = self.env["crm.sales.target"].with_user(self.salesman).search([])
        self.assertEqual(visible & everything, own | team)
        with self.assertRaises(AccessError):
            other.with_user(self.salesman).read(["amount"])
        with self.assertRaises(AccessError):
            own.with_user(self.salesman).write({"amount": 1})
        with self.assertRaises(AccessError):
            self.env["crm.sales.target"].with_user(self.salesman).create(
                {"user_id": self.salesman.id, "period_date": "2031-01-01", "amount": 1}
            )
        everyone = self.env["crm.sales.target"].with_user(self.reader).search([])
        self.assertEqual(everyone & everything, everything)

    def test_other_company_targets_hidden(self):
        company2 = self.env["res.company"].create({"name": "SF Beijing"})
        self.manager.company_ids |= company2
        self.salesman.company_ids |= company2
        target = self.Target.with_company(company2).create(
            {
                "user_id": self.salesman.id,
                "period_date": "2030-03-01",
                "amount": 1,
                "company_id": company2.id,
            }
        )
        # Same person, same month, other company: no overlap.
        self._target(self.salesman, "2030-03-01")
        Target = self.env["crm.sales.target"].with_user(self.salesman)
        self.assertEqual(Target.search([("id", "=", target.id)]), target)
        main_only = Target.with_context(allowed_company_ids=self.company.ids)
        self.assertFalse(main_only.search([("id", "=", target.id)]))

    def test_spreadsheet_import(self):
        result = self.Target.load(
            ["user_id", "period_type", "period_date", "amount"],
            [
                [self.salesman.name, "Quarter", "2030-05-10", "300000"],
                [self.salesman.name, "Month", "2030-05-10", "100000"],
            ],
        )
        self.assertFalse(result["messages"])
        targets = self.Target.browse(result["ids"])
        self.assertEqual(
            [(str(t.date_from), str(t.date_to), t.amount) for t in targets],
            [
                ("2030-04-01", "2030-06-30", 300000),
                ("2030-05-01", "2030-05-31", 100000),
            ],
        )
        result = self.Target.load(
            ["user_id", "period_type", "period_date", "amount"],
            [[self.salesman.name, "Month", "2030-05-01", "1"]],
        )
        self.assertFalse(result["ids"])
        self.assertIn(self.salesman.name, result["messages"][0]["message"])
