from unittest.mock import patch

import psycopg2
from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import HandoffCase


@tagged("post_install", "-at_install")
class TestLeadLines(HandoffCase):
    def test_revenue_follows_lines_without_accessories(self):
        # 2 × 50,000 − 10% + maintenance 2,000; the cables (accessories) stay out.
        self.assertEqual(self.deal.expected_revenue, 92000.0)
        self.assertEqual(sum(self.deal.line_ids.mapped("price_subtotal")), 95000.0)
        self.deal.line_ids.filtered(
            lambda line: line.product_id == self.switchgear
        ).quantity = 3
        self.assertEqual(self.deal.expected_revenue, 137000.0)

    def test_deal_of_accessories_only_is_worth_nothing_in_the_funnel(self):
        lead = self._new_lead("Spare cables", self.salesman, revenue=5000.0)
        lead.line_ids = [Command.create({"product_id": self.cable.id, "quantity": 4})]
        self.assertEqual(lead.expected_revenue, 0.0)

    def test_lines_of_many_deals_at_once(self):
        # A script or an import adds the lines of many deals in one create:
        # each deal is worth its own lines (accessories out), and the deals of
        # the same worth are written, so regraded, together.
        deals = [
            self._new_lead(f"Bulk deal {n}", self.salesman, revenue=1.0)
            for n in range(3)
        ]
        Lead = self.registry["crm.lead"]
        graded = []
        grade = Lead._grade

        def count_grade(leads):
            graded.append(leads.ids)
            return grade(leads)

        with patch.object(Lead, "_grade", count_grade):
            self.env["crm.lead.line"].create(
                [
                    {"lead_id": deals[0].id, "product_id": self.switchgear.id},
                    {"lead_id": deals[1].id, "product_id": self.switchgear.id},
                    {"lead_id": deals[1].id, "product_id": self.cable.id},
                    {"lead_id": deals[2].id, "product_id": self.maintenance.id},
                ]
            )
        self.assertEqual(
            [deal.expected_revenue for deal in deals], [50000.0, 50000.0, 2000.0]
        )
        self.assertEqual(
            sorted(map(sorted, graded)),
            sorted([sorted([deals[0].id, deals[1].id]), [deals[2].id]]),
        )

    def test_bad_line_is_refused(self):
        with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.IntegrityError):
            with self.env.cr.savepoint():
                self.deal.line_ids[0].discount = 120.0


