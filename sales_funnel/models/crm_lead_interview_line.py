from odoo import api, fields, models


class CrmLeadInterviewLine(models.AbstractModel):
    """What the lines of an interview report share: their report, their order,
    and its rule (a submitted report's lines are kept as they are)."""

    _name = "crm.lead.interview.line"
    _description = "Customer Interview Report Line"
    _order = "interview_id, sequence, id"

    interview_id = fields.Many2one(
        "crm.lead.interview",
        string="Interview Report",
        required=True,
        index=True,
        ondelete="cascade",
    )
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(related="interview_id.company_id", store=True)

    @api.model_create_multi
    def create(self, vals_list):
        interview_ids = {vals.get("interview_id") for vals in vals_list} - {False, None}
        self.env["crm.lead.interview"].browse(interview_ids)._check_mutable()
        return super().create(vals_list)

    def write(self, vals):
        interviews = self.interview_id
        if vals.get("interview_id"):
            interviews |= interviews.browse(vals["interview_id"])
        interviews._check_mutable()
        return super().write(vals)

    def unlink(self):
        self.interview_id._check_mutable()
        return super().unlink()
