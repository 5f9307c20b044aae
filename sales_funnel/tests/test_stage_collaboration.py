import importlib.util
from pathlib import Path

from odoo import Command, fields
from odoo.tests import new_test_user, tagged

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestStageCollaboration(FunnelCase):
    """Entering Development brings in the solutions team, Proposal the technical
    team: each member gets one activity on the deal, by every path."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.solutions = cls.env.ref("sales_funnel.group_solutions_engineer")
        cls.technical = cls.env.ref("sales_funnel.group_technical_support")
        cls.engineer = new_test_user(
            cls.env,
            "sf_solutions_1",
            groups="base.group_user,sales_funnel.group_solutions_engineer",
            name="Sun Hao",
        )
        cls.engineer2 = new_test_user(
            cls.env,
            "sf_solutions_2",
            groups="base.group_user,sales_funnel.group_solutions_engineer",
            name="Qian Yu",
            lang="en_US",
        )
        cls.technician = new_test_user(
            cls.env,
            "sf_technical",
            groups="base.group_user,sales_funnel.group_technical_support",
        )
        cls.engineers = cls.engineer | cls.engineer2

    def _brought_in(self, lead, users=None):
        """The open activities the stages planned on ``lead`` for ``users``."""
        return lead.activity_ids.filtered(
            lambda activity: (
                activity.sales_funnel_stage_id
                and activity.user_id in (users or self.engineers)
            )
        )

    def _to_development(self, lead, user=None):
        self._tick_all(lead, user)
        lead.with_user(user or self.salesman).write({"stage_id": self.development.id})

    def test_shipped_configuration(self):
        """Without demo data, Development names the solutions team and Proposal
        the technical team; nothing else brings anyone in."""
        development = self.env.ref("sales_funnel.crm_stage_collaboration_development")
        proposal = self.env.ref("sales_funnel.crm_stage_collaboration_proposal")
        self.assertEqual(development.stage_id, self.development)
        self.assertEqual(development.group_id, self.solutions)
        self.assertEqual(proposal.stage_id, self.proposal)
        self.assertEqual(proposal.group_id, self.technical)
        self.assertEqual(
            self.env["crm.stage.collaboration"].search([]), development | proposal
        )
        self.assertEqual(development.activity_type_id.name, "To-Do")
        # The teams see the deals they are brought into.
        self.assertTrue(
            self.engineer.has_group("sales_team.group_sale_salesman_all_leads")
        )

    def test_move_brings_in_each_member_once(self):
        """A kanban drop into Development: one activity per solutions engineer,
        due two days later, readable by them, on a deal they can open."""
        self._to_development(self.lead)
        activities = self._brought_in(self.lead)
        self.assertEqual(activities.user_id, self.engineers)
        self.assertEqual(len(activities), 2)
        today = fields.Date.context_today(self.lead)
        for activity in activities:
            self.assertEqual(activity.summary, "Join the deal at Development")
            self.assertEqual(activity.date_deadline, fields.Date.add(today, days=2))
            self.assertEqual(
                activity.activity_type_id, self.env.ref("mail.mail_activity_data_todo")
            )
        # The engineer sees the deal and their activity.
        deal = self.lead.with_user(self.engineer)
        self.assertEqual(deal.name, "Substation retrofit")
        self.assertIn(self.engineer.partner_id, self.lead.message_partner_ids)
        # The technical team is not concerned by Development.
        self.assertFalse(self._brought_in(self.lead, self.technician))

    def test_step_back_and_forth_does_not_duplicate(self):
        self._to_development(self.lead)
        lead = self.lead.with_user(self.salesman)
        lead.write({"stage_id": self.verification.id})
        self._to_development(self.lead)
        self.assertEqual(len(self._brought_in(self.lead)), 2)
        # Once an engineer has done theirs, entering again brings them in again.
        self._brought_in(self.lead, self.engineer).with_user(
            self.engineer
        ).action_feedback(feedback="Service plan drafted")
        lead.write({"stage_id": self.verification.id})
        self._to_development(self.lead)
        self.assertEqual(len(self._brought_in(self.lead, self.engineer)), 1)
        self.assertEqual(len(self._brought_in(self.lead, self.engineer2)), 1)

    def test_next_stage_brings_in_the_technical_team(self):
        self._to_development(self.lead)
        self._tick_all(self.lead)
        self.lead.with_user(self.salesman).write({"stage_id": self.proposal.id})
        activity = self._brought_in(self.lead, self.technician)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.summary, "Join the deal at Proposal")

    def test_creation_in_the_stage(self):
        """A sales manager creates a deal directly in Development (a written
        reason passes the gate): the solutions team is brought in."""
        lead = (
            self.env["crm.lead"]
            .with_user(self.manager)
            .create(
                {
                    "name": "Transformer monitoring",
                    "type": "opportunity",
                    "partner_id": self.partner.id,
                    "user_id": self.salesman.id,
                    "stage_id": self.development.id,
                    "gate_override_reason": "Verified at the trade fair",
                }
            )
        )
        self.assertEqual(self._brought_in(lead).user_id, self.engineers)

    def test_import_into_the_stage(self):
        """An import that moves deals into Development brings the team in."""
        self._tick_all(self.lead)
        result = (
            self.env["crm.lead"]
            .with_user(self.salesman)
            .load([".id", "stage_id"], [[str(self.lead.id), "Development"]])
        )
        self.assertFalse(result["messages"])
        self.assertEqual(self.lead.stage_id, self.development)
        self.assertEqual(len(self._brought_in(self.lead)), 2)

    def test_copy_into_a_stage_with_collaborators(self):
        """A copy starts in the first stage: a team named there is brought in."""
        self.verification.collaboration_ids = [
            Command.create({"user_ids": [Command.set(self.technician.ids)]})
        ]
        copy = self.lead.with_user(self.salesman).copy()
        self.assertEqual(copy.stage_id, self.verification)
        activity = self._brought_in(copy, self.technician)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.summary, "Join the deal at Verification")

    def test_editable_line_summary_type_and_delay(self):
        call = self.env.ref("mail.mail_activity_data_call")
        line = self.env.ref("sales_funnel.crm_stage_collaboration_development")
        line.with_user(self.manager).write(
            {
                "activity_type_id": call.id,
                "summary": "Prepare the service plan",
                "delay_days": 5,
                "group_id": False,
                "user_ids": [Command.set(self.engineer2.ids)],
            }
        )
        self._to_development(self.lead)
        activity = self._brought_in(self.lead)
        self.assertEqual(activity.user_id, self.engineer2)
        self.assertEqual(activity.activity_type_id, call)
        self.assertEqual(activity.summary, "Prepare the service plan")
        today = fields.Date.context_today(self.lead)
        self.assertEqual(activity.date_deadline, fields.Date.add(today, days=5))

    def test_members_of_another_company_are_not_brought_in(self):
        other = self.env["res.company"].create({"name": "Beijing branch"})
        self.engineer2.write(
            {"company_ids": [Command.set(other.ids)], "company_id": other.id}
        )
        self._to_development(self.lead)
        self.assertEqual(self._brought_in(self.lead).user_id, self.engineer)

    def test_stage_entry_activity_not_duplicated_either(self):
        """The stage's own entry activity (for the salesperson) follows the same
        rule, and is planned on creation too."""
        todo = self.env.ref("mail.mail_activity_data_todo")
        self.verification.write(
            {"entry_activity_type_id": todo.id, "entry_activity_summary": "Visit"}
        )
        lead = self._new_lead("Cable tunnel", self.salesman)
        visits = lead.activity_ids.filtered(lambda a: a.summary == "Visit")
        self.assertEqual(visits.user_id, self.salesman)
        self._to_development(lead)
        lead.with_user(self.salesman).write({"stage_id": self.verification.id})
        visits = lead.activity_ids.filtered(lambda a: a.summary == "Visit")
        self.assertEqual(len(visits), 1)


@tagged("post_install", "-at_install")
class TestStageCollaborationMigration(FunnelCase):
    """A database installed with 18.0.1.0.0 gets the shipped collaboration from
    the migration script (the noupdate data file only runs on installation)."""

    def _migrate(self):
        script = (
            Path(__file__).resolve().parent.parent
            / "migrations"
            / "18.0.1.1.0"
            / "post-stage-collaboration.py"
        )
        spec = importlib.util.spec_from_file_location("post_collaboration", script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.migrate(self.env.cr, "18.0.1.0.0")
        self.env.invalidate_all()

    def test_installed_database_gets_the_shipped_collaboration(self):
        Line = self.env["crm.stage.collaboration"]
        Line.search([]).unlink()  # as released: no collaboration at all
        self._migrate()
        self._migrate()  # run twice: still one line per stage
        lines = Line.search([])
        self.assertEqual(lines.stage_id, self.development | self.proposal)
        self.assertEqual(len(lines), 2)
        self.assertEqual(
            self.env.ref("sales_funnel.crm_stage_collaboration_development").group_id,
            self.env.ref("sales_funnel.group_solutions_engineer"),
        )

    def test_a_team_already_named_is_not_added_twice(self):
        Line = self.env["crm.stage.collaboration"]
        Line.search([]).unlink()
        solutions = self.env.ref("sales_funnel.group_solutions_engineer")
        Line.create({"stage_id": self.development.id, "group_id": solutions.id})
        self._migrate()
        self.assertEqual(len(self.development.collaboration_ids), 1)
        self.assertEqual(len(self.proposal.collaboration_ids), 1)
