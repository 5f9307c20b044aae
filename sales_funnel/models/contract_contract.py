from odoo import fields, models


class ContractContract(models.Model):
    _inherit = "contract.contract"

    sales_funnel_handoff_lead_id = fields.Many2one(
        "crm.lead",
        string="Handed-off Opportunity",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="restrict",
    )
    sales_funnel_sale_order_id = fields.Many2one(
        "sale.order",
        string="Sales Order",
        readonly=True,
        copy=False,
        ondelete="restrict",
    )

    _sql_constraints = [
        (
            "sales_funnel_handoff_lead_unique",
            "UNIQUE(sales_funnel_handoff_lead_id)",
            "An opportunity is handed off to one contract at most.",
        ),
    ]
