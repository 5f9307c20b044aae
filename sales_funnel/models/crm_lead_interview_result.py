from odoo import fields, models


class CrmLeadInterviewResult(models.Model):
    """One result of the interview (客户访谈结果)."""

    _name = "crm.lead.interview.result"
    _inherit = ["crm.lead.interview.line"]
    _description = "Customer Interview Result"

    name = fields.Char(string="Result", required=True)
