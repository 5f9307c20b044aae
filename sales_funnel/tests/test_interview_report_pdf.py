from datetime import date

from odoo import Command
from odoo.tests import new_test_user, tagged

from .common import PdfReportCase


@tagged("post_install", "-at_install")
class TestInterviewReportPdf(PdfReportCase):
    """Print ‣ Customer Interview Report gives the seeds' form 客户访谈报告表,
    filled in, in Chinese."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._load_chinese()
        cls.salesman = new_test_user(
            cls.env,
            "sf_pdf_interview",
            groups="sales_team.group_sale_salesman",
            name="李娜",
            lang="zh_CN",
        )
        engineer = new_test_user(
            cls.env,
            "sf_pdf_presales",
            groups="sales_team.group_sale_salesman_all_leads",
            name="赵磊",
        )
        partner = cls.env["res.partner"].create(
            {"name": "上海华东电力设备有限公司", "is_company": True}
        )
        chief = cls.env["res.partner"].create(
            {"name": "王建国", "parent_id": partner.id, "function": "总工程师"}
        )
        lead = cls.env["crm.lead"].create(
            {
                "name": "变电站改造",
                "type": "opportunity",
                "partner_id": partner.id,
                "user_id": cls.salesman.id,
                "stage_id": cls.env.ref("sales_funnel.crm_stage_verification").id,
            }
        )
        cls.interview = (
            cls.env["crm.lead.interview"]
            .with_user(cls.salesman)
            .create(
                {
                    "lead_id": lead.id,
                    "objective": "确认技术需求",
                    "date": date(2031, 3, 4),
                    "user_ids": [Command.set((cls.salesman | engineer).ids)],
                    "participant_ids": [
                        Command.create({"partner_id": chief.id, "function": "副总工"})
                    ],
                    "result_ids": [Command.create({"name": "需要十二面开关柜"})],
                    "step_ids": [
                        Command.create(
                            {
                                "name": "提交单线图",
                                "user_id": engineer.id,
                                "date_deadline": date(2031, 3, 10),
                            }
                        )
                    ],
                    "customer_issue_ids": [Command.create({"name": "预算尚未批准"})],
                    "company_issue_ids": [Command.create({"name": "交货期待确认"})],
                }
            )
        )
        cls.interview.action_submit()

    def test_interview_report_prints_in_chinese(self):
        pdf = self._render_pdf(
            "sales_funnel.crm_lead_interview_report_action",
            self.interview,
            "zh_CN",
            user=self.salesman,
        )
        # Noto CJK draws 户 and 戶 with one glyph, which the text layer reads
        # back as the lower code point 戶: the page shows 户.
        text = self._pdf_text(pdf).replace("戶", "户")
        for words, what in (
            ("客户访谈报告表", "the form's title"),
            ("上海华东电力设备有限公司", "the customer"),
            ("客户访谈目标", "the objective's label"),
            ("确认技术需求", "the objective"),
            ("客户方参与人员", "the customer participants' heading"),
            ("王建国", "a customer participant"),
            ("副总工", "the title given in this report"),
            ("赵磊", "one of our participants"),
            ("客户访谈结果", "the results' heading"),
            ("需要十二面开关柜", "a result"),
            ("下一步工作计划", "the next steps' heading"),
            ("提交单线图", "a next step"),
            ("尚未解决的问题", "the unresolved issues' heading"),
            ("客户方", "the customer's side"),
            ("本企业", "our side"),
            ("预算尚未批准", "an issue of the customer"),
            ("交货期待确认", "an issue of ours"),
        ):
            self.assertIn(words, text, what)
        self.assertNotIn("草稿", text, "a submitted report is not marked as a draft")
        self._assert_chinese_font(pdf)