@tagged("post_install", "-at_install")
class TestHandoff(HandoffCase):
    def test_won_deal_becomes_confirmed_order_and_contract(self):
        self._win(self.deal)
        self.assertTrue(self.deal.handoff_queued)
        self.assertEqual(self.deal.handoff_status, "0")

        self.env["crm.lead"]._cron_handoff()

        self.assertEqual(self.deal.handoff_status, "2")
        self.assertEqual(self.deal.handoff_message, "success")
        self.assertFalse(self.deal.handoff_queued)
        order = self._orders(self.deal)
        self.assertEqual(len(order), 1)
        self.assertEqual(self.deal.handoff_order_id, order)
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.partner_id, self.partner)
        self.assertEqual(order.user_id, self.salesman)
        self.assertEqual(order.team_id, self.team)
        self.assertEqual(order.opportunity_id, self.deal)
        self.assertIn(self.deal.name, order.origin)
        # Every line travels to the order, the accessories included.
        self.assertEqual(
            order.order_line.mapped("product_id"),
            self.switchgear | self.cable | self.maintenance,
        )
        self.assertEqual(order.amount_untaxed, 95000.0)

        contract = self._contracts(self.deal)
        self.assertEqual(len(contract), 1)
        self.assertEqual(self.deal.handoff_contract_id, contract)
        self.assertTrue(contract.code.startswith("HT"))
        self.assertEqual(self.deal.handoff_contract_number, contract.code)
        self.assertEqual(contract.partner_id, self.partner)
        self.assertEqual(contract.sales_funnel_sale_order_id, order)
        line = contract.contract_line_ids
        self.assertEqual(line.product_id, self.maintenance)
        self.assertEqual(line.recurring_rule_type, "quarterly")
        # The order bills the first quarter; the contract recurs after it.
        self.assertEqual(
            line.date_start,
            fields.Date.to_date(order.date_order) + relativedelta(months=3),
        )

        attempt = self.deal.handoff_attempt_ids
        self.assertEqual(len(attempt), 1)
        self.assertEqual(attempt.status, "2")
        self.assertEqual(attempt.order_id, order)
        self.assertEqual(attempt.user_id, self.env.user)

    def test_deal_without_recurring_lines_needs_no_contract(self):
        lead = self._new_deal("One-off switchgear", recurring=False)
        self._win(lead)
        lead.with_user(self.secretary).action_handoff()
        self.assertEqual(lead.handoff_status, "2")
        self.assertFalse(self._contracts(lead))
        self.assertEqual(lead.handoff_contract_number, lead.handoff_order_id.name)
        self.assertEqual(lead.handoff_attempt_ids.user_id, self.secretary)

    def test_quotation_first_then_confirmation_in_sales(self):
        self.company.sales_funnel_handoff_confirm_order = False
        self._win(self.deal)
        self.deal.with_user(self.secretary).action_handoff()
        self.assertEqual(self.deal.handoff_status, "1")
        order = self.deal.handoff_order_id
        self.assertEqual(order.state, "draft")
        self.assertFalse(self._contracts(self.deal))

        order.with_user(self.salesman).action_confirm()
        self.assertEqual(self.deal.handoff_status, "2")
        self.assertEqual(len(self._contracts(self.deal)), 1)
        self.assertEqual(
            self.deal.handoff_contract_number, self.deal.handoff_contract_id.code
        )

    def test_cancelled_order_and_reconfirmation(self):
        self._win(self.deal)
        self.deal.with_user(self.secretary).action_handoff()
        order = self.deal.handoff_order_id
        order._action_cancel()
        self.assertEqual(self.deal.handoff_status, "3")
        self.assertIn(order.name, self.deal.handoff_message)
        order.action_draft()
        order.action_confirm()
        self.assertEqual(self.deal.handoff_status, "2")
        self.assertEqual(self.deal.handoff_message, "success")
        self.assertEqual(len(self._contracts(self.deal)), 1, "no second contract")

    def test_reopened_deal_keeps_its_documents_and_warns(self):
        self._win(self.deal)
        self.deal.with_user(self.secretary).action_handoff()
        order = self.deal.handoff_order_id
        self.deal.with_user(self.manager).write({"stage_id": self.closing.id})
        self.assertEqual(self.deal.handoff_order_id, order)
        self.assertEqual(order.state, "sale")
        self.assertIn(order.name, self.deal.message_ids[0].body)
        self.assertIn(self.deal.handoff_contract_number, self.deal.message_ids[0].body)
        # Won again: nothing to transmit twice.
        self.deal.with_user(self.manager).action_set_won()
        self.assertFalse(self.deal.handoff_queued)
        self.assertEqual(len(self._orders(self.deal)), 1)

    def test_idempotent_against_repeated_clicks_and_jobs(self):
        self._win(self.deal)
        self.deal.with_user(self.manager).action_set_won()  # won twice
        self.deal.with_user(self.secretary).action_handoff()
        with self.assertRaises(UserError):
            self.deal.with_user(self.secretary).action_handoff()
        self.deal.handoff_queued = True  # a stale queue entry
        self.env["crm.lead"]._cron_handoff()
        self.assertEqual(len(self._orders(self.deal)), 1)
        self.assertEqual(len(self._contracts(self.deal)), 1)
        self.assertEqual(len(self.deal.handoff_attempt_ids), 1)
        self.assertFalse(self.deal.handoff_queued)

    def test_database_refuses_a_second_order_or_contract(self):
        self._win(self.deal)
        self.deal.with_user(self.secretary).action_handoff()
        for model, vals in (
            ("sale.order", {"partner_id": self.partner.id}),
            ("contract.contract", {"name": "Twin", "partner_id": self.partner.id}),
        ):
            with (
                mute_logger("odoo.sql_db"),
                self.assertRaises(psycopg2.errors.UniqueViolation),
                self.env.cr.savepoint(),
            ):
                self.env[model].create(
                    dict(vals, sales_funnel_handoff_lead_id=self.deal.id)
                )

    def test_salesperson_sees_status_but_cannot_transmit(self):
        self._win(self.deal)
        deal = self.deal.with_user(self.salesman)
        self.assertEqual(deal.handoff_status, "0")
        with self.assertRaises(AccessError):
            deal.action_handoff()
        self.assertFalse(self._orders(self.deal))
        # The manager may, like the secretary.
        self.deal.with_user(self.manager).action_handoff()
        self.assertEqual(deal.handoff_status, "2")
        self.assertEqual(deal.handoff_attempt_ids.status, "2")
        # The salesperson sees which documents the deal became, by name.
        [values] = deal.read(["handoff_order_id", "handoff_contract_id"])
        self.assertEqual(
            values["handoff_contract_id"][1],
            deal.sudo().handoff_contract_id.display_name,
        )

    def test_open_opportunity_cannot_be_transmitted(self):
        with self.assertRaises(UserError):
            self.deal.with_user(self.secretary).action_handoff()
        self.assertFalse(self._orders(self.deal))


