from odoo import fields, models


class CrmStageWinRateLog(models.Model):
    """Every adoption of a historical win rate: who, when, from what to what."""

    _name = "crm.stage.win.rate.log"
    _inherit = ["crm.immutable.mixin"]
    _description = "Stage Win Rate Calibration"
    _order = "date desc, id desc"
    _rec_name = "stage_id"

    stage_id = fields.Many2one(
        "crm.stage", required=True, ondelete="cascade", readonly=True
    )
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    user_id = fields.Many2one(
        "res.users",
        string="Adopted By",
        required=True,
        readonly=True,
        default=lambda self: self.env.user,
    )
    old_win_rate = fields.Float(string="Previous Win Rate (%)", readonly=True)
    new_win_rate = fields.Float(string="Adopted Win Rate (%)", readonly=True)
    entered_count = fields.Integer(
        string="Based on Opportunities",
        readonly=True,
        help="Opportunities that reached the stage when the rate was adopted.",
    )
    won_count = fields.Integer(string="Of Which Won", readonly=True)
