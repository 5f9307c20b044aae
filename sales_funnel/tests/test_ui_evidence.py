import shutil
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestEvidenceUi(HttpCase):
    """A salesperson logs a customer interview report from an opportunity and
    sees what it changed there; then loses another deal through the Lost
    wizard, which asks for the loss report."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = new_test_user(
            cls.env,
            "sf_evidence_sales",
            password="sf_evidence_sales",
            groups="sales_team.group_sale_salesman",
            name="SF Evidence Salesperson",
        )
        cls.engineer = new_test_user(
            cls.env,
            "sf_evidence_presales",
            groups="sales_team.group_sale_salesman",
            name="SF Presales Engineer",
        )
        Partner = cls.env["res.partner"]
        customer = Partner.create({"name": "SF Evidence Customer", "is_company": True})
        cls.chief = Partner.create(
            {
                "name": "SF Evidence Chief",
                "parent_id": customer.id,
                "function": "Chief Engineer",
            }
        )
        cls.rival = Partner.create(
            {
                "name": "SF Rival Automation",
                "is_company": True,
                "sales_funnel_is_competitor": True,
            }
        )
        verification = cls.env.ref("sales_funnel.crm_stage_verification")
        cls.lead, cls.lost_lead = cls.env["crm.lead"].create(
            [
                {
                    "name": name,
                    "type": "opportunity",
                    "partner_id": customer.id,
                    "user_id": cls.salesman.id,
                    "stage_id": verification.id,
                    "expected_revenue": revenue,
                }
                for name, revenue in (
                    ("SF Evidence Deal", 180000),
                    ("SF Lost Deal", 120000),
                )
            ]
        )
        cls.face_to_face = cls.env.ref("sales_funnel.criterion_verification_04")

    def setUp(self):
        super().setUp()
        # Odoo skips browser tests silently without these: here it is a failure.
        self.assertTrue(
            shutil.which("chromium") or shutil.which("google-chrome"),
            "Chromium is required for the browser tests (Debian package chromium).",
        )
        import websocket  # noqa: F401  (websocket-client, required by Odoo's browser)

    def test_interview_ticks_and_plans_then_loss_asks_for_report(self):
        line = self.lead.criterion_ids.filtered(
            lambda line: line.criterion_id == self.face_to_face
        )
        self.assertFalse(line.done, "no interview report yet")

        self.start_tour(
            f"/odoo/crm/{self.lead.id}",
            "sales_funnel_evidence_tour",
            login="sf_evidence_sales",
        )

        # The interview report, submitted, is the evidence of the criterion.
        interview = self.lead.interview_ids
        self.assertEqual(len(interview), 1)
        self.assertEqual(interview.state, "done")
        self.assertEqual(interview.user_id, self.salesman)
        self.assertEqual(interview.participant_ids.partner_id, self.chief)
        self.assertEqual(interview.participant_ids.function, "Chief Engineer")
        self.assertEqual(
            interview.result_ids.mapped("name"),
            ["Two assembly lines to automate in 2027"],
        )
        self.assertTrue(line.done)
        self.assertEqual(line.done_user_id, self.salesman)
        self.assertEqual(line.evidence_ref, interview)
        # Its next step is an activity of its owner on the opportunity.
        step = interview.step_ids
        self.assertEqual(step.name, "Send the line layout drawing")
        self.assertEqual(step.user_id, self.engineer)
        self.assertEqual(
            step.date_deadline,
            fields.Date.context_today(self.lead) + timedelta(days=10),
        )
        activity = step.activity_id
        self.assertEqual(
            (activity.res_model, activity.res_id), ("crm.lead", self.lead.id)
        )
        self.assertEqual(activity.user_id, self.engineer)
        self.assertEqual(activity.date_deadline, step.date_deadline)
        self.assertEqual(activity.summary, step.name)

        # The other deal is lost with its complete loss report.
        self.assertFalse(self.lost_lead.active)
        self.assertTrue(self.lead.active)
        self.assertEqual(
            self.lost_lead.lost_reason_id,
            self.env.ref("sales_funnel.crm_lost_reason_competitor"),
        )
        report = self.lost_lead.loss_report_id
        self.assertEqual(report.lost_reason_id, self.lost_lead.lost_reason_id)
        self.assertEqual(
            report.customer_reason, "The rival offered a shorter delivery time."
        )
        self.assertEqual(report.analysis, "We met the decision maker too late.")
        self.assertEqual(report.prevention, "Meet the decision maker in Verification.")
        self.assertEqual(report.competitor_id, self.rival)
        self.assertEqual(report.competitor_price, 95000)
        self.assertEqual(
            report.stage_id, self.env.ref("sales_funnel.crm_stage_verification")
        )
        self.assertEqual(
            self.lost_lead.stage_history_ids.filtered(
                lambda history: history.event == "lost"
            ).user_id,
            self.salesman,
        )
