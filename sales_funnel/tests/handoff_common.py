from odoo import Command
from odoo.tests import new_test_user

from .test_funnel import FunnelCase


class HandoffCase(FunnelCase):
    """A won-deal hand-off set-up: team, secretary, products, a deal with lines."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.secretary = new_test_user(
            cls.env,
            "sf_secretary",
            groups="sales_funnel.group_sales_secretary",
            name="Zhou Mi",
        )
        cls.team = cls.env["crm.team"].create({"name": "East China"})
        cls.env["crm.team.member"].create(
            {"crm_team_id": cls.team.id, "user_id": cls.salesman.id}
        )
        cls.accessories = cls.env["product.category"].create(
            {"name": "Cables and fittings", "sales_funnel_is_accessory": True}
        )
        Product = cls.env["product.product"]
        cls.switchgear = Product.create(
            {"name": "Switchgear KYN28", "list_price": 50000.0, "sale_ok": True}
        )
        cls.maintenance = Product.create(
            {
                "name": "Maintenance service",
                "type": "service",
                "list_price": 2000.0,
                "sale_ok": True,
            }
        )
        cls.cable = Product.create(
            {
                "name": "Cable set",
                "list_price": 300.0,
                "sale_ok": True,
                "categ_id": cls.accessories.id,
            }
        )
        cls.deal = cls._new_deal("Substation switchgear")

    @classmethod
    def _new_deal(cls, name, recurring=True, user=None):
        lead = cls._new_lead(name, user or cls.salesman, cls.closing)
        lead.team_id = cls.team
        lines = [
            Command.create(
                {"product_id": cls.switchgear.id, "quantity": 2, "discount": 10.0}
            ),
            Command.create({"product_id": cls.cable.id, "quantity": 10}),
        ]
        if recurring:
            lines.append(
                Command.create(
                    {
                        "product_id": cls.maintenance.id,
                        "quantity": 1,
                        "line_type": "recurring",
                        "recurring_rule_type": "quarterly",
                    }
                )
            )
        lead.line_ids = lines
        return lead

    def _win(self, lead):
        self._tick_all(lead, self.manager)
        lead.with_user(self.manager).action_set_won()
        self.assertEqual(lead.stage_id, self.won)

    def _orders(self, lead):
        return self.env["sale.order"].search(
            [("sales_funnel_handoff_lead_id", "=", lead.id)]
        )

    def _contracts(self, lead):
        return self.env["contract.contract"].search(
            [("sales_funnel_handoff_lead_id", "=", lead.id)]
        )
