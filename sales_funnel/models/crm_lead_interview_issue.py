from odoo import fields, models

INTERVIEW_ISSUE_SIDES = [
    ("customer", "Customer Side"),
    ("company", "Our Company"),
]


class CrmLeadInterviewIssue(models.Model):
    """An issue the interview left unresolved (尚未解决的问题), on the
    customer's side (客户方) or on ours (本企业)."""

    _name = "crm.lead.interview.issue"
    _inherit = ["crm.lead.interview.line"]
    _description = "Customer Interview Unresolved Issue"

    name = fields.Char(string="Issue", required=True)
    side = fields.Selection(
        INTERVIEW_ISSUE_SIDES, required=True, default="customer", index=True
    )
