from odoo import fields, models


class CrmGradeMatrixWeight(models.Model):
    """The weight the matrix gives one indicator (its share of the principal
    eigenvector), kept by the matrix whenever a comparison changes."""

    _name = "crm.grade.matrix.weight"
    _description = "Indicator Weight"
    _order = "matrix_id, weight desc, id"

    matrix_id = fields.Many2one(
        "crm.grade.matrix", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="matrix_id.company_id", store=True)
    indicator_id = fields.Many2one(
        "crm.grade.indicator", required=True, ondelete="cascade"
    )
    dimension = fields.Selection(related="indicator_id.dimension")
    source = fields.Selection(related="indicator_id.source")
    weight = fields.Float(digits=(16, 4), readonly=True)
    weight_percent = fields.Float(
        string="Weight (%)", compute="_compute_weight_percent", digits=(16, 1)
    )

    _sql_constraints = [
        (
            "indicator_unique",
            "UNIQUE(matrix_id, indicator_id)",
            "A matrix weighs each indicator once.",
        ),
    ]

    def _compute_weight_percent(self):
        for line in self:
            line.weight_percent = line.weight * 100
