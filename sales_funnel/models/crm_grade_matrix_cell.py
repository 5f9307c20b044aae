from odoo import api, fields, models

from .. import ahp


class CrmGradeMatrixCell(models.Model):
    """One judgement a_ij of a pairwise comparison matrix: how much more
    important the row's indicator is than the column's. The cell below the
    diagonal is kept at the reciprocal of its mirror automatically."""

    _name = "crm.grade.matrix.cell"
    _description = "Pairwise Comparison"
    _order = "row_sequence, row_indicator_id, col_sequence, col_indicator_id"

    matrix_id = fields.Many2one(
        "crm.grade.matrix", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="matrix_id.company_id", store=True)
    row_indicator_id = fields.Many2one(
        "crm.grade.indicator", string="Indicator", required=True, ondelete="cascade"
    )
    col_indicator_id = fields.Many2one(
        "crm.grade.indicator",
        string="Compared To",
        required=True,
        ondelete="cascade",
    )
    row_sequence = fields.Integer(
        string="Row Sequence", related="row_indicator_id.sequence", store=True
    )
    col_sequence = fields.Integer(
        string="Column Sequence", related="col_indicator_id.sequence", store=True
    )
    value = fields.Selection(
        [(value, value) for value in ahp.SCALE],
        string="Importance",
        required=True,
        default="1",
        help="Saaty's scale: 1 equal, 3 moderately, 5 strongly, 7 very strongly, "
        "9 extremely more important (2, 4, 6, 8 in between); 1/3 … 1/9 the "
        "other way round.",
    )
    ratio = fields.Float(compute="_compute_ratio", digits=(16, 4))
    editable = fields.Boolean(
        compute="_compute_editable",
        help="Above the diagonal: the cell below is its reciprocal.",
    )

    _sql_constraints = [
        (
            "pair_unique",
            "UNIQUE(matrix_id, row_indicator_id, col_indicator_id)",
            "A matrix compares each pair of indicators once.",
        ),
    ]

    @api.depends("value")
    def _compute_ratio(self):
        for cell in self:
            cell.ratio = ahp.ratio(cell.value)

    @api.depends("row_indicator_id", "col_indicator_id")
    def _compute_editable(self):
        for cell in self:
            cell.editable = cell._position(cell.row_indicator_id) < cell._position(
                cell.col_indicator_id
            )

    @staticmethod
    def _position(indicator):
        return (indicator.sequence, indicator.id)

    def write(self, vals):
        res = super().write(vals)
        if "value" in vals and not self.env.context.get("grade_matrix_mirroring"):
            self._mirror()
            if not self.env.context.get("grade_matrix_saving"):
                # A judgement changed on its own (not through its matrix's form).
                self.matrix_id._judgements_changed()
        return res

    def _mirror(self):
        """Put the reciprocal of each cell in the cell across the diagonal."""
        cells = self.search([("matrix_id", "in", self.matrix_id.ids)]).with_context(
            grade_matrix_mirroring=True
        )
        by_pair = {
            (
                cell.matrix_id.id,
                cell.row_indicator_id.id,
                cell.col_indicator_id.id,
            ): cell
            for cell in cells
        }
        for cell in self:
            mirror = by_pair.get(
                (cell.matrix_id.id, cell.col_indicator_id.id, cell.row_indicator_id.id)
            )
            value = ahp.reciprocal(cell.value)
            if mirror and mirror != cell and mirror.value != value:
                mirror.value = value
