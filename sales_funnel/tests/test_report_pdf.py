from odoo.tests import new_test_user, tagged

from .common import PdfReportCase


@tagged("post_install", "-at_install")
class TestFunnelChecklistPdf(PdfReportCase):
    """Print ‣ Funnel Checklist gives a readable PDF, in Chinese too."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._load_chinese()
        cls.salesman = new_test_user(
            cls.env,
            "sf_pdf_sales",
            groups="sales_team.group_sale_salesman",
            name="李娜",
            lang="zh_CN",
        )
        cls.verification = cls.env.ref("sales_funnel.crm_stage_verification")
        partner = cls.env["res.partner"].create(
            {"name": "上海华东电力设备有限公司", "is_company": True}
        )
        cls.lead = cls.env["crm.lead"].create(
            {
                "name": "变电站改造",
                "type": "opportunity",
                "partner_id": partner.id,
                "user_id": cls.salesman.id,
                "stage_id": cls.verification.id,
                "expected_revenue": 100000.0,
            }
        )
        product_fits = cls.env.ref("sales_funnel.criterion_verification_03")
        cls.lead.current_criterion_ids.filtered(
            lambda line: line.criterion_id == product_fits
        ).with_user(cls.salesman).done = True

    def test_checklist_prints_in_chinese(self):
        pdf = self._render_pdf(
            "sales_funnel.crm_lead_funnel_report_action",
            self.lead,
            "zh_CN",
            user=self.salesman,
        )
        text = self._pdf_text(pdf)
        self.assertIn("变电站改造", text)
        self.assertIn("阶段：验证", text, "the stage, in Chinese")
        self.assertIn("阶段要素", text, "the report's own words, in Chinese")
        self.assertIn("我们的产品基本吻合", text, "a criterion, in Chinese")
        self.assertIn("李娜", text, "who ticked it")
        self._assert_chinese_font(pdf)
