from odoo import api, fields, models
from odoo.exceptions import ValidationError

# The buying centre of a customer (采购中心): who uses, influences, decides and
# buys, and the coach (指导员) who guides us inside the customer.
BUYING_ROLES = [
    ("user", "User"),
    ("influencer", "Influencer"),
    ("decision_maker", "Decision Maker"),
    ("buyer", "Buyer"),
    ("coach", "Coach"),
]


class CrmLeadBuyingRole(models.Model):
    """A contact of the customer in the buying centre of one opportunity."""

    _name = "crm.lead.buying.role"
    _description = "Buying Role"
    _order = "card_id, sequence, id"

    card_id = fields.Many2one(
        "crm.lead.fact.card",
        string="Basic Facts Card",
        required=True,
        ondelete="cascade",
        index=True,
    )
    # Deleting the opportunity deletes its card and the card's roles.
    lead_id = fields.Many2one(
        related="card_id.lead_id", store=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="card_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    role = fields.Selection(BUYING_ROLES, required=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Contact",
        required=True,
        index=True,
        help="A contact of the customer. Create it here if it is not there yet.",
    )
    function = fields.Char(related="partner_id.function", string="Job Position")
    notes = fields.Text()

    @api.constrains("partner_id", "card_id")
    def _check_partner_id(self):
        for role in self:
            customer = role.card_id.partner_id.commercial_partner_id
            if customer and role.partner_id.commercial_partner_id != customer:
                raise ValidationError(
                    self.env._(
                        "%(contact)s is not a contact of %(customer)s: the buying "
                        "centre of an opportunity is made of the customer's people.",
                        contact=role.partner_id.display_name,
                        customer=customer.display_name,
                    )
                )

    # The checklist follows the buying centre (the card syncs once itself when
    # the roles are saved with it).

    def _sync_card_evidence(self, leads):
        if not self.env.context.get("crm_evidence_sync_later"):
            leads.exists()._sync_evidence_ticks()

    @api.model_create_multi
    def create(self, vals_list):
        roles = super().create(vals_list)
        self._sync_card_evidence(roles.lead_id)
        return roles

    def write(self, vals):
        leads = self.lead_id
        res = super().write(vals)
        self._sync_card_evidence(leads | self.lead_id)
        return res

    def unlink(self):
        leads = self.lead_id
        res = super().unlink()
        self._sync_card_evidence(leads)
        return res
