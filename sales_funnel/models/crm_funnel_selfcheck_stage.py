from odoo import api, fields, models


class CrmFunnelSelfcheckStage(models.Model):
    """One stage of a weekly self-check: the salesperson's open deals in it
    now and a week before (count, amount, weighted amount), as prepared."""

    _name = "crm.funnel.selfcheck.stage"
    _inherit = ["crm.immutable.mixin"]
    _description = "Weekly Self-Check: Stage"
    _order = "selfcheck_id, sequence, id"

    selfcheck_id = fields.Many2one(
        "crm.funnel.selfcheck",
        string="Self-Check",
        required=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(related="selfcheck_id.company_id", store=True)
    currency_id = fields.Many2one(related="selfcheck_id.currency_id")
    stage_id = fields.Many2one("crm.stage", readonly=True, ondelete="restrict")
    sequence = fields.Integer(readonly=True)
    count = fields.Integer(string="Opportunities", readonly=True)
    amount = fields.Monetary(readonly=True)
    weighted_amount = fields.Monetary(string="Weighted", readonly=True)
    count_before = fields.Integer(string="A Week Before", readonly=True)
    amount_before = fields.Monetary(string="Amount a Week Before", readonly=True)
    weighted_amount_before = fields.Monetary(
        string="Weighted a Week Before", readonly=True
    )
    count_change = fields.Integer(
        string="Change", compute="_compute_changes", aggregator="sum"
    )
    weighted_amount_change = fields.Monetary(
        string="Weighted Change", compute="_compute_changes", aggregator="sum"
    )

    @api.depends("count", "count_before", "weighted_amount", "weighted_amount_before")
    def _compute_changes(self):
        for line in self:
            line.count_change = line.count - line.count_before
            line.weighted_amount_change = (
                line.weighted_amount - line.weighted_amount_before
            )
