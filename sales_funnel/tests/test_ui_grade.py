import shutil

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger


@tagged("post_install", "-at_install")
class TestGradeMatrixUi(HttpCase):
    def setUp(self):
        super().setUp()
        # Odoo skips browser tests silently without these: here it is a failure.
        self.assertTrue(
            shutil.which("chromium") or shutil.which("google-chrome"),
            "Chromium is required for the browser tests (Debian package chromium).",
        )
        import websocket  # noqa: F401  (websocket-client, required by Odoo's browser)

    def test_manager_edits_the_matrix_sees_cr_and_regrades(self):
        new_test_user(
            self.env,
            "sf_grade_manager",
            password="sf_grade_manager",
            groups="sales_team.group_sale_manager",
        )
        matrix = self.env.ref("sales_funnel.crm_grade_matrix_default")
        customer = self.env["res.partner"].create(
            {"name": "SF Grade Customer", "is_company": True}
        )
        lead = self.env["crm.lead"].create(
            {
                "name": "SF Grade Deal",
                "type": "opportunity",
                "partner_id": customer.id,
                "expected_revenue": 1500000,
            }
        )
        before = lead.grade_score
        # The refused save is logged by odoo.http: expected here.
        with mute_logger("odoo.http"):
            self.start_tour(
                f"/odoo/action-sales_funnel.crm_grade_matrix_action/{matrix.id}",
                "sales_funnel_grade_tour",
                login="sf_grade_manager",
            )
        revenue = self.env.ref("sales_funnel.crm_grade_indicator_revenue")
        urgency = self.env.ref("sales_funnel.crm_grade_indicator_urgency")
        cells = {
            (c.row_indicator_id, c.col_indicator_id): c.value for c in matrix.cell_ids
        }
        self.assertEqual(cells[revenue, urgency], "3")
        self.assertEqual(cells[urgency, revenue], "1/3")
        self.assertEqual(matrix.state, "active")
        self.assertGreater(matrix.consistency_ratio, 0.0)
        self.assertLess(matrix.consistency_ratio, 0.10)
        # Predicted revenue weighs more now: the big deal scores higher.
        self.assertGreater(lead.grade_score, before)

    def test_salesperson_scores_the_deal_on_its_form(self):
        salesman = new_test_user(
            self.env,
            "sf_grade_sales",
            password="sf_grade_sales",
            groups="sales_team.group_sale_salesman",
        )
        customer = self.env["res.partner"].create(
            {"name": "SF Grade Customer", "is_company": True}
        )
        lead = self.env["crm.lead"].create(
            {
                "name": "SF Grade Deal",
                "type": "opportunity",
                "partner_id": customer.id,
                "user_id": salesman.id,
                "expected_revenue": 300000,
            }
        )
        before = lead.grade_score
        self.start_tour(
            f"/odoo/action-crm.crm_lead_action_pipeline/{lead.id}",
            "sales_funnel_grade_score_tour",
            login="sf_grade_sales",
        )
        urgency = self.env.ref("sales_funnel.crm_grade_indicator_urgency")
        line = lead.grade_score_ids.filtered(lambda s: s.indicator_id == urgency)
        self.assertEqual((line.entered_score, line.score), ("5", 5))
        self.assertGreater(lead.grade_score, before)
