from odoo import fields, models


class CrmStageGateOverride(models.Model):
    """A sales manager's decision to move an opportunity past unmet criteria."""

    _name = "crm.stage.gate.override"
    _inherit = ["crm.immutable.mixin"]
    _description = "Stage Gate Override"
    _order = "date desc, id desc"
    _rec_name = "lead_id"
    _check_company_auto = True

    lead_id = fields.Many2one(
        "crm.lead",
        string="Opportunity",
        required=True,
        ondelete="cascade",
        readonly=True,
        index=True,
    )
    company_id = fields.Many2one(related="lead_id.company_id", store=True)
    from_stage_id = fields.Many2one("crm.stage", readonly=True)
    to_stage_id = fields.Many2one("crm.stage", readonly=True)
    user_id = fields.Many2one(
        "res.users",
        string="Approved By",
        required=True,
        readonly=True,
        default=lambda self: self.env.user,
    )
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    reason = fields.Text(required=True, readonly=True)
    missing_criterion_ids = fields.Many2many(
        "crm.stage.criterion", string="Missing Criteria", readonly=True
    )
    # The criteria may be renamed later: keep the text the manager overrode.
    missing_criteria = fields.Text(
        string="Missing Criteria (as overridden)", readonly=True
    )
