from odoo import Command
from odoo.tests import new_test_user, tagged

from .common import PdfReportCase


@tagged("post_install", "-at_install")
class TestSalespersonHandoverPdf(PdfReportCase):
    """Print ‣ Hand-over gives what went to whom, in Chinese too."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._load_chinese()
        groups = "sales_team.group_sale_salesman"
        cls.leaving = new_test_user(
            cls.env, "sf_ho_pdf_li", groups=groups, name="李娜", lang="zh_CN"
        )
        cls.colleague = new_test_user(
            cls.env, "sf_ho_pdf_zhao", groups=groups, name="赵磊", lang="zh_CN"
        )
        cls.manager = new_test_user(
            cls.env,
            "sf_ho_pdf_wang",
            groups="sales_team.group_sale_manager",
            name="王强",
            lang="zh_CN",
        )
        cls.env["crm.team"].create(
            {
                "name": "华东区",
                "member_ids": [Command.set((cls.leaving | cls.colleague).ids)],
            }
        )
        partner = cls.env["res.partner"].create(
            {"name": "上海华东电力设备有限公司", "is_company": True}
        )
        cls.env["crm.lead"].create(
            {
                "name": "变电站改造",
                "type": "opportunity",
                "partner_id": partner.id,
                "user_id": cls.leaving.id,
                "stage_id": cls.env.ref("sales_funnel.crm_stage_verification").id,
                "expected_revenue": 100000.0,
            }
        )
        wizard = (
            cls.env["crm.salesperson.handover.wizard"]
            .with_user(cls.manager)
            .create(
                {
                    "user_id": cls.leaving.id,
                    "target_user_id": cls.colleague.id,
                    "note": "客户采购经理五月退休",
                }
            )
        )
        cls.handover = cls.env["crm.salesperson.handover"].browse(
            wizard.action_confirm()["res_id"]
        )

    def test_handover_prints_in_chinese(self):
        pdf = self._render_pdf(
            "sales_funnel.crm_salesperson_handover_action_print",
            self.handover,
            "zh_CN",
            user=self.manager,
        )
        # Noto Sans CJK SC draws 户 with the glyph of 戶, which the text layer
        # names (see test_loss_report_pdf): read it back as the page shows it.
        text = self._pdf_text(pdf).translate(str.maketrans("戶", "户"))
        for expected, why in (
            ("销售人员离职交接", "the report's title, in Chinese"),
            ("离职销售人员：李娜", "who left"),
            ("交接经办人：王强", "who handed over"),
            ("全部交给一位同事", "how it was split"),
            ("类别", "the table's own words"),
            ("销售团队", "the table's own words"),
            ("金额", "the table's own words"),
            ("未结商机", "the kind of record"),
            ("变电站改造", "the opportunity"),
            ("上海华东电力设备有限公司", "its customer"),
            ("华东区", "its team"),
            ("客户采购经理五月退休", "the note"),
        ):
            self.assertIn(expected, text, why)
        self.assertRegex(text, r"移交给\s*赵磊", "to whom")
        self._assert_chinese_font(pdf)
