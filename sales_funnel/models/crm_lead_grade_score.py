from odoo import fields, models

ENTERED_SCORES = [
    ("1", "1 - Very low"),
    ("2", "2 - Low"),
    ("3", "3 - Medium"),
    ("4", "4 - High"),
    ("5", "5 - Very high"),
]


class CrmLeadGradeScore(models.Model):
    """One indicator's score of an opportunity, with its weight: why the deal
    has its grade. Entered indicators are scored here by the salesperson."""

    _name = "crm.lead.grade.score"
    _description = "Opportunity Indicator Score"
    _order = "lead_id, sequence, indicator_id"

    lead_id = fields.Many2one(
        "crm.lead", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(related="lead_id.company_id", store=True)
    indicator_id = fields.Many2one(
        "crm.grade.indicator", required=True, ondelete="cascade", readonly=True
    )
    sequence = fields.Integer(related="indicator_id.sequence", store=True)
    dimension = fields.Selection(related="indicator_id.dimension")
    guidance = fields.Text(related="indicator_id.guidance")
    is_entered = fields.Boolean(compute="_compute_is_entered")
    entered_score = fields.Selection(
        ENTERED_SCORES,
        string="Your Score",
        help="Entered indicators: your judgement from 1 (very low) to 5 (very "
        "high); the deal is scored 3 until you enter it.",
    )
    value = fields.Float(
        digits=(16, 2),
        readonly=True,
        help="The data the score comes from (an amount, a count).",
    )
    score = fields.Integer(readonly=True, help="From 1 (worst) to 5 (best).")
    weight = fields.Float(digits=(16, 4), readonly=True)
    contribution = fields.Float(
        digits=(16, 3), readonly=True, help="Score × weight: its share of the grade."
    )

    _sql_constraints = [
        (
            "indicator_unique",
            "UNIQUE(lead_id, indicator_id)",
            "An opportunity has one score per indicator.",
        ),
    ]

    def _compute_is_entered(self):
        for line in self:
            line.is_entered = line.indicator_id.source == "entered"

    def write(self, vals):
        if "entered_score" in vals:
            # Scored under the rights of the deal (its salesperson, managers).
            self.lead_id.check_access("write")
        res = super().write(vals)
        if "entered_score" in vals and not self.env.context.get("grading"):
            self.lead_id._grade()
        return res
