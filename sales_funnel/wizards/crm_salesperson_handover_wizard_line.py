from odoo import api, fields, models

from ..models.crm_salesperson_handover import HANDOVER_KINDS


class CrmSalespersonHandoverWizardLine(models.TransientModel):
    """A record the leaving salesperson owns, and the colleague who takes it
    over (from the split, or chosen on the line)."""

    _name = "crm.salesperson.handover.wizard.line"
    _description = "Salesperson Hand-over: Record"
    _order = "sequence, id"

    wizard_id = fields.Many2one(
        "crm.salesperson.handover.wizard", required=True, ondelete="cascade"
    )
    sequence = fields.Integer()
    kind = fields.Selection(HANDOVER_KINDS, string="What", required=True)
    res_model = fields.Char(string="Model", required=True)
    res_id = fields.Many2oneReference(string="Record ID", model_field="res_model")
    name = fields.Char(string="Record", required=True)
    partner_id = fields.Many2one("res.partner", string="Customer")
    team_id = fields.Many2one("crm.team", string="Sales Team")
    company_id = fields.Many2one("res.company")
    currency_id = fields.Many2one("res.currency")
    amount = fields.Monetary(currency_field="currency_id")
    to_user_id = fields.Many2one(
        "res.users",
        string="Taken Over By",
        compute="_compute_to_user_id",
        store=True,
        readonly=False,
        domain="[('share', '=', False)]",
    )
    manual = fields.Boolean(
        help="The colleague was chosen on the line: the split does not change it."
    )

    @api.depends(
        "team_id",
        "partner_id",
        "wizard_id.mode",
        "wizard_id.target_user_id",
        "wizard_id.split_ids.user_id",
    )
    def _compute_to_user_id(self):
        for line in self:
            if not line.manual:
                line.to_user_id = line.wizard_id._colleague_of(line)

    @api.onchange("to_user_id")
    def _onchange_to_user_id(self):
        self.manual = True

    # A colleague written on the line (the screen's values, an API call) is
    # the manager's choice: later changes of the split leave it.
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("to_user_id"):
                vals.setdefault("manual", True)
        return super().create(vals_list)

    def write(self, vals):
        if "to_user_id" in vals:
            vals = dict(vals, manual=True)
        return super().write(vals)

    def _prepare_handover_line_vals(self, note=None):
        """Values of the hand-over's line of this record."""
        self.ensure_one()
        return {
            "sequence": self.sequence,
            "kind": self.kind,
            "res_model": self.res_model,
            "res_id": self.res_id,
            "name": self.name,
            "partner_id": self.partner_id.id,
            "team_id": self.team_id.id,
            "company_id": self.company_id.id,
            "currency_id": self.currency_id.id,
            "amount": self.amount,
            "from_user_id": self.wizard_id.user_id.id,
            "to_user_id": self.to_user_id.id,
            "note": note or False,
        }
