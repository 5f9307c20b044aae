from odoo import api, fields, models
from odoo.exceptions import ValidationError


class CrmLeadProblem(models.Model):
    """One line of an opportunity's existing-problem record (现存问题记录表):
    a current problem or need of the customer and our answer to it."""

    _name = "crm.lead.problem"
    _description = "Existing Problem"
    _inherit = ["crm.lead.document.mixin"]
    _order = "lead_id, sequence, id"

    sequence = fields.Integer(default=10)
    name = fields.Text(string="Problem", required=True)
    impact = fields.Text(help="What the problem costs the customer.")
    raised_by_id = fields.Many2one(
        "res.partner",
        help="The customer's contact who raised the problem.",
    )
    answer = fields.Text(string="Our Proposed Answer")
    state = fields.Selection(
        [("open", "Open"), ("answered", "Answered")],
        string="Status",
        required=True,
        default="open",
    )

    @api.constrains("raised_by_id", "lead_id")
    def _check_raised_by_id(self):
        for problem in self:
            customer = problem.lead_id.partner_id.commercial_partner_id
            contact = problem.raised_by_id
            if contact and customer and contact.commercial_partner_id != customer:
                raise ValidationError(
                    self.env._(
                        "%(contact)s is not a contact of %(customer)s: a problem "
                        "is raised by the customer's people.",
                        contact=contact.display_name,
                        customer=customer.display_name,
                    )
                )

    @api.constrains("state", "answer")
    def _check_state(self):
        for problem in self:
            if problem.state == "answered" and not (problem.answer or "").strip():
                raise ValidationError(
                    self.env._(
                        "Problem “%(problem)s” is answered: write our proposed "
                        "answer first.",
                        problem=problem.name,
                    )
                )

    # The checklist follows the record.

    @api.model_create_multi
    def create(self, vals_list):
        problems = super().create(vals_list)
        problems.lead_id._sync_evidence_ticks()
        return problems

    def write(self, vals):
        leads = self.lead_id
        res = super().write(vals)
        if "lead_id" in vals:
            (leads | self.lead_id)._sync_evidence_ticks()
        return res

    def unlink(self):
        leads = self.lead_id
        res = super().unlink()
        leads.exists()._sync_evidence_ticks()
        return res
