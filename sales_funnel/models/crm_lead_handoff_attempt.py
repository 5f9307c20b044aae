from odoo import api, fields, models

from .crm_lead_handoff import (
    HANDOFF_STATUSES,
    render_handoff_message,
    search_handoff_message,
)


class CrmLeadHandoffAttempt(models.Model):
    _name = "crm.lead.handoff.attempt"
    _inherit = ["crm.immutable.mixin"]
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
    message_code = fields.Char(help="What the attempt said, as a code.")
    message_params = fields.Json(string="Message Parameters")
    message_text = fields.Char(
        string="Message (as Recorded)",
        help="The message in the language of whoever ran the attempt, for the record.",
    )
    message = fields.Char(
        compute="_compute_message",
        search="_search_message",
        help="What the attempt said, in your language.",
    )
    order_id = fields.Many2one("sale.order", string="Sales Order")
    contract_id = fields.Many2one("contract.contract")

    @api.depends("message_code", "message_params", "message_text")
    @api.depends_context("lang")
    def _compute_message(self):
        for attempt in self:
            attempt.message = render_handoff_message(
                self.env,
                attempt.message_code,
                attempt.message_params,
                attempt.message_text,
            )

    def _search_message(self, operator, value):
        return search_handoff_message(
            self.env, operator, value, "message_code", "message_text"
        )
