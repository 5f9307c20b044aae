from odoo import api, fields, models
from odoo.exceptions import ValidationError


class CrmLeadInterviewParticipant(models.Model):
    """A person of the customer who took part in the interview (客户方参与人员),
    with the title they held (职位)."""

    _name = "crm.lead.interview.participant"
    _inherit = ["crm.lead.interview.line"]
    _description = "Customer Interview Participant"
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        "res.partner",
        string="Name",
        required=True,
        index=True,
        ondelete="restrict",
        help="A contact of the customer.",
    )
    function = fields.Char(
        string="Job Position",
        compute="_compute_function",
        store=True,
        readonly=False,
        precompute=True,
        help="The participant's job position, taken from the contact; it can be "
        "changed for this report.",
    )

    @api.depends("partner_id")
    def _compute_function(self):
        for participant in self:
            participant.function = participant.partner_id.function

    @api.constrains("partner_id", "interview_id")
    def _check_partner_id(self):
        for participant in self:
            customer = participant.interview_id.partner_id.commercial_partner_id
            if participant.partner_id.commercial_partner_id != customer:
                raise ValidationError(
                    self.env._(
                        "%(person)s is not a contact of %(customer)s: the customer's "
                        "participants of an interview report are the customer's "
                        "contacts.",
                        person=participant.partner_id.display_name,
                        customer=customer.display_name,
                    )
                )
