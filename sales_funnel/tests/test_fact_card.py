from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestFactCard(FunnelCase):
    """The Basic Facts Card of an opportunity, as its salesperson fills it in."""

    def _open_card(self, lead=None, user=None):
        lead = (lead or self.lead).with_user(user or self.salesman)
        action = lead.action_open_fact_card()
        return (
            self.env[action["res_model"]]
            .with_user(lead.env.user)
            .browse(action["res_id"])
        )

    def _contact(self, name, role=None):
        return self.env["res.partner"].create(
            {"name": name, "parent_id": self.partner.id, "function": role}
        )

    def test_card_created_on_demand_once(self):
        card = self._open_card()
        self.assertEqual(card.lead_id, self.lead)
        self.assertEqual(card.partner_id, self.partner)
        self.assertEqual(card.completeness, 0)
        self.assertEqual(self._open_card(), card, "one card per opportunity")
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                self.env["crm.lead.fact.card"].create({"lead_id": self.lead.id})

    def test_completeness_over_the_sections(self):
        card = self._open_card()
        director = self._contact("王总 Director Wang", "厂长")
        card.write(
            {
                "role_ids": [
                    Command.create(
                        {"role": "decision_maker", "partner_id": director.id}
                    ),
                    Command.create(
                        {"role": "user", "partner_id": self._contact("Operator").id}
                    ),
                ]
            }
        )
        # One section of seven: the decision maker (a user does not count).
        self.assertEqual(card.completeness, 14)
        self.assertIn("Coach named", card.missing_sections)
        self.assertNotIn("Decision maker named", card.missing_sections)
        card.write(
            {
                "role_ids": [
                    Command.create(
                        {"role": "coach", "partner_id": self._contact("Coach").id}
                    ),
                    Command.create(
                        {"role": "buyer", "partner_id": self._contact("Buyer").id}
                    ),
                ],
                "organisation": "<p>Workshop → equipment dept. → director</p>",
                "value_point_1": "Energy savings",
                "value_point_2": "Maintenance-free",
                "has_budget": True,
                "budget_amount": 0.0,
            }
        )
        # A budget without an amount is not confirmed; no source of funds yet.
        self.assertEqual(card.completeness, 71)
        card.write({"budget_amount": 800000.0, "funds_source": "Group fund"})
        self.assertEqual(card.completeness, 100)
        self.assertFalse(card.missing_sections)
        self.assertEqual(self.lead.with_user(self.salesman).fact_card_completeness, 100)

    def test_form_and_kanban_show_completeness(self):
        card = self._open_card()
        card.write({"organisation": "<p>Org chart</p>", "funds_source": "Own funds"})
        lead = self.lead.with_user(self.salesman)
        form = lead.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="action_open_fact_card"', form)
        self.assertIn('name="fact_card_completeness"', form)
        kanban = lead.get_views([(False, "kanban")])["views"]["kanban"]["arch"]
        self.assertIn('name="fact_card_completeness"', kanban)
        # What the kanban card reads: 2 of 7 sections.
        [record] = lead.web_search_read(
            [("id", "=", lead.id)], {"fact_card_completeness": {}}
        )["records"]
        self.assertEqual(record["fact_card_completeness"], 29)
        other = self._new_lead("No card yet", self.salesman)
        self.assertEqual(other.with_user(self.salesman).fact_card_completeness, 0)

    def test_buying_centre_is_the_customers_people(self):
        card = self._open_card()
        stranger = self.env["res.partner"].create({"name": "Someone else"})
        with self.assertRaises(ValidationError):
            card.write(
                {
                    "role_ids": [
                        Command.create({"role": "coach", "partner_id": stranger.id})
                    ]
                }
            )
        self.assertFalse(card.role_ids)

    def test_changes_are_tracked(self):
        card = self._open_card()
        self.env.flush_all()
        self.env.cr.precommit.run()  # the card was created in an earlier request
        card.write({"has_budget": True, "budget_amount": 300000.0})
        self.env.flush_all()
        self.env.cr.precommit.run()
        tracked = card.sudo().message_ids.tracking_value_ids.field_id.mapped("name")
        self.assertIn("has_budget", tracked)
        self.assertIn("budget_amount", tracked)


@tagged("post_install", "-at_install")
class TestEvidenceAccess(FunnelCase):
    """The documents follow their opportunity's access."""

    def test_salesperson_writes_own_deals_documents_only(self):
        other_lead = self._new_lead("Li's colleague's deal", self.salesman2)
        Card = self.env["crm.lead.fact.card"]
        with self.assertRaises(AccessError):
            Card.with_user(self.salesman).create({"lead_id": other_lead.id})
        with self.assertRaises(AccessError):
            self.env["crm.lead.problem"].with_user(self.salesman).create(
                {"lead_id": other_lead.id, "name": "Not my deal"}
            )
        with self.assertRaises(AccessError):
            self.env["crm.lead.trial.report"].with_user(self.salesman).create(
                {"lead_id": other_lead.id, "name": "Not my deal"}
            )
        card = Card.with_user(self.salesman2).create({"lead_id": other_lead.id})
        self.assertFalse(Card.with_user(self.salesman).search([("id", "=", card.id)]))
        # The manager reads and completes every card of the company.
        card.with_user(self.manager).write({"funds_source": "Provincial programme"})
        self.assertEqual(card.funds_source, "Provincial programme")

    def test_other_company_sees_no_document(self):
        other_company = self.env["res.company"].create({"name": "深圳分公司"})
        outsider = new_test_user(
            self.env,
            "sf_outsider_docs",
            groups="sales_team.group_sale_manager",
            company_id=other_company.id,
            company_ids=[Command.set(other_company.ids)],
        )
        self.lead.company_id = self.company
        self._tick_all(self.lead)  # the card of Verification
        self.env["crm.lead.problem"].with_user(self.salesman).create(
            {"lead_id": self.lead.id, "name": "Dim warehouse"}
        )
        self.env["crm.lead.trial.report"].with_user(self.salesman).create(
            {"lead_id": self.lead.id, "name": "LED trial"}
        )
        for model in (
            "crm.lead.fact.card",
            "crm.lead.buying.role",
            "crm.lead.problem",
            "crm.lead.trial.report",
        ):
            self.assertTrue(
                self.env[model].search([("lead_id", "=", self.lead.id)]), model
            )
            self.assertFalse(
                self.env[model]
                .with_user(outsider)
                .search([("lead_id", "=", self.lead.id)]),
                model,
            )
