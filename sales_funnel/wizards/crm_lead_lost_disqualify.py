from odoo import api, fields, models
from odoo.exceptions import UserError


class CrmLeadLost(models.TransientModel):
    """Disqualifying leads of the pool (Odoo's Lost wizard on leads) needs a
    reason: the pool's screening is judged by why leads were dropped."""

    _inherit = "crm.lead.lost"  # pylint: disable=consider-merging-classes-inherited

    disqualifies_leads = fields.Boolean(compute="_compute_disqualifies_leads")

    @api.depends("lead_ids")
    def _compute_disqualifies_leads(self):
        for wizard in self:
            wizard.disqualifies_leads = any(
                lead.type == "lead" for lead in wizard.lead_ids
            )

    def action_lost_reason_apply(self):
        if not self.lost_reason_id and self.disqualifies_leads:
            raise UserError(
                self.env._(
                    "Say why the lead is disqualified: choose a reason "
                    "(a duplicate, no real need, not an end user, …)."
                )
            )
        return super().action_lost_reason_apply()
