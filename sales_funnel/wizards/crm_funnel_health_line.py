from odoo import api, fields, models


class CrmFunnelHealthLine(models.TransientModel):
    _name = "crm.funnel.health.line"
    _description = "Funnel Health of a Salesperson"
    _order = "id"

    wizard_id = fields.Many2one(
        "crm.funnel.health.wizard", required=True, ondelete="cascade"
    )
    user_id = fields.Many2one("res.users", string="Salesperson")
    team_id = fields.Many2one("crm.team", string="Sales Team")
    currency_id = fields.Many2one("res.currency", compute="_compute_currency_id")
    opportunity_count = fields.Integer(string="Open Opportunities")
    weighted_amount = fields.Monetary(string="Weighted Pipeline")
    won_amount = fields.Monetary(string="Won in Period")
    forecast_amount = fields.Monetary(
        string="Won + Weighted in Period",
        help="Won in the period plus the weighted amount of the open "
        "opportunities expected to close in it.",
    )
    target_amount = fields.Monetary(
        string="Target",
        help="The salesperson's target for the period: their target of the "
        "period's type, else the sum of their targets inside the period, else "
        "the share by days of a longer target (one month of a quarter target "
        "counts about a third of it). The Target Basis column says which.",
    )
    target_basis = fields.Char(
        help='How the target of the period was read, e.g. "Prorated by days '
        'from the quarter target".',
    )
    gap_amount = fields.Monetary(string="Gap")
    coverage = fields.Float(string="Coverage (%)")
    stage_weighted = fields.Char(string="Weighted by Stage")
    level = fields.Selection(
        [("salesperson", "Salesperson"), ("team", "Sales Team")],
        default="salesperson",
        help="A salesperson's funnel in a team, or the whole team's.",
    )
    needed = fields.Char(
        string="Opportunities Needed",
        help="New opportunities each stage needs to close the gap: gap ÷ (average "
        "deal won × the share of the opportunities entering the stage that end "
        "won), from the conversions of the last twelve months. See Rates From.",
    )
    needed_stage_id = fields.Many2one("crm.stage", string="Top Stage")
    needed_count = fields.Integer(
        string="New Opportunities Needed",
        help="New opportunities the top stage of the funnel needs to close the gap.",
    )
    needed_lead_count = fields.Integer(
        string="New Leads Needed",
        help="New leads to bring in, at the lead conversion of the last twelve "
        "months, for the opportunities the top stage needs.",
    )
    open_lead_count = fields.Integer(
        string="Open Leads",
        help="The leads waiting to be qualified: at the observed lead conversion "
        "they supply part of the new opportunities needed.",
    )
    need_basis = fields.Char(
        string="Rates From",
        help="Whose last twelve months gave the conversion rates: the "
        "salesperson's own history, else their team's, else the company's.",
    )
    balanced = fields.Boolean(
        help="The weighted amount of each stage is close to the stages' mean."
    )
    funnel_not_full = fields.Boolean(
        help="Funnel not full (漏斗不满): the top of the funnel is short of the new "
        "opportunities needed to close the gap; the open leads, at the observed "
        "lead conversion, do not supply them. Without enough history: won + "
        "weighted leave a gap.",
    )
    low_conversion = fields.Boolean()
    low_conversion_stage_ids = fields.Many2many(
        "crm.stage", string="Low Conversion Stages"
    )
    last_inspection = fields.Datetime(
        string="Last One-to-One Review",
        help="When the last one-to-one review of the salesperson's weekly "
        "self-checks was signed off.",
    )
    weak_inspection = fields.Boolean(
        help="No one-to-one review signed off within the inspection interval."
    )

    @api.depends_context("allowed_company_ids")
    def _compute_currency_id(self):
        self.currency_id = self.env.company.currency_id
