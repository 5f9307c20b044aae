from odoo import fields, models

# Where an indicator's score comes from: the deal's own data, the customer's
# history (kept fresh by the daily regrade), or the salesperson's judgement.
SOURCES = [
    ("expected_revenue", "Expected Revenue of the Deal"),
    ("competition", "Competitors Named on the Deal"),
    ("customer_value", "Past Won Business of the Customer"),
    ("risk", "Overdue Invoices of the Customer"),
    ("activity", "Meetings, Calls and Interviews (90 days)"),
    ("entered", "Entered by the Salesperson"),
]

# Sources read from the customer's records, not from the deal.
CUSTOMER_SOURCES = ("customer_value", "risk", "activity")


class CrmGradeIndicator(models.Model):
    _name = "crm.grade.indicator"
    _description = "Opportunity Grade Indicator"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        help="Leave empty to offer the indicator to every company.",
    )
    dimension = fields.Selection(
        [("opportunity", "Opportunity"), ("customer", "Customer")],
        required=True,
        default="opportunity",
    )
    source = fields.Selection(
        SOURCES,
        string="Score From",
        required=True,
        default="entered",
        help="Data-based indicators score a value through the bands below; "
        "entered ones are scored 1 to 5 by the salesperson on the deal.",
    )
    guidance = fields.Text(
        translate=True,
        help="What each score means, shown to the salesperson who enters it.",
    )
    higher_is_worse = fields.Boolean(
        help="A higher value gives a lower score (risk, competition, difficulty).",
    )
    band_2 = fields.Float(
        string="Score 2 From", help="The value from which the score is 2."
    )
    band_3 = fields.Float(string="Score 3 From")
    band_4 = fields.Float(string="Score 4 From")
    band_5 = fields.Float(string="Score 5 From")

    _sql_constraints = [
        (
            "bands_ascending",
            "CHECK(source = 'entered' OR (band_2 <= band_3 AND band_3 <= band_4 "
            "AND band_4 <= band_5))",
            "The bands of an indicator must rise from score 2 to score 5.",
        ),
    ]

    def _score_value(self, value):
        """The 1–5 score of a data value (or of an entered 1–5 value)."""
        self.ensure_one()
        if self.source == "entered":
            score = int(value or 3)
        else:
            bands = (self.band_2, self.band_3, self.band_4, self.band_5)
            score = 1 + sum(1 for band in bands if value >= band)
        return 6 - score if self.higher_is_worse else score

    def write(self, vals):
        res = super().write(vals)
        if vals.get("active") is False:
            # A retired indicator leaves the matrices that weigh it.
            matrices = self.env["crm.grade.matrix"].search(
                [("indicator_ids", "in", self.ids)]
            )
            for indicator in self:
                matrices.write({"indicator_ids": [(3, indicator.id)]})
        return res