@tagged("post_install", "-at_install")
class TestHandoffFailures(HandoffCase):
    def _fails(self, lead, expected):
        action = lead.with_user(self.secretary).action_handoff()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertEqual(lead.handoff_status, "-1")
        self.assertIn(expected, lead.handoff_message)
        self.assertFalse(self._orders(lead), "no orphan order")
        self.assertFalse(self._contracts(lead), "no orphan contract")
        self.assertEqual(lead.handoff_attempt_ids[0].status, "-1")
        self.assertEqual(lead.handoff_attempt_ids[0].message, lead.handoff_message)

    def _retry_succeeds(self, lead):
        lead.with_user(self.secretary).action_handoff()
        self.assertEqual(lead.handoff_status, "2")
        self.assertEqual(lead.handoff_message, "success")
        self.assertEqual(len(self._orders(lead)), 1)
        self.assertEqual(
            lead.handoff_attempt_ids.mapped("status"), ["2", "-1"], "both logged"
        )

    def test_missing_customer(self):
        self.deal.partner_id = False
        self._win(self.deal)
        self._fails(self.deal, "Missing customer")
        self.deal.partner_id = self.partner
        self._retry_succeeds(self.deal)

    def test_duplicate_customer(self):
        twin = self.env["res.partner"].create(
            {"name": " 上海华东电力设备有限公司 ", "is_company": True}
        )
        self._win(self.deal)
        self._fails(self.deal, "Unique constraint violated")
        self.assertIn(str(twin.id), self.deal.handoff_message)
        twin.name = "上海华东电力设备有限公司 (运维部)"
        self._retry_succeeds(self.deal)

    def test_salesperson_not_in_a_team(self):
        lead = self._new_deal("Outside any team", user=self.salesman2)
        self._win(lead)
        self._fails(lead, "Salesperson cannot be mapped")
        self.assertIn(self.salesman2.name, lead.handoff_message)
        self.env["crm.team.member"].create(
            {"crm_team_id": self.team.id, "user_id": self.salesman2.id}
        )
        self._retry_succeeds(lead)

    def test_archived_salesperson(self):
        self._win(self.deal)
        self.salesman.active = False
        self._fails(self.deal, "archived")
        self.salesman.active = True
        self._retry_succeeds(self.deal)

    def test_no_salesperson(self):
        self.deal.user_id = False
        self._win(self.deal)
        self._fails(self.deal, "no salesperson")
        self.deal.user_id = self.salesman
        self._retry_succeeds(self.deal)

    def test_missing_lines(self):
        lead = self._new_lead("No lines", self.salesman, self.closing)
        self._win(lead)
        self._fails(lead, "Missing lines")
        lead.line_ids = [Command.create({"product_id": self.switchgear.id})]
        self._retry_succeeds(lead)

    def test_product_not_saleable(self):
        self._win(self.deal)
        self.cable.sale_ok = False
        self._fails(self.deal, self.cable.display_name)
        self.assertIn("Product not saleable", self.deal.handoff_message)
        self.cable.sale_ok = True
        self._retry_succeeds(self.deal)

    def test_error_of_the_order_module_rolls_everything_back(self):
        other = self.env["res.company"].create({"name": "Beijing branch"})
        self._win(self.deal)
        # The order module refuses a product of another company.
        self.maintenance.company_id = other
        self._fails(self.deal, "refused")
        self.maintenance.company_id = False
        self._retry_succeeds(self.deal)

    def test_failure_messages_in_chinese(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.deal.line_ids = [Command.clear()]
        self._win(self.deal)
        secretary = self.secretary.with_context(lang="zh_CN")
        action = self.deal.with_env(secretary.env).action_handoff()
        self.assertEqual(self.deal.handoff_status, "-1")
        self.assertIn("缺少产品明细", action["params"]["message"])
        self.assertIn(
            "缺少产品明细", self.deal.with_context(lang="zh_CN").handoff_message
        )


@tagged("post_install", "-at_install")
class TestHandoffMessageLanguage(HandoffCase):
    """Every reader sees the hand-off's messages in their own language."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("zh_CN")
        cls.secretary_zh = new_test_user(
            cls.env,
            "sf_secretary_zh",
            groups="sales_funnel.group_sales_secretary",
            name="吴芳",
            lang="zh_CN",
        )
        cls.secretary.lang = "en_US"

    def _as(self, user, records):
        """``records`` as ``user`` reads them in the web client: in their language."""
        return records.with_user(user).with_context(lang=user.lang)

    def _list_rows(self, user, domain):
        """The rows of the secretary's hand-off list, as ``user`` receives them."""
        return (
            self._as(user, self.env["crm.lead"])
            .web_search_read(domain, {"name": {}, "handoff_message": {}})
            .get("records")
        )

    def test_job_in_chinese_read_in_english_and_chinese(self):
        self.company.partner_id.lang = "zh_CN"
        self.deal.line_ids = [Command.clear()]
        self._win(self.deal)
        self.env["crm.lead"]._cron_handoff()
        self.assertEqual(self.deal.handoff_status, "-1")
        english = self._as(self.secretary, self.deal)
        self.assertIn("Missing lines", english.handoff_message)
        self.assertNotIn("缺少", english.handoff_message)
        self.assertIn("Missing lines", english.handoff_attempt_ids.message)
        chinese = self._as(self.secretary_zh, self.deal)
        self.assertIn("缺少产品明细", chinese.handoff_message)
        self.assertIn("缺少产品明细", chinese.handoff_attempt_ids.message)
        # Recorded in the company's language, as the job ran.
        self.assertEqual(self.deal.handoff_message_code, "missing_lines")
        self.assertIn("缺少产品明细", self.deal.handoff_message_text)

        # The list shows and finds the message in the reader's language.
        [row] = self._list_rows(
            self.secretary, [("handoff_message", "ilike", "missing lines")]
        )
        self.assertEqual(row["id"], self.deal.id)
        self.assertIn("Missing lines", row["handoff_message"])
        [row] = self._list_rows(
            self.secretary_zh, [("handoff_message", "ilike", "缺少产品明细")]
        )
        self.assertIn("缺少产品明细", row["handoff_message"])
        self.assertFalse(
            self._list_rows(
                self.secretary,
                [
                    ("id", "=", self.deal.id),
                    ("handoff_message", "not ilike", "missing lines"),
                ],
            )
        )
        Attempt = self.env["crm.lead.handoff.attempt"]
        self.assertEqual(
            self._as(self.secretary, Attempt).search(
                [("message", "ilike", "Missing lines")]
            ),
            self.deal.handoff_attempt_ids,
        )

        # The English secretary's Retry says why in English.
        action = english.action_handoff()
        self.assertIn("Missing lines", action["params"]["message"])

    def test_job_in_english_read_in_chinese(self):
        self.company.partner_id.lang = "en_US"
        twin = self.env["res.partner"].create(
            {"name": "上海华东电力设备有限公司", "is_company": True}
        )
        self._win(self.deal)
        self.env["crm.lead"]._cron_handoff()
        self.assertEqual(self.deal.handoff_status, "-1")
        chinese = self._as(self.secretary_zh, self.deal)
        self.assertIn("违反唯一约束", chinese.handoff_message)
        # The parameters are kept as they were: the name and the twin's ID.
        self.assertIn(f"ID {twin.id}", chinese.handoff_message)
        self.assertIn("上海华东电力设备有限公司", chinese.handoff_message)
        self.assertIn("违反唯一约束", chinese.handoff_attempt_ids.message)
        self.assertIn(
            "Unique constraint violated",
            self._as(self.secretary, self.deal).handoff_message,
        )
        self.assertIn("Unique constraint violated", self.deal.handoff_message_text)

        # Fixed and retried by the English secretary: “success” for everybody.
        twin.name = "上海华东电力设备有限公司 (运维部)"
        self._as(self.secretary, self.deal).action_handoff()
        self.assertEqual(self.deal.handoff_status, "2")
        self.assertEqual(chinese.handoff_message, "success")
        self.assertEqual(chinese.handoff_attempt_ids[0].message, "success")
        self.assertIn("违反唯一约束", chinese.handoff_attempt_ids[1].message)

    def test_cancelled_order_read_in_each_language(self):
        self._win(self.deal)
        self._as(self.secretary, self.deal).action_handoff()
        order = self.deal.handoff_order_id
        order._action_cancel()
        self.assertEqual(self.deal.handoff_status, "3")
        self.assertEqual(
            self._as(self.secretary_zh, self.deal).handoff_message,
            f"订单 {order.name} 已被取消。",
        )
        self.assertEqual(
            self._as(self.secretary, self.deal).handoff_message,
            f"Order {order.name} was cancelled.",
        )

    def test_message_of_an_unknown_code_is_shown_as_recorded(self):
        # Another module, or an older version, records its own text.
        self.deal.write(
            {
                "handoff_message_code": "other_module_said",
                "handoff_message_text": "Refusé par le module de facturation",
            }
        )
        for user in (self.secretary, self.secretary_zh):
            self.assertEqual(
                self._as(user, self.deal).handoff_message,
                "Refusé par le module de facturation",
            )

    def test_chatter_posts_in_the_company_language(self):
        # Several people read the chatter: the English manager who reopens the
        # deal writes for the team, in the company's language.
        self.company.partner_id.lang = "zh_CN"
        self._win(self.deal)
        self._as(self.secretary, self.deal).action_handoff()
        self.manager.lang = "en_US"
        self._as(self.manager, self.deal).write({"stage_id": self.closing.id})
        self.assertIn("此商机在传输后被重新打开", self.deal.message_ids[0].body)
