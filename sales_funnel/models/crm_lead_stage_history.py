from odoo import fields, models, tools


class CrmLeadStageHistory(models.Model):
    """Immutable log of every funnel event of an opportunity.

    Conversion, cycle-time and pipeline-as-of analytics read this table, so it
    stores what was true at the moment of the event instead of relying on the
    current state of the opportunity.
    """

    _name = "crm.lead.stage.history"
    _inherit = ["crm.immutable.mixin"]
    _description = "Opportunity Stage History"
    _order = "date desc, id desc"
    _rec_name = "lead_id"

    lead_id = fields.Many2one(
        "crm.lead",
        string="Opportunity",
        required=True,
        ondelete="cascade",
        readonly=True,
    )
    event = fields.Selection(
        [
            ("create", "Created"),
            ("forward", "Moved Forward"),
            ("backward", "Moved Backward"),
            ("won", "Won"),
            ("lost", "Lost"),
            ("restore", "Restored"),
        ],
        required=True,
        readonly=True,
    )
    from_stage_id = fields.Many2one("crm.stage", readonly=True)
    to_stage_id = fields.Many2one("crm.stage", readonly=True)
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    user_id = fields.Many2one("res.users", string="Changed By", readonly=True)
    salesperson_id = fields.Many2one("res.users", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    company_currency = fields.Many2one(
        "res.currency", related="company_id.currency_id", string="Currency"
    )
    expected_revenue = fields.Monetary(
        currency_field="company_currency", readonly=True, aggregator="sum"
    )
    win_rate = fields.Float(
        string="Win Rate (%)",
        readonly=True,
        aggregator="avg",
        help="Probability of the opportunity right after the event.",
    )
    weighted_revenue = fields.Monetary(
        currency_field="company_currency", readonly=True, aggregator="sum"
    )
    days_in_previous_stage = fields.Float(
        string="Days in Stage Left",
        readonly=True,
        aggregator="avg",
        help="Time spent in the stage the opportunity left, in days.",
    )
    override_id = fields.Many2one(
        "crm.stage.gate.override", string="Gate Override", readonly=True
    )

    def init(self):
        # Conversion analytics scan by stage, period, person and opportunity.
        for columns in (
            ["lead_id", "date"],
            ["to_stage_id", "date"],
            ["company_id", "date"],
            ["salesperson_id", "date"],
        ):
            tools.create_index(
                self.env.cr,
                f"{self._table}_{columns[0]}_date_idx",
                self._table,
                columns,
            )
