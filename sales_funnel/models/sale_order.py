from odoo import fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    sales_funnel_handoff_lead_id = fields.Many2one(
        "crm.lead",
        string="Handed-off Opportunity",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="restrict",
        help="The won opportunity this order was created from by the hand-off.",
    )

    _sql_constraints = [
        (
            "sales_funnel_handoff_lead_unique",
            "UNIQUE(sales_funnel_handoff_lead_id)",
            "An opportunity is handed off to one sales order only.",
        ),
    ]

    def write(self, vals):
        res = super().write(vals)
        # Confirmation is followed in _action_confirm, once the contract exists.
        if "state" in vals and vals["state"] != "sale":
            self.filtered("sales_funnel_handoff_lead_id")._sync_handoff_status()
        return res

    def _action_confirm(self):
        """Confirming a hand-off order creates the deal's contract."""
        res = super()._action_confirm()
        orders = self.filtered("sales_funnel_handoff_lead_id")
        # Whoever confirms the order creates the deal's contract and bookkeeping.
        for order in orders.sudo():
            lead = order.sales_funnel_handoff_lead_id.with_company(order.company_id)
            lead._create_handoff_contract(order)
        orders._sync_handoff_status()
        return res

    def _sync_handoff_status(self):
        """Keep the opportunity's integration status in step with its order."""
        # Whoever confirms or cancels the order updates the deal's bookkeeping.
        for order in self.sudo():
            lead = order.sales_funnel_handoff_lead_id.with_company(order.company_id)
            status = lead._integration_status_from_documents()
            if status == lead.handoff_status:
                continue
            if status == "3":
                message = lead._prepare_handoff_message_vals(
                    "order_cancelled", {"order": order.name}
                )
            else:
                message = lead._prepare_handoff_message_vals("success")
            lead.write(dict(message, handoff_status=status))
