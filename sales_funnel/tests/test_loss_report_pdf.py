from odoo.tests import new_test_user, tagged

from .common import PdfReportCase


@tagged("post_install", "-at_install")
class TestLossReportPdf(PdfReportCase):
    """Print ‣ Loss Report gives the lost-customer report form, in Chinese too."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._load_chinese()
        cls.salesman = new_test_user(
            cls.env,
            "sf_loss_pdf_sales",
            groups="sales_team.group_sale_salesman",
            name="李娜",
            lang="zh_CN",
        )
        manager = new_test_user(
            cls.env,
            "sf_loss_pdf_manager",
            groups="sales_team.group_sale_manager",
            name="王强",
            lang="zh_CN",
        )
        partner = cls.env["res.partner"].create(
            {"name": "上海华东电力设备有限公司", "is_company": True}
        )
        competitor = cls.env["res.partner"].create(
            {
                "name": "江苏远方电气有限公司",
                "is_company": True,
                "sales_funnel_is_competitor": True,
            }
        )
        cls.lead = cls.env["crm.lead"].create(
            {
                "name": "变电站改造",
                "type": "opportunity",
                "partner_id": partner.id,
                "user_id": cls.salesman.id,
                "stage_id": cls.env.ref("sales_funnel.crm_stage_verification").id,
                "expected_revenue": 100000.0,
            }
        )
        cls.env["crm.lead.loss.report"].with_user(cls.salesman).create(
            {
                "lead_id": cls.lead.id,
                "lost_reason_id": cls.env.ref(
                    "sales_funnel.crm_lost_reason_competitor"
                ).id,
                "customer_reason": "对方报价低百分之十五",
                "analysis": "没有接触采购决策者",
                "prevention": "开发阶段尽早找到指导员",
                "competitor_id": competitor.id,
                "competitor_price": 85000.0,
            }
        )
        cls.lead.with_user(cls.salesman).action_set_lost()
        cls.report = cls.lead.loss_report_id
        cls.report.with_user(manager).action_review()
        cls.report.with_user(manager).manager_comment = "下次提前介入"

    def test_loss_report_prints_in_chinese(self):
        pdf = self._render_pdf(
            "sales_funnel.crm_lead_loss_report_action_print",
            self.report,
            "zh_CN",
            user=self.salesman,
        )
        # As with the Kangxi radicals (common.KANGXI_RADICALS), Noto Sans CJK SC
        # draws 户 and 见 with glyphs it shares with 戶 and ⻅, which the PDF's
        # text layer then names: read them back as the page shows them.
        text = self._pdf_text(pdf).translate(str.maketrans("戶⻅", "户见"))
        for expected, why in (
            ("丢失客户报告表", "the form's title"),
            ("客户给出的原因和理由", "the form's own words"),
            ("今后如何避免类似问题", "the form's own words"),
            ("变电站改造", "the opportunity"),
            ("验证", "the stage lost at"),
            ("输给竞争对手", "the loss reason"),
            ("对方报价低百分之十五", "what the customer said"),
            ("没有接触采购决策者", "our analysis"),
            ("江苏远方电气有限公司", "who won"),
            ("李娜", "the salesperson"),
            ("王强", "the reviewer"),
            ("下次提前介入", "the manager's comment"),
        ):
            self.assertIn(expected, text, why)
        self._assert_chinese_font(pdf)
