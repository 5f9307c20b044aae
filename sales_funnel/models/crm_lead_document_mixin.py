from odoo import fields, models


class CrmLeadDocumentMixin(models.AbstractModel):
    """A document of an opportunity: the existing-problem record, the trial
    report, the Basic Facts Card, the interview report, the loss report.

    It belongs to one opportunity and goes with it; its customer, salesperson
    and company are the opportunity's, stored so that the record rules (own
    documents, the company's) and the lists filter and group on them. A
    document says only what differs (an index, a domain, its own customer);
    a field it redefines keeps the attributes given here.
    """

    _name = "crm.lead.document.mixin"
    _description = "Document of an Opportunity"

    lead_id = fields.Many2one(
        "crm.lead",
        string="Opportunity",
        required=True,
        index=True,
        ondelete="cascade",
    )
    partner_id = fields.Many2one(
        related="lead_id.partner_id", string="Customer", store=True
    )
    user_id = fields.Many2one(
        related="lead_id.user_id", string="Salesperson", store=True
    )
    company_id = fields.Many2one(related="lead_id.company_id", store=True)
