from datetime import date

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged

from .common import FunnelCase


class InterviewCase(FunnelCase):
    """An opportunity of Li Na's whose customer has two contacts, and a
    pre-sales engineer who sees every opportunity."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.chief = Partner.create(
            {"name": "王工", "parent_id": cls.partner.id, "function": "总工程师"}
        )
        cls.buyer = Partner.create(
            {"name": "陈经理", "parent_id": cls.partner.id, "function": "采购经理"}
        )
        cls.engineer = new_test_user(
            cls.env,
            "sf_presales",
            groups="sales_team.group_sale_salesman_all_leads",
            name="Zhao Lei",
        )
        cls.Interview = cls.env["crm.lead.interview"]

    def _interview(self, user=None, lead=None, **vals):
        return self.Interview.with_user(user or self.salesman).create(
            {
                "lead_id": (lead or self.lead).id,
                "objective": "Confirm the technical requirements",
                "date": date(2031, 3, 4),
                "participant_ids": [Command.create({"partner_id": self.chief.id})],
                "result_ids": [Command.create({"name": "Needs 12 switchgear bays"})],
                **vals,
            }
        )

    def _activities(self, lead=None):
        return self.env["mail.activity"].search(
            [("res_model", "=", "crm.lead"), ("res_id", "=", (lead or self.lead).id)]
        )


@tagged("post_install", "-at_install")
class TestInterviewReport(InterviewCase):
    def test_logged_from_the_opportunity(self):
        """ "Log Interview" on the opportunity opens a report of its customer;
        the participants are the customer's contacts with their titles, the
        smart button counts the reports and opens them."""
        lead = self.lead.with_user(self.salesman)
        self.assertEqual(lead.interview_count, 0)
        action = lead.action_log_interview()
        self.assertEqual(action["res_model"], "crm.lead.interview")
        form = Form(
            self.Interview.with_user(self.salesman).with_context(**action["context"])
        )
        self.assertEqual(form.lead_id, self.lead)
        self.assertEqual(form.partner_id, self.partner, "the opportunity's customer")
        self.assertEqual(form.user_id, self.salesman)
        self.assertIn(self.salesman, form.user_ids, "the author took part")
        form.objective = "Confirm the technical requirements"
        with form.participant_ids.new() as participant:
            participant.partner_id = self.chief
            self.assertEqual(participant.function, "总工程师", "the contact's title")
        with form.participant_ids.new() as participant:
            participant.partner_id = self.buyer
            participant.function = "采购部副经理"
        with form.result_ids.new() as result:
            result.name = "Needs 12 switchgear bays"
        interview = form.save()

        self.assertEqual(
            interview.participant_ids.mapped("function"), ["总工程师", "采购部副经理"]
        )
        self.assertEqual(
            self.buyer.function, "采购经理", "the contact is left as it was"
        )
        lead.invalidate_recordset(["interview_count"])
        self.assertEqual(lead.interview_count, 1)
        action = lead.action_view_interviews()
        self.assertEqual(action["res_id"], interview.id, "one report opens in its form")
        self._interview()
        lead.invalidate_recordset(["interview_count"])
        self.assertEqual(lead.interview_count, 2)
        action = lead.action_view_interviews()
        self.assertEqual(
            self.Interview.with_user(self.salesman).search(action["domain"]),
            lead.interview_ids,
        )

    def test_participants_are_the_customers_contacts(self):
        stranger = self.env["res.partner"].create({"name": "Someone Else"})
        with self.assertRaisesRegex(ValidationError, "Someone Else is not a contact"):
            self._interview(
                participant_ids=[Command.create({"partner_id": stranger.id})]
            )
        interview = self._interview()
        with self.assertRaises(ValidationError):
            interview.with_user(self.salesman).partner_id = self.env[
                "res.partner"
            ].create({"name": "Other Customer", "is_company": True})

    def test_next_steps_are_activities_on_the_opportunity(self):
        """Each next step is a to-do on the opportunity for its owner, on its
        date; changing the owner or date moves it, removing the step or the
        report removes it."""
        interview = self._interview(
            step_ids=[
                Command.create(
                    {
                        "name": "Send the single-line diagram",
                        "user_id": self.salesman.id,
                        "date_deadline": date(2031, 3, 10),
                    }
                ),
                Command.create(
                    {
                        "name": "Technical clarification with the design institute",
                        "user_id": self.engineer.id,
                        "date_deadline": date(2031, 3, 20),
                    }
                ),
            ]
        )
        activities = self._activities()
        self.assertEqual(len(activities), 2)
        by_summary = {activity.summary: activity for activity in activities}
        diagram = by_summary["Send the single-line diagram"]
        self.assertEqual(diagram.user_id, self.salesman)
        self.assertEqual(diagram.date_deadline, date(2031, 3, 10))
        clarification = by_summary["Technical clarification with the design institute"]
        self.assertEqual(clarification.user_id, self.engineer)
        self.assertEqual(clarification.date_deadline, date(2031, 3, 20))

        step = interview.step_ids.filtered(lambda s: s.activity_id == diagram)
        step.with_user(self.salesman).write(
            {"user_id": self.engineer.id, "date_deadline": date(2031, 3, 12)}
        )
        self.assertEqual(diagram.user_id, self.engineer)
        self.assertEqual(diagram.date_deadline, date(2031, 3, 12))

        interview.with_user(self.salesman).write(
            {"step_ids": [Command.delete(step.id)]}
        )
        self.assertFalse(diagram.exists())
        self.assertEqual(self._activities(), clarification)

        # Done by its owner: the step keeps no activity, and can still change.
        clarification.with_user(self.engineer).action_feedback("Done")
        self.assertFalse(interview.step_ids.activity_id)
        interview.step_ids.with_user(self.salesman).date_deadline = date(2031, 4, 1)
        self.assertFalse(self._activities())

        interview.with_user(self.salesman).write(
            {
                "step_ids": [
                    Command.create({"name": "Quote", "date_deadline": date(2031, 5, 1)})
                ]
            }
        )
        quote = self._activities()
        self.assertEqual(
            quote.user_id, self.salesman, "the author owns a step by default"
        )
        interview.with_user(self.salesman).unlink()
        self.assertFalse(quote.exists(), "a deleted report leaves no activity behind")

    def test_two_next_steps_for_a_colleague_new_to_the_deal(self):
        """Two next steps for the same owner, who does not follow the deal yet,
        saved at once: two activities, and the owner follows the deal once."""
        self.assertNotIn(self.engineer.partner_id, self.lead.message_partner_ids)
        self._interview(
            step_ids=[
                Command.create(
                    {
                        "name": name,
                        "user_id": self.engineer.id,
                        "date_deadline": date(2031, 3, day),
                    }
                )
                for name, day in (("Site survey", 10), ("Single-line diagram", 12))
            ]
        )
        activities = self._activities()
        self.assertEqual(
            sorted(activities.mapped("summary")), ["Single-line diagram", "Site survey"]
        )
        self.assertEqual(activities.user_id, self.engineer)
        self.assertIn(self.engineer.partner_id, self.lead.message_partner_ids)

    def test_submitted_report_is_kept_until_a_manager_reopens_it(self):
        interview = self._interview(
            step_ids=[
                Command.create({"name": "Quote", "date_deadline": date(2031, 5, 1)})
            ]
        )
        incomplete = self._interview(participant_ids=[], result_ids=[])
        with self.assertRaisesRegex(UserError, "a customer participant, a result"):
            incomplete.with_user(self.salesman).action_submit()
        self.assertEqual(incomplete.state, "draft")

        mine = interview.with_user(self.salesman)
        mine.action_submit()
        self.assertEqual(interview.state, "done")
        self.assertTrue(interview.submit_date)
        self.assertIn(
            "Customer interview report submitted",
            self.lead.message_ids[0].body,
            "the opportunity's chatter links the report",
        )
        step = interview.step_ids
        for change in (
            lambda: mine.write({"objective": "Something else"}),
            lambda: mine.write({"date": date(2031, 1, 1)}),
            lambda: mine.result_ids.write({"name": "Changed"}),
            lambda: mine.participant_ids.unlink(),
            lambda: mine.write({"result_ids": [Command.create({"name": "Added"})]}),
            lambda: step.with_user(self.salesman).write(
                {"date_deadline": date(2032, 1, 1)}
            ),
            lambda: (
                self.env["crm.lead.interview.result"]
                .with_user(self.salesman)
                .create({"interview_id": interview.id, "name": "Added"})
            ),
            lambda: mine.unlink(),
            lambda: interview.with_user(self.manager).write({"objective": "Edited"}),
        ):
            with self.assertRaisesRegex(UserError, "is submitted.*can reopen it"):
                change()
        with self.assertRaisesRegex(UserError, "Only a sales manager can reopen"):
            mine.action_reopen()
        self.assertEqual(interview.objective, "Confirm the technical requirements")
        self.assertEqual(interview.result_ids.name, "Needs 12 switchgear bays")
        self.assertEqual(step.date_deadline, date(2031, 5, 1))
        self.assertEqual(step.activity_id.date_deadline, date(2031, 5, 1))
        self.assertEqual(interview.state, "done")
        mine.message_post(body="Good meeting")  # the chatter stays open

        interview.with_user(self.manager).action_reopen()
        self.assertEqual(interview.state, "draft")
        mine.write({"objective": "Confirm the technical requirements and budget"})
        self.assertEqual(
            interview.objective, "Confirm the technical requirements and budget"
        )

    def test_evidence_for_the_criteria(self):
        """crm.lead._interview_reports(): the submitted reports, optionally
        those a given contact of the customer took part in."""
        draft = self._interview()
        self.assertFalse(self.lead._interview_reports())
        with_buyer = self._interview(
            participant_ids=[Command.create({"partner_id": self.buyer.id})]
        )
        (draft | with_buyer).with_user(self.salesman).action_submit()
        lead = self.lead.with_user(self.salesman)
        self.assertEqual(lead._interview_reports(), draft | with_buyer)
        self.assertEqual(lead._interview_reports(partners=self.buyer), with_buyer)
        self.assertEqual(lead._interview_reports(partners=self.chief), draft)
        self.assertFalse(lead._interview_reports(partners=self.env["res.partner"]))


@tagged("post_install", "-at_install")
class TestInterviewAccess(InterviewCase):
    def test_salespeople_see_their_own_deals_reports(self):
        interview = self._interview(
            step_ids=[
                Command.create({"name": "Quote", "date_deadline": date(2031, 5, 1)})
            ]
        )
        other = self.Interview.with_user(self.salesman2)
        self.assertFalse(other.search([]))
        for model in (
            "crm.lead.interview.participant",
            "crm.lead.interview.result",
            "crm.lead.interview.step",
        ):
            self.assertFalse(
                self.env[model].with_user(self.salesman2).search([]), model
            )
        with self.assertRaises(AccessError):
            other.browse(interview.id).objective  # noqa: B018
        with self.assertRaises(AccessError):
            self._interview(user=self.salesman2)
        with self.assertRaises(AccessError):
            other.browse(interview.id).write({"objective": "Mine now"})

        # The report follows its opportunity to its new salesperson.
        self.lead.user_id = self.salesman2
        self.assertEqual(other.search([]), interview)
        self.assertFalse(self.Interview.with_user(self.salesman).search([]))

    def test_managers_read_and_write_all_in_their_companies(self):
        interview = self._interview()
        managed = interview.with_user(self.manager)
        managed.write({"objective": "Reviewed by the manager"})
        self.assertEqual(interview.objective, "Reviewed by the manager")
        self.assertEqual(self.Interview.with_user(self.manager).search([]), interview)

        branch = self.env["res.company"].create({"name": "深圳分公司"})
        outsider = new_test_user(
            self.env,
            "sf_branch_manager",
            groups="sales_team.group_sale_manager",
            company_id=branch.id,
            company_ids=[Command.set(branch.ids)],
        )
        self.lead.company_id = self.company
        self.assertFalse(self.Interview.with_user(outsider).search([]))
        with self.assertRaises(AccessError):
            interview.with_user(outsider).objective  # noqa: B018
        self.assertFalse(
            self.env["crm.lead.interview.result"].with_user(outsider).search([])
        )
