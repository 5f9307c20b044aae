import ast
import itertools

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression

from .. import ahp

GRADES = [
    ("a", "A (high)"),
    ("b", "B (medium)"),
    ("c", "C (low)"),
    ("d", "D (on hold)"),
]

# Valid opportunities (筛选出有效商机): those with a customer and an amount.
# The shipped judgements: a_ij = p_i / p_j, every ratio on Saaty's scale, so
# the shipped matrix is perfectly consistent (CR = 0).
DEFAULT_PRIORITIES = {
    "sales_funnel.crm_grade_indicator_revenue": 4,
    "sales_funnel.crm_grade_indicator_urgency": 2,
    "sales_funnel.crm_grade_indicator_importance": 2,
    "sales_funnel.crm_grade_indicator_difficulty": 1,
    "sales_funnel.crm_grade_indicator_competition": 2,
    "sales_funnel.crm_grade_indicator_customer_value": 4,
    "sales_funnel.crm_grade_indicator_risk": 2,
    "sales_funnel.crm_grade_indicator_activity": 1,
}

DEFAULT_VALID_DOMAIN = "[('partner_id', '!=', False), ('expected_revenue', '>', 0)]"


class CrmGradeMatrix(models.Model):
    """The pairwise comparison matrix of a company (or of one of its teams):
    the indicators' weights by the analytic hierarchy process, the rule of a
    valid opportunity and the score thresholds of the grades."""

    _name = "crm.grade.matrix"
    _description = "Opportunity Grade Matrix"
    _inherit = ["mail.thread"]
    _order = "company_id, team_id, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        check_company=True,
        tracking=True,
        help="Leave empty for the whole company; a team's own matrix comes first.",
    )
    state = fields.Selection(
        [("draft", "Draft"), ("active", "Active")],
        default="draft",
        required=True,
        tracking=True,
        copy=False,
    )
    indicator_ids = fields.Many2many(
        "crm.grade.indicator",
        string="Indicators",
        domain="[('company_id', 'in', [company_id, False])]",
    )
    cell_ids = fields.One2many(
        "crm.grade.matrix.cell", "matrix_id", string="Pairwise Comparisons"
    )
    weight_ids = fields.One2many(
        "crm.grade.matrix.weight", "matrix_id", string="Weights", readonly=True
    )
    lambda_max = fields.Float(string="λmax", digits=(16, 3), readonly=True)
    consistency_index = fields.Float(
        string="Consistency Index (CI)", digits=(16, 3), readonly=True
    )
    consistency_ratio = fields.Float(
        string="Consistency Ratio (CR)",
        digits=(16, 3),
        readonly=True,
        tracking=True,
        help="CI divided by Saaty's random index for the matrix size; under 0.10 "
        "the judgements are consistent enough to use.",
    )
    is_consistent = fields.Boolean(
        string="Consistent", compute="_compute_is_consistent"
    )
    inconsistency = fields.Char(
        string="Most Inconsistent Comparison", readonly=True, translate=False
    )
    valid_domain = fields.Char(
        string="Valid Opportunities",
        default=DEFAULT_VALID_DOMAIN,
        help="Open opportunities that match this filter are graded; the others "
        "have no grade (筛选出有效商机).",
    )
    threshold_a = fields.Float(
        string="A From", default=4.0, tracking=True, help="Weighted score (1–5)."
    )
    threshold_b = fields.Float(string="B From", default=3.2, tracking=True)
    threshold_c = fields.Float(string="C From", default=2.4, tracking=True)

    _sql_constraints = [
        (
            "thresholds_descending",
            "CHECK(threshold_a >= threshold_b AND threshold_b >= threshold_c)",
            "The grade thresholds must fall from A to C.",
        ),
    ]

    @api.depends("consistency_ratio")
    def _compute_is_consistent(self):
        for matrix in self:
            matrix.is_consistent = matrix.consistency_ratio < ahp.CR_LIMIT

    @api.constrains("valid_domain")
    def _check_valid_domain(self):
        for matrix in self:
            try:
                domain = ast.literal_eval(matrix.valid_domain or "[]")
                self.env["crm.lead"].search_count(domain, limit=1)
            except Exception as error:
                raise ValidationError(
                    self.env._(
                        "The filter of valid opportunities of %(matrix)s cannot "
                        "be used: %(error)s",
                        matrix=matrix.name,
                        error=error,
                    )
                ) from error

    # ------------------------------------------------------------------
    # CRUD: cells and weights follow the indicators and the judgements
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        matrices = super().create(vals_list)
        matrices._sync_cells()
        return matrices

    def write(self, vals):
        res = super(CrmGradeMatrix, self.with_context(grade_matrix_saving=True)).write(
            vals
        )
        if {"indicator_ids", "cell_ids"} & vals.keys():
            self._judgements_changed()
        elif self.filtered(lambda m: m.state == "active") and (
            {"valid_domain", "team_id"} & vals.keys()
            or any(k.startswith("threshold_") for k in vals)
        ):
            self.filtered(lambda m: m.state == "active")._regrade()
        return res

    def _judgements_changed(self):
        """After a change of the indicators or the judgements: cells, weights
        and consistency; a matrix in use must stay consistent and regrades."""
        self._sync_cells()
        active = self.filtered(lambda m: m.state == "active")
        active._check_consistency()
        active._regrade()

    def _sync_cells(self):
        """One cell per ordered pair of indicators (1 when new), none for
        indicators left out, then the weights and the consistency."""
        Cell = self.env["crm.grade.matrix.cell"]
        for matrix in self:
            indicators = matrix.indicator_ids
            obsolete = matrix.cell_ids.filtered(
                lambda c, keep=indicators: (
                    c.row_indicator_id not in keep or c.col_indicator_id not in keep
                )
            )
            obsolete.unlink()
            existing = {
                (c.row_indicator_id.id, c.col_indicator_id.id) for c in matrix.cell_ids
            }
            Cell.create(
                [
                    {
                        "matrix_id": matrix.id,
                        "row_indicator_id": row.id,
                        "col_indicator_id": col.id,
                        "value": "1",
                    }
                    for row, col in itertools.product(indicators, indicators)
                    if (row.id, col.id) not in existing
                ]
            )
            diagonal = matrix.cell_ids.filtered(
                lambda c: c.row_indicator_id == c.col_indicator_id and c.value != "1"
            )
            diagonal.with_context(grade_matrix_mirroring=True).write({"value": "1"})
            obsolete_weights = matrix.weight_ids.filtered(
                lambda w, keep=indicators: w.indicator_id not in keep
            )
            obsolete_weights.unlink()
            weighed = matrix.weight_ids.indicator_id
            self.env["crm.grade.matrix.weight"].create(
                [
                    {"matrix_id": matrix.id, "indicator_id": indicator.id}
                    for indicator in indicators - weighed
                ]
            )
        self._update_weights()

    def _judgements(self):
        """(indicators, matrix of ratios) in the order of the indicators."""
        self.ensure_one()
        indicators = self.indicator_ids.sorted(lambda i: (i.sequence, i.id))
        position = {indicator.id: n for n, indicator in enumerate(indicators)}
        matrix = [[1.0] * len(indicators) for _indicator in indicators]
        for cell in self.cell_ids:
            row = position.get(cell.row_indicator_id.id)
            col = position.get(cell.col_indicator_id.id)
            if row is not None and col is not None:
                matrix[row][col] = ahp.ratio(cell.value)
        return indicators, matrix

    def _update_weights(self):
        """Weights, λmax, CI, CR and the most inconsistent comparison."""
        for matrix in self:
            indicators, judgements = matrix._judgements()
            weights, lambda_max, index, ratio = ahp.consistency(judgements)
            by_indicator = dict(zip(indicators.ids, weights, strict=True))
            for line in matrix.weight_ids:
                line.weight = by_indicator.get(line.indicator_id.id, 0.0)
            inconsistency = False
            if ratio >= ahp.CR_LIMIT:
                i, j = ahp.most_inconsistent(judgements, weights)
                inconsistency = self.env._(
                    "%(row)s against %(col)s: judged %(value)s, the other "
                    "judgements imply about %(implied)s",
                    row=indicators[i].name,
                    col=indicators[j].name,
                    value=matrix._value(i, j, indicators),
                    implied=ahp.consistent_value(weights[i], weights[j]),
                )
            matrix.write(
                {
                    "lambda_max": lambda_max,
                    "consistency_index": index,
                    "consistency_ratio": ratio,
                    "inconsistency": inconsistency,
                }
            )

    def _judge_by_default(self):
        """The shipped judgements (data file and migration)."""
        self._judge_by_priorities(DEFAULT_PRIORITIES)
        return True

    def _judge_by_priorities(self, priorities):
        """Fill the judgements from relative priorities ({indicator xml id or
        id: number}): a_ij = p_i / p_j, rounded to the scale (a consistent
        matrix when every ratio is on the scale). The shipped matrix."""
        self.ensure_one()
        priority = {
            self.env.ref(key).id if isinstance(key, str) else key: number
            for key, number in priorities.items()
        }
        self.write({"indicator_ids": [(4, i) for i in priority]})
        cells = self.cell_ids.filtered("editable")
        for cell in cells.with_context(grade_matrix_saving=True):
            cell.value = ahp.consistent_value(
                priority[cell.row_indicator_id.id], priority[cell.col_indicator_id.id]
            )
        self._update_weights()
        return True

    def _value(self, i, j, indicators):
        row, col = indicators[i], indicators[j]
        cell = self.cell_ids.filtered(
            lambda c: c.row_indicator_id == row and c.col_indicator_id == col
        )
        return cell[:1].value or "1"

    def _check_consistency(self):
        for matrix in self:
            if matrix.consistency_ratio >= ahp.CR_LIMIT:
                raise UserError(
                    self.env._(
                        "The matrix %(matrix)s is not consistent enough to be used: "
                        "its consistency ratio is %(cr).2f (it must be under 0.10). "
                        "The most inconsistent comparison is %(pair)s.",
                        matrix=matrix.name,
                        cr=matrix.consistency_ratio,
                        pair=matrix.inconsistency,
                    )
                )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_activate(self):
        """Use this matrix for its company (or team) and regrade the deals."""
        self._check_consistency()
        for matrix in self:
            if not matrix.indicator_ids:
                raise UserError(
                    self.env._(
                        "The matrix %(matrix)s weighs no indicator.",
                        matrix=matrix.name,
                    )
                )
            self.search(
                [
                    ("id", "!=", matrix.id),
                    ("company_id", "=", matrix.company_id.id),
                    ("team_id", "=", matrix.team_id.id),
                    ("state", "=", "active"),
                ]
            ).write({"state": "draft"})
        self.write({"state": "active"})
        self._regrade()
        return True

    def action_draft(self):
        self.write({"state": "draft"})
        self._regrade()
        return True

    def action_regrade(self):
        self._regrade()
        return True

    def _regrade(self):
        """Regrade the open opportunities this matrix may apply to: at once
        when they are few, else by the daily regrade's job, triggered now (it
        works through them a committed batch at a time)."""
        domain = expression.OR(
            [
                [("company_id", "=", matrix.company_id.id)]
                + ([("team_id", "=", matrix.team_id.id)] if matrix.team_id else [])
                for matrix in self
            ]
        )
        self.env["crm.lead"]._regrade_later_or_now(domain)

    @api.model
    def _for_leads(self, leads):
        """{lead: matrix} of the active matrix of each lead: its team's, else
        its company's (one query)."""
        matrices = self.sudo().search(
            [
                ("state", "=", "active"),
                ("company_id", "in", (leads.company_id | self.env.company).ids),
            ]
        )
        by_key = {(m.company_id.id, m.team_id.id): m for m in matrices}
        result = {}
        for lead in leads:
            company = (lead.company_id or self.env.company).id
            matrix = by_key.get((company, lead.team_id.id)) or by_key.get(
                (company, False)
            )
            if matrix:
                result[lead] = matrix
        return result

    def _valid_domain(self):
        """The rule of a valid opportunity, as a domain."""
        self.ensure_one()
        return ast.literal_eval(self.valid_domain or "[]")

    def _grade_of(self, score):
        self.ensure_one()
        if score >= self.threshold_a:
            return "a"
        if score >= self.threshold_b:
            return "b"
        if score >= self.threshold_c:
            return "c"
        return "d"
