import base64

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestEvidence(FunnelCase):
    """Criteria that ask for their evidence: the Basic Facts Card, the
    existing-problem record, the trial report, an attached document."""

    def _line(self, lead, xml_id):
        criterion = self.env.ref(f"sales_funnel.{xml_id}")
        return lead.criterion_ids.filtered(lambda line: line.criterion_id == criterion)

    def _contact(self, name):
        return self.env["res.partner"].create(
            {"name": name, "parent_id": self.partner.id}
        )

    def _walk_to(self, lead, *stages):
        for stage in stages:
            self._tick_all(lead)
            lead.with_user(self.salesman).write({"stage_id": stage.id})

    def test_shipped_criteria_ask_for_their_documents(self):
        expected = {
            "criterion_verification_04": ("interview", False),
            "criterion_proposal_04": ("interview", False),
            "criterion_verification_06": ("card_section", "organisation"),
            "criterion_verification_07": ("card_section", "buying_roles"),
            "criterion_verification_08": ("card_section", "basics"),
            "criterion_development_03": ("card_section", "coach"),
            "criterion_development_06": ("problem", False),
            "criterion_development_10": ("card_section", "buying_stage"),
            "criterion_development_11": ("card_section", "budget"),
            "criterion_proposal_01": ("card_section", "funds"),
            "criterion_proposal_06": ("trial", False),
            "criterion_closing_01": ("card_section", "decision_maker"),
            "criterion_closing_03": ("card_section", "value_points"),
            "criterion_closing_07": ("attachment", False),
        }
        for xml_id, (kind, section) in expected.items():
            criterion = self.env.ref(f"sales_funnel.{xml_id}")
            self.assertEqual(
                (criterion.evidence_type, criterion.evidence_card_section),
                (kind, section),
                xml_id,
            )
        self.assertIn("trial report", self.proposal.verification_output)
        self.assertIn("attached", self.closing.verification_output)

    def test_tick_refused_without_its_document(self):
        line = self._line(self.lead, "criterion_verification_08").with_user(
            self.salesman
        )
        plain = self._line(self.lead, "criterion_verification_01").with_user(
            self.salesman
        )
        with self.assertRaises(UserError) as refusal:
            (plain | line).write({"done": True})
        message = str(refusal.exception)
        self.assertIn("Submitted the Basic Facts Card", message)
        self.assertIn("Basic Facts Card", message)
        self.assertIn("organisation and the four buying roles", message)
        self.assertFalse((plain | line).filtered("done"), "nothing changed")
        self.assertFalse(line.done_user_id)
        # A criterion without evidence is ticked as before.
        plain.write({"done": True})
        self.assertTrue(plain.done)
        self.assertFalse(plain.evidence_ref)

    def test_tick_with_its_document_links_it(self):
        criterion = self.env["crm.stage.criterion"].create(
            {
                "name": "Problems discussed with the workshop",
                "stage_id": self.verification.id,
                "evidence_type": "problem",
            }
        )
        line = self.lead.criterion_ids.filtered(
            lambda line: line.criterion_id == criterion
        ).with_user(self.salesman)
        with self.assertRaisesRegex(UserError, "existing-problem record"):
            line.write({"done": True})
        problem = (
            self.env["crm.lead.problem"]
            .with_user(self.salesman)
            .create(
                {
                    "lead_id": self.lead.id,
                    "name": "Night-shift lighting too dim",
                    "raised_by_id": self._contact("Workshop head").id,
                }
            )
        )
        self.assertFalse(line.done, "not ticked for the salesperson: not asked to")
        line.write({"done": True})
        self.assertEqual(line.evidence_ref, problem)
        self.assertEqual(line.done_user_id, self.salesman)
        # The checklist on the opportunity shows the link.
        form = self.lead.with_user(self.salesman).get_views([(False, "form")])
        self.assertIn('name="evidence_ref"', form["views"]["form"]["arch"])
        action = line.action_open_evidence()
        self.assertEqual(
            (action["res_model"], action["res_id"]), ("crm.lead.problem", problem.id)
        )
        line.write({"done": False})
        self.assertFalse(line.evidence_ref)

    def test_card_ticks_what_it_answers_and_unticks_what_it_loses(self):
        lead = self.lead.with_user(self.salesman)
        roles = ["user", "influencer", "decision_maker", "buyer"]
        card = (
            self.env["crm.lead.fact.card"]
            .with_user(self.salesman)
            .create(
                {
                    "lead_id": lead.id,
                    "role_ids": [
                        Command.create(
                            {"role": role, "partner_id": self._contact(role).id}
                        )
                        for role in roles
                    ],
                }
            )
        )
        roles_line = self._line(lead, "criterion_verification_07")
        org_line = self._line(lead, "criterion_verification_06")
        submitted_line = self._line(lead, "criterion_verification_08")
        self.assertTrue(roles_line.done)
        self.assertEqual(roles_line.done_user_id, self.salesman)
        self.assertEqual(roles_line.evidence_ref, card)
        self.assertFalse(org_line.done | submitted_line.done)
        card.organisation = "<p>Equipment dept. requests, director approves</p>"
        self.assertTrue(org_line.done and submitted_line.done)

        # The coach named in Verification ticks "Found a coach" on entering
        # Development; the problem record ticks the recorded needs.
        card.role_ids = [
            Command.create({"role": "coach", "partner_id": self._contact("Coach").id})
        ]
        self._walk_to(lead, self.development)
        coach_line = self._line(lead, "criterion_development_03")
        needs_line = self._line(lead, "criterion_development_06")
        self.assertTrue(coach_line.done)
        self.assertFalse(needs_line.done)
        problem = (
            self.env["crm.lead.problem"]
            .with_user(self.salesman)
            .create({"lead_id": lead.id, "name": "Dim warehouse"})
        )
        self.assertTrue(needs_line.done)
        self.assertEqual(needs_line.evidence_ref, problem)

        # Removing the evidence unticks, with a note on the opportunity.
        card.role_ids.filtered(lambda role: role.role == "coach").unlink()
        problem.unlink()
        self.assertFalse(coach_line.done or needs_line.done)
        self.assertFalse(coach_line.done_user_id or coach_line.evidence_ref)
        notes = lead.message_ids.filtered(
            lambda message: "no longer ticked" in (message.body or "")
        ).mapped("body")
        self.assertEqual(len(notes), 2)
        self.assertTrue(any("Found a coach" in note for note in notes))
        self.assertTrue(any("existing-problem record" in note for note in notes))
        # Verification's ticks keep their evidence.
        self.assertTrue(roles_line.done)

        # Deleting the whole card unticks what it proved.
        card.unlink()
        self.assertFalse(roles_line.done or org_line.done or submitted_line.done)

    def test_ticks_without_a_link_are_left_alone(self):
        """Ticks made before the criterion asked for evidence (an upgraded
        database) are not unticked when a document is saved."""
        line = self._line(self.lead, "criterion_verification_06")
        line.criterion_id.evidence_type = "none"
        line.with_user(self.salesman).write({"done": True})
        line.criterion_id.write(
            {"evidence_type": "card_section", "evidence_card_section": "organisation"}
        )
        self.env["crm.lead.fact.card"].with_user(self.salesman).create(
            {"lead_id": self.lead.id, "funds_source": "Own funds"}
        )
        self.assertTrue(line.done)

    def test_card_section_needed_when_asked(self):
        with self.assertRaises(ValidationError):
            self.env["crm.stage.criterion"].create(
                {
                    "name": "Card in order",
                    "stage_id": self.verification.id,
                    "evidence_type": "card_section",
                }
            )

    def test_trial_report_accepted_is_kept_as_accepted(self):
        lead = self.lead.with_user(self.salesman)
        self._walk_to(lead, self.development, self.proposal)
        result_line = self._line(lead, "criterion_proposal_06")
        with self.assertRaisesRegex(UserError, "trial report accepted"):
            result_line.with_user(self.salesman).write({"done": True})
        report = (
            self.env["crm.lead.trial.report"]
            .with_user(self.salesman)
            .create({"lead_id": lead.id, "name": "20 LED high-bay lamps, hall 3"})
        )
        report.write({"results": "<p>Lux doubled, 40 % less power</p>"})
        with self.assertRaises(ValidationError) as refusal:
            report.write(
                {
                    "accepted_by_id": self._contact("Director Wang").id,
                    "acceptance_date": fields.Date.today(),
                    "accepted": True,
                }
            )
        self.assertIn("the signed report", str(refusal.exception))
        self.assertFalse(report.accepted)
        self.assertFalse(result_line.done, "a draft report proves nothing")
        report.write(
            {
                "accepted_by_id": self._contact("Director Wang").id,
                "acceptance_date": fields.Date.today(),
                "signed_report": base64.b64encode(b"%PDF-1.4 signed"),
                "signed_report_name": "trial-signed.pdf",
            }
        )
        report.action_accept()
        self.assertTrue(report.accepted)
        self.assertTrue(result_line.done)
        self.assertEqual(result_line.evidence_ref, report)
        for user in (self.salesman, self.manager):
            with self.assertRaisesRegex(UserError, "kept as they were recorded"):
                report.with_user(user).write({"results": "<p>Better</p>"})
            with self.assertRaisesRegex(UserError, "kept as they were recorded"):
                report.with_user(user).unlink()
        self.assertIn("40 %", report.results)
        # Its chatter stays open.
        report.message_post(body="Copy sent to the customer")

    def test_attachment_evidence(self):
        criterion = self.env["crm.stage.criterion"].create(
            {
                "name": "Credit report filed",
                "stage_id": self.verification.id,
                "evidence_type": "attachment",
            }
        )
        line = self.lead.criterion_ids.filtered(
            lambda line: line.criterion_id == criterion
        ).with_user(self.salesman)
        with self.assertRaisesRegex(UserError, "document attached"):
            line.write({"done": True})
        attachment = (
            self.env["ir.attachment"]
            .with_user(self.salesman)
            .create(
                {
                    "name": "credit-report.pdf",
                    "raw": b"%PDF-1.4",
                    "res_model": "crm.lead",
                    "res_id": self.lead.id,
                }
            )
        )
        line.write({"done": True})
        self.assertEqual(line.evidence_ref, attachment)
        attachment.unlink()
        self.assertFalse(line.done)

    def test_interview_report_evidence(self):
        lead = self.lead.with_user(self.salesman)
        met = self._line(lead, "criterion_verification_04").with_user(self.salesman)
        with self.assertRaisesRegex(UserError, "customer interview report"):
            met.write({"done": True})
        interview = (
            self.env["crm.lead.interview"]
            .with_user(self.salesman)
            .create(
                {
                    "lead_id": lead.id,
                    "objective": "First visit",
                    "participant_ids": [
                        Command.create({"partner_id": self._contact("Host").id})
                    ],
                    "result_ids": [Command.create({"name": "Need confirmed"})],
                }
            )
        )
        self.assertFalse(met.done, "a draft report proves nothing")
        interview.action_submit()
        self.assertTrue(met.done)
        self.assertEqual(met.evidence_ref, interview)
        self.assertEqual(met.done_user_id, self.salesman)
        # A sales manager reopens it: the tick goes, with a note.
        interview.with_user(self.manager).action_reopen()
        self.assertFalse(met.done)
        self.assertTrue(
            lead.message_ids.filtered(
                lambda message: (
                    "Met the customer face to face" in (message.body or "")
                    and "no longer ticked" in message.body
                )
            )
        )

    def test_interview_with_the_decision_maker(self):
        """ "Product features shown to the approving decision maker" needs an
        interview report in which the card's decision maker took part."""
        lead = self.lead.with_user(self.salesman)
        self._walk_to(lead, self.development, self.proposal)
        shown = self._line(lead, "criterion_proposal_04").with_user(self.salesman)
        self.assertFalse(shown.done, "not ticked for the salesperson")
        with self.assertRaisesRegex(UserError, "decision maker"):
            shown.write({"done": True})  # the reports so far: no decision maker
        director = self._contact("Director Wang")
        lead.fact_card_ids.role_ids = [
            Command.create({"role": "decision_maker", "partner_id": director.id})
        ]
        with self.assertRaisesRegex(UserError, "decision maker"):
            shown.write({"done": True})
        interview = (
            self.env["crm.lead.interview"]
            .with_user(self.salesman)
            .create(
                {
                    "lead_id": lead.id,
                    "objective": "Demonstration to the director",
                    "participant_ids": [Command.create({"partner_id": director.id})],
                    "result_ids": [Command.create({"name": "Director impressed"})],
                }
            )
        )
        interview.action_submit()
        self.assertFalse(shown.done)
        shown.write({"done": True})
        self.assertEqual(shown.evidence_ref, interview)
