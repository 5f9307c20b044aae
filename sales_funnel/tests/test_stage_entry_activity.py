from odoo import Command, fields
from odoo.tests import new_test_user, tagged
from odoo.tests.common import TransactionCase

from .common import without_required_facts


@tagged("post_install", "-at_install")
class TestStageEntryActivity(TransactionCase):
    """Entering a stage schedules the collaboration activity it asks for."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = new_test_user(
            cls.env, "sf_entry_sales", groups="sales_team.group_sale_salesman"
        )
        cls.solutions_lead = new_test_user(
            cls.env, "sf_entry_solutions", groups="sales_team.group_sale_salesman"
        )
        cls.verification = cls.env.ref("sales_funnel.crm_stage_verification")
        cls.development = cls.env.ref("sales_funnel.crm_stage_development")
        without_required_facts(cls.env)
        cls.todo = cls.env.ref("mail.mail_activity_data_todo")
        cls.development.write(
            {
                "entry_activity_type_id": cls.todo.id,
                "entry_activity_summary": "Bring in the solutions team",
                "entry_activity_days": 3,
            }
        )
        customer = cls.env["res.partner"].create(
            {"name": "Entry customer", "is_company": True}
        )
        cls.lead = cls.env["crm.lead"].create(
            {
                "name": "Entry activity deal",
                "type": "opportunity",
                "partner_id": customer.id,
                "stage_id": cls.verification.id,
                "user_id": cls.salesman.id,
            }
        )
        # The interview report and the Basic Facts Card Verification asks for.
        contacts = cls.env["res.partner"].create(
            [{"name": f"Entry contact {n}", "parent_id": customer.id} for n in range(4)]
        )
        cls.env["crm.lead.interview"].create(
            {
                "lead_id": cls.lead.id,
                "objective": "First visit",
                "participant_ids": [Command.create({"partner_id": contacts[0].id})],
                "user_ids": [Command.set(cls.salesman.ids)],
                "result_ids": [Command.create({"name": "Needs confirmed"})],
            }
        ).action_submit()
        cls.env["crm.lead.fact.card"].create(
            {
                "lead_id": cls.lead.id,
                "organisation": "<p>Director approves, procurement buys</p>",
                "role_ids": [
                    Command.create({"role": role, "partner_id": contact.id})
                    for role, contact in zip(
                        ["user", "influencer", "decision_maker", "buyer"],
                        contacts,
                        strict=True,
                    )
                ],
            }
        )
        cls.lead.current_criterion_ids.write({"done": True})

    def test_entry_schedules_activity_for_salesperson(self):
        lead = self.lead.with_user(self.salesman)
        lead.write({"stage_id": self.development.id})
        activity = lead.activity_ids.filtered(
            lambda a: a.summary == "Bring in the solutions team"
        )
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.salesman)
        self.assertEqual(activity.activity_type_id, self.todo)
        today = fields.Date.context_today(lead)
        self.assertEqual(activity.date_deadline, fields.Date.add(today, days=3))

    def test_entry_activity_goes_to_configured_user(self):
        self.development.entry_activity_user_id = self.solutions_lead
        self.lead.with_user(self.salesman).write({"stage_id": self.development.id})
        self.assertEqual(self.lead.activity_ids.user_id, self.solutions_lead)

    def test_stage_without_entry_activity_schedules_nothing(self):
        self.development.entry_activity_type_id = False
        self.lead.with_user(self.salesman).write({"stage_id": self.development.id})
        self.assertFalse(self.lead.activity_ids)
