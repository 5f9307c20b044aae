from odoo import fields, models


class CrmFunnelSelfcheckChange(models.Model):
    """A change of the salesperson's funnel since their previous self-check:
    a deal entered, moved forward or back, won, lost or restored, with its
    amount (a copy of the stage history row, as it was)."""

    _name = "crm.funnel.selfcheck.change"
    _inherit = ["crm.immutable.mixin"]
    _description = "Weekly Self-Check: Change"
    _order = "selfcheck_id, date, id"

    selfcheck_id = fields.Many2one(
        "crm.funnel.selfcheck",
        string="Self-Check",
        required=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(related="selfcheck_id.company_id", store=True)
    currency_id = fields.Many2one(related="selfcheck_id.currency_id")
    history_id = fields.Many2one(
        "crm.lead.stage.history", string="Stage History", readonly=True
    )
    lead_id = fields.Many2one(
        "crm.lead", string="Opportunity", readonly=True, ondelete="set null"
    )
    lead_name = fields.Char(string="Opportunity Name", readonly=True)
    event = fields.Selection(
        [
            ("create", "Entered"),
            ("forward", "Moved Forward"),
            ("backward", "Moved Back"),
            ("won", "Won"),
            ("lost", "Lost"),
            ("restore", "Restored"),
        ],
        readonly=True,
    )
    from_stage_id = fields.Many2one("crm.stage", readonly=True)
    to_stage_id = fields.Many2one("crm.stage", readonly=True)
    date = fields.Datetime(readonly=True)
    amount = fields.Monetary(readonly=True, aggregator="sum")
