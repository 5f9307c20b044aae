from odoo import fields, models
from odoo.exceptions import UserError


class CrmLeadInterviewLine(models.AbstractModel):
    """What the lines of an interview report share: their report, their order,
    and its rule (a submitted report's lines are kept as they are, until a
    sales manager reopens it)."""

    _name = "crm.lead.interview.line"
    _inherit = ["crm.immutable.mixin"]
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

    def _is_mutable(self):
        self.ensure_one()
        return not self.interview_id or self.interview_id._is_mutable()

    def _check_mutable(self, fnames=()):
        try:
            return super()._check_mutable(fnames)
        except UserError:
            self.interview_id._check_mutable()
            raise

    def write(self, vals):
        if vals.get("interview_id"):
            # Nor moved into a submitted report.
            self.interview_id.browse(vals["interview_id"])._check_mutable()
        return super().write(vals)
