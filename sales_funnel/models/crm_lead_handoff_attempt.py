from odoo import api, fields, models
from odoo.exceptions import UserError

from .crm_lead_handoff import HANDOFF_STATUSES


class CrmLeadHandoffAttempt(models.Model):
    _name = "crm.lead.handoff.attempt"
    _description = "Hand-off Attempt"
    _order = "date desc, id desc"

    lead_id = fields.Many2one(
        "crm.lead",
        string="Opportunity",
        required=True,
        ondelete="cascade",
        index=True,
    )
    company_id = fields.Many2one(related="lead_id.company_id", store=True)
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    user_id = fields.Many2one("res.users", string="By", required=True)
    status = fields.Selection(HANDOFF_STATUSES, string="Outcome", required=True)
    message = fields.Char()
    order_id = fields.Many2one("sale.order", string="Sales Order")
    contract_id = fields.Many2one("contract.contract")

    def write(self, vals):
        if self:
            raise UserError(
                self.env._("Hand-off attempts are a log: they cannot be changed.")
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(
            self.env._("Hand-off attempts are a log: they cannot be deleted.")
        )
