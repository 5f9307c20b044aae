from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError


class CrmStageGateOverrideWizard(models.TransientModel):
    _name = "crm.stage.gate.override.wizard"
    _description = "Override a Stage Gate"

    lead_id = fields.Many2one("crm.lead", string="Opportunity", required=True)
    from_stage_id = fields.Many2one(related="lead_id.stage_id", string="Current Stage")
    team_id = fields.Many2one(related="lead_id.team_id")
    stage_id = fields.Many2one(
        "crm.stage",
        string="Move To",
        required=True,
        domain="['|', ('team_id', '=', False), ('team_id', '=', team_id)]",
    )
    missing_criteria = fields.Text(compute="_compute_missing_criteria")
    reason = fields.Text(
        help="Why the opportunity may move on although criteria are not met. "
        "Kept with the opportunity and posted in its chatter."
    )

    @api.depends("lead_id", "stage_id")
    def _compute_missing_criteria(self):
        # The criteria and the facts, as the refused move listed them.
        for wizard in self:
            wizard.missing_criteria = (
                wizard.lead_id._gate_missing(wizard.stage_id)[1]
                if wizard.lead_id and wizard.stage_id
                else False
            )

    def action_confirm(self):
        self.ensure_one()
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(
                self.env._("Only sales managers can override a stage gate.")
            )
        if not (self.reason or "").strip():
            raise UserError(
                self.env._("Write the reason for overriding the stage gate.")
            )
        self.lead_id._move_past_gate(self.stage_id, self.reason.strip())
        return {"type": "ir.actions.act_window_close"}
