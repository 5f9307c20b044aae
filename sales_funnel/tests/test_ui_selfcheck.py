import shutil

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestSelfcheckUi(HttpCase):
    """A salesperson submits their weekly self-check (周自检); their team
    leader reviews it one to one (一对一检查) and signs off; the salesperson
    reads the comments. Both are plain salespeople: the leader reviews as the
    leader of the salesperson's team."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = new_test_user(
            cls.env,
            "sf_selfcheck_sales",
            password="sf_selfcheck_sales",
            groups="sales_team.group_sale_salesman",
            name="SF Selfcheck Salesperson",
        )
        cls.leader = new_test_user(
            cls.env,
            "sf_selfcheck_leader",
            password="sf_selfcheck_leader",
            groups="sales_team.group_sale_salesman",
            name="SF Selfcheck Team Leader",
        )
        cls.team = cls.env["crm.team"].create(
            {
                "name": "SF Selfcheck Team",
                "user_id": cls.leader.id,
                "member_ids": [Command.link(cls.salesman.id)],
            }
        )
        customer = cls.env["res.partner"].create(
            {"name": "SF Selfcheck Customer", "is_company": True}
        )
        # In Verification with its required criteria not ticked: flagged.
        cls.lead = cls.env["crm.lead"].create(
            {
                "name": "SF Selfcheck Deal",
                "type": "opportunity",
                "partner_id": customer.id,
                "user_id": cls.salesman.id,
                "team_id": cls.team.id,
                "stage_id": cls.env.ref("sales_funnel.crm_stage_verification").id,
                "expected_revenue": 250000,
            }
        )
        Selfcheck = cls.env["crm.funnel.selfcheck"]
        Selfcheck._prepare_selfchecks(
            cls.env.company, fields.Date.context_today(Selfcheck)
        )
        cls.selfcheck = Selfcheck.search([("user_id", "=", cls.salesman.id)])

    def setUp(self):
        super().setUp()
        # Odoo skips browser tests silently without these: here it is a failure.
        self.assertTrue(
            shutil.which("chromium") or shutil.which("google-chrome"),
            "Chromium is required for the browser tests (Debian package chromium).",
        )
        import websocket  # noqa: F401  (websocket-client, required by Odoo's browser)

    def test_selfcheck_submitted_reviewed_and_read(self):
        self.assertEqual(len(self.selfcheck), 1)
        self.assertEqual(self.selfcheck.deal_line_ids.lead_id, self.lead)
        self.assertEqual(self.selfcheck.team_id, self.team)

        self.start_tour(
            "/odoo/action-sales_funnel.crm_funnel_selfcheck_action",
            "sales_funnel_selfcheck_tour",
            login="sf_selfcheck_sales",
        )
        self.assertEqual(self.selfcheck.state, "submitted")
        self.assertEqual(
            self.selfcheck.deal_line_ids.note,
            "Budget confirmed by phone; the visit is booked for Tuesday.",
        )
        self.assertIn(
            "Visit the plant manager and send the revised quotation.",
            self.selfcheck.plan,
        )
        # The leader is asked to hold the review.
        self.assertEqual(
            self.selfcheck.activity_ids.filtered(
                lambda activity: (
                    activity.activity_type_id
                    == self.env.ref("sales_funnel.mail_activity_type_one_to_one")
                )
            ).user_id,
            self.leader,
        )

        self.start_tour(
            f"/odoo/action-sales_funnel.crm_funnel_selfcheck_action_reviews/{self.selfcheck.id}",
            "sales_funnel_selfcheck_review_tour",
            login="sf_selfcheck_leader",
        )
        self.assertEqual(self.selfcheck.state, "reviewed")
        self.assertEqual(self.selfcheck.reviewer_id, self.leader)
        self.assertEqual(
            self.selfcheck.deal_line_ids.manager_comment,
            "Bring the solutions engineer to the visit.",
        )
        self.assertIn(
            "Qualify the budget before writing the solution.", self.selfcheck.guidance
        )
        # The agreed action is an activity of the salesperson.
        action = self.selfcheck.action_ids
        self.assertEqual(action.name, "Send the site survey report to the customer")
        self.assertEqual(action.activity_id.user_id, self.salesman)
        self.assertEqual(action.activity_id.summary, action.name)

        self.start_tour(
            f"/odoo/action-sales_funnel.crm_funnel_selfcheck_action/{self.selfcheck.id}",
            "sales_funnel_selfcheck_read_tour",
            login="sf_selfcheck_sales",
        )
