from odoo import fields, models


class CrmSalespersonHandoverWizardSplit(models.TransientModel):
    """One part of a split hand-over: a sales team's or a customer's records,
    and the colleague who takes them over."""

    _name = "crm.salesperson.handover.wizard.split"
    _description = "Salesperson Hand-over: Split"

    wizard_id = fields.Many2one(
        "crm.salesperson.handover.wizard", required=True, ondelete="cascade"
    )
    team_id = fields.Many2one("crm.team", string="Sales Team")
    partner_id = fields.Many2one("res.partner", string="Customer")
    user_id = fields.Many2one(
        "res.users",
        string="Colleague",
        domain="[('share', '=', False)]",
        help="Empty: the colleague of the hand-over.",
    )
