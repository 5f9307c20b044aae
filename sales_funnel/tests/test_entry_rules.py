"""The funnel's entry rules (漏斗录入规范): registered names, end users only,
accessories, the facts Verification asks for."""

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from ..registered_name import registered_name_key
from .common import HandoffCase


@tagged("post_install", "-at_install")
class TestEntryRules(HandoffCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["crm.stage"]._set_default_required_facts()
        cls.Partner = cls.env["res.partner"].with_user(cls.salesman)
        cls.Lead = cls.env["crm.lead"].with_user(cls.salesman)
        cls.dealer = cls.env["res.partner"].create(
            {
                "name": "广州华光照明器材经销有限公司",
                "is_company": True,
                "sales_funnel_customer_type": "dealer",
            }
        )
        cls.contractor = cls.env["res.partner"].create(
            {
                "name": "中建安装工程有限公司",
                "is_company": True,
                "sales_funnel_customer_type": "contractor",
            }
        )

    def _complete(self, lead):
        """Fill the facts Verification asks for."""
        self.partner.write(
            {
                "industry_id": self.env.ref("base.res_partner_industry_D").id,
                "company_size": "large",
            }
        )
        lead.write(
            {
                "contact_name": "罗志强",
                "state_id": self.env.ref("base.state_cn_SH").id,
                "source_id": self.env["utm.source"].create({"name": "Trade fair"}).id,
            }
        )

    # ------------------------------------------------------------------
    # Registered names
    # ------------------------------------------------------------------

    def test_registered_name_key(self):
        key = registered_name_key("上海华东电力设备有限公司")
        for variant in (
            " 上海华东电力设备有限公司 ",
            "上海 华东电力设备 有限责任公司",
            "上海华东电力设备股份有限公司",
            "上海华东电力设备（有限公司）",
            "上海华东电力设备。",
        ):
            self.assertEqual(registered_name_key(variant), key, variant)
        latin = registered_name_key("Pearl River Logistics Co., Ltd.")
        for variant in (
            "PEARL RIVER LOGISTICS CO.,LTD",
            "Ｐｅａｒｌ Ｒｉｖｅｒ Ｌｏｇｉｓｔｉｃｓ Inc.",
            "Pearl-River Logistics Company Limited",
        ):
            self.assertEqual(registered_name_key(variant), latin, variant)
        # A word that ends like a legal form is kept; a department is another name.
        self.assertEqual(registered_name_key("Zinc Inc."), "zinc")
        self.assertNotEqual(
            registered_name_key("上海华东电力设备有限公司 华东服务部"), key
        )

    def test_duplicate_name_refused_on_create_with_the_way_out(self):
        before = self.env["res.partner"].search_count([])
        with self.assertRaises(ValidationError) as refusal:
            self.Partner.create(
                {"name": "上海华东电力设备（有限公司）", "is_company": True}
            )
        message = str(refusal.exception)
        self.assertIn(self.partner.name, message)
        self.assertIn("客户名称+服务部", message)
        self.assertEqual(self.env["res.partner"].search_count([]), before)
        # The way out: the customer's name and the service department.
        department = self.Partner.create(
            {"name": "上海华东电力设备有限公司 华东服务部", "is_company": True}
        )
        self.assertTrue(department.sales_funnel_name_key)

    def test_duplicate_name_refused_on_write_copy_and_import(self):
        other = self.Partner.create(
            {"name": "江苏轨道交通运营有限公司", "is_company": True}
        )
        with self.assertRaises(ValidationError):
            other.write({"name": "上海华东电力设备 Co., Ltd."})
        self.assertEqual(other.name, "江苏轨道交通运营有限公司")
        with self.assertRaises(ValidationError):
            self.partner.with_user(self.salesman).copy(
                {"name": "上海华东电力设备股份有限公司"}
            )
        result = self.Partner.load(
            ["name", "is_company"], [["上海 华东电力设备 有限公司", "1"]]
        )
        self.assertFalse(result["ids"])
        self.assertTrue(
            any("客户名称+服务部" in m["message"] for m in result["messages"])
        )
        # A person may share a company's name (only companies are customers).
        self.Partner.create({"name": "上海华东电力设备有限公司", "is_company": False})

    def test_handoff_compares_registered_names_the_same_way(self):
        # A twin entered before the rule (or by a data file): the hand-off
        # still stops it, whatever the width, spaces or legal suffix.
        twin = self.env["res.partner"].create(
            {"name": "上海华东电力设备股份有限公司", "is_company": True}
        )
        self._win(self.deal)
        self.deal.with_user(self.secretary).action_handoff()
        self.assertEqual(self.deal.handoff_status, "-1")
        self.assertIn("Unique constraint violated", self.deal.handoff_message)
        self.assertIn(str(twin.id), self.deal.handoff_message)
        self.assertFalse(self._orders(self.deal))

    # ------------------------------------------------------------------
    # End users only
    # ------------------------------------------------------------------

    def test_dealer_refused_as_customer_on_every_path(self):
        count = self.env["crm.lead"].search_count([])
        for customer in (self.dealer, self.contractor):
            with self.assertRaises(ValidationError) as refusal:
                self.Lead.create(
                    {
                        "name": "Via a dealer",
                        "type": "opportunity",
                        "partner_id": customer.id,
                    }
                )
            self.assertIn(customer.name, str(refusal.exception))
        # A contact person of the dealer is the dealer.
        buyer = self.env["res.partner"].create(
            {"name": "黄超", "parent_id": self.dealer.id, "type": "contact"}
        )
        with self.assertRaises(ValidationError):
            self.Lead.create(
                {"name": "Via a dealer", "type": "opportunity", "partner_id": buyer.id}
            )
        lead = self.lead.with_user(self.salesman)
        with self.assertRaises(ValidationError):
            lead.partner_id = self.dealer
        self.assertEqual(lead.partner_id, self.partner)
        with self.assertRaises(ValidationError):
            lead.copy({"partner_id": self.dealer.id})
        result = self.Lead.load(
            ["name", "type", "partner_id/.id"],
            [["Imported", "opportunity", str(self.dealer.id)]],
        )
        self.assertFalse(result["ids"])
        # A lead may come from a dealer; it cannot become an opportunity.
        lead_of_dealer = self.Lead.create(
            {"name": "Dealer's enquiry", "type": "lead", "partner_id": self.dealer.id}
        )
        with self.assertRaises(ValidationError):
            lead_of_dealer.convert_opportunity(self.dealer)
        self.assertEqual(self.env["crm.lead"].search_count([]), count + 1)

    def test_dealer_recorded_beside_the_end_user(self):
        lead = self.lead.with_user(self.salesman)
        lead.dealer_id = self.dealer
        self.assertEqual(lead.partner_id, self.partner)
        self.assertEqual(
            self.Lead.search([("dealer_id", "=", self.dealer.id)]), self.lead
        )

    def test_customer_of_an_opportunity_cannot_become_a_dealer(self):
        with self.assertRaises(ValidationError) as refusal:
            self.partner.with_user(self.manager).sales_funnel_customer_type = "dealer"
        self.assertIn("is the customer of the opportunity", str(refusal.exception))
        self.assertEqual(self.partner.sales_funnel_customer_type, "end_user")

    # ------------------------------------------------------------------
    # Accessories
    # ------------------------------------------------------------------

    def _accessory_deal(self):
        lead = self.Lead.create(
            {
                "name": "Cable sets only",
                "type": "opportunity",
                "partner_id": self.partner.id,
                "line_ids": [
                    Command.create({"product_id": self.cable.id, "quantity": 40})
                ],
            }
        )
        self.assertEqual(lead.stage_id, self.verification)
        return lead

    def test_accessory_deal_stays_out_of_the_funnel(self):
        lead = self._accessory_deal()
        self.assertTrue(lead.accessory_only)
        self.assertEqual(lead.expected_revenue, 0.0)
        self._complete(lead)
        self._tick_all(lead)
        with self.assertRaises(UserError) as refusal:
            lead.stage_id = self.development
        self.assertIn("accessories", str(refusal.exception))
        self.assertEqual(lead.stage_id, self.verification)
        self.assertEqual(
            self.Lead.search([("accessory_only", "=", True)]), lead, "filter"
        )

    def test_accessory_deal_won_goes_to_the_secretary(self):
        lead = self._accessory_deal()
        # Straight to won: no criteria ticked, no facts, no stage in between.
        lead.action_set_won()
        self.assertEqual(lead.stage_id, self.won)
        self.assertTrue(lead.handoff_queued)
        handoff_list = (
            self.env["crm.lead"]
            .with_user(self.secretary)
            .search([("type", "=", "opportunity"), ("stage_id.is_won", "=", True)])
        )
        self.assertIn(lead, handoff_list)

    def test_mixed_deal_goes_through_the_funnel(self):
        lead = self._accessory_deal()
        lead.line_ids = [Command.create({"product_id": self.switchgear.id})]
        self.assertFalse(lead.accessory_only)
        self.assertEqual(lead.expected_revenue, 50000.0, "accessories do not count")
        self._complete(lead)
        self._tick_all(lead)
        lead.stage_id = self.development
        self.assertEqual(lead.stage_id, self.development)

    # ------------------------------------------------------------------
    # Completeness before leaving Verification
    # ------------------------------------------------------------------

    def test_facts_required_to_leave_verification(self):
        lead = self.lead.with_user(self.salesman)
        self._tick_all(lead)
        with self.assertRaises(UserError) as refusal:
            lead.stage_id = self.development
        message = str(refusal.exception)
        # (The source is one of the four of the method, which every opportunity
        # has from its creation: test_lead_source.py.)
        for label in ("Customer Industry", "Customer Company Size", "Contact Name"):
            self.assertIn(label, message)
        self.assertEqual(lead.stage_id, self.verification)
        # Skipping Verification is no way round it.
        with self.assertRaises(UserError):
            lead.stage_id = self.proposal
        self._complete(lead)
        lead.stage_id = self.development
        self.assertEqual(lead.stage_id, self.development)

    def test_facts_are_configured_on_the_stage(self):
        self.verification.required_fact_field_ids = self.env["ir.model.fields"].search(
            [("model", "=", "crm.lead"), ("name", "=", "phone")]
        )
        lead = self.lead.with_user(self.salesman)
        self._tick_all(lead)
        with self.assertRaises(UserError) as refusal:
            lead.stage_id = self.development
        self.assertIn("Phone", str(refusal.exception))
        lead.phone = "+86 21 5555 0100"
        lead.stage_id = self.development
        self.assertEqual(lead.stage_id, self.development)

    def test_facts_checked_in_batches(self):
        leads = self.lead | self._new_lead("Second retrofit", self.salesman)
        for lead in leads:
            self._tick_all(lead)
        leads.invalidate_recordset()
        with self.assertRaises(UserError) as refusal:
            leads.with_user(self.salesman).write({"stage_id": self.development.id})
        self.assertIn("Second retrofit", str(refusal.exception))
        self.assertEqual(leads.stage_id, self.verification)
