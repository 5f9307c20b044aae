"""The weights and the consistency of the opportunity grade's matrix, checked
against examples published by T. L. Saaty, the author of the method."""

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import BaseCase, tagged

from .. import ahp
from .common import GradeCase


def _judgements(text):
    return [row.split() for row in text.strip().splitlines()]


def _matrix(text):
    return [[ahp.ratio(value) for value in row] for row in _judgements(text)]


# T. L. Saaty, "How to make a decision: the analytic hierarchy process",
# European Journal of Operational Research 48 (1990) 9–26, section 2, the
# criteria of buying a house (size, bus, neighbourhood, age, yard, modern
# facilities, general condition, financing): priorities 0.173, 0.054, 0.188,
# 0.018, 0.031, 0.036, 0.167, 0.333; λmax = 9.669, CI = 0.238, CR = 0.169.
HOUSE_TEXT = """
    1   5   3   7 6   6   1/3 1/4
    1/5 1   1/3 5 3   3   1/5 1/7
    1/3 3   1   6 3   4   6   1/5
    1/7 1/5 1/6 1 1/3 1/4 1/7 1/8
    1/6 1/3 1/3 3 1   1/2 1/5 1/6
    1/6 1/3 1/4 4 2   1   1/5 1/6
    3   5   1/6 7 5   5   1   1/2
    4   7   5   8 6   6   2   1
"""
HOUSE = _matrix(HOUSE_TEXT)

# T. L. Saaty, "A scaling method for priorities in hierarchical structures",
# Journal of Mathematical Psychology 15 (1977) 234–281, the relative brightness
# of four chairs: priorities 0.61, 0.24, 0.10, 0.05 and λmax = 4.39.
LIGHT = _matrix(
    """
    1   5   6   7
    1/5 1   4   6
    1/6 1/4 1   4
    1/7 1/6 1/4 1
    """
)


@tagged("post_install", "-at_install")
class TestAhp(BaseCase):
    def test_house_example_weights_and_consistency(self):
        weights, lambda_max, index, ratio = ahp.consistency(HOUSE)
        published = [0.173, 0.054, 0.188, 0.018, 0.031, 0.036, 0.167, 0.333]
        for weight, expected in zip(weights, published, strict=True):
            self.assertAlmostEqual(weight, expected, delta=0.0015)
        self.assertAlmostEqual(lambda_max, 9.669, delta=0.001)
        self.assertAlmostEqual(index, 0.238, delta=0.001)
        self.assertAlmostEqual(ratio, 0.169, delta=0.001)

    def test_house_example_names_its_most_inconsistent_judgement(self):
        weights = ahp.priorities(HOUSE)[0]
        # Neighbourhood judged 6 times as important as general condition, while
        # the rest of the matrix puts them level (0.188 against 0.167).
        self.assertEqual(ahp.most_inconsistent(HOUSE, weights), (2, 6))
        self.assertEqual(ahp.consistent_value(weights[2], weights[6]), "1")

    def test_light_example(self):
        weights, lambda_max, _index, ratio = ahp.consistency(LIGHT)
        for weight, expected in zip(weights, [0.61, 0.24, 0.10, 0.05], strict=True):
            self.assertAlmostEqual(weight, expected, delta=0.01)
        self.assertAlmostEqual(lambda_max, 4.39, delta=0.005)
        # RI(4) = 0.90: CR = 0.13 / 0.90, above Saaty's 0.10.
        self.assertAlmostEqual(ratio, 0.145, delta=0.001)

    def test_consistent_matrix(self):
        priorities = [4, 2, 1]
        matrix = [[p / q for q in priorities] for p in priorities]
        weights, lambda_max, index, ratio = ahp.consistency(matrix)
        self.assertEqual([round(w, 4) for w in weights], [0.5714, 0.2857, 0.1429])
        self.assertAlmostEqual(lambda_max, 3.0)
        self.assertAlmostEqual(ratio, 0.0)

    def test_scale(self):
        self.assertEqual(ahp.reciprocal("3"), "1/3")
        self.assertEqual(ahp.reciprocal("1/7"), "7")
        self.assertAlmostEqual(ahp.ratio("1/4"), 0.25)


class TestGradeMatrix(GradeCase):
    def _house_matrix(self):
        """Saaty's house example as a matrix of eight indicators."""
        indicators = self.env["crm.grade.indicator"].create(
            [
                {"name": name, "sequence": n, "source": "entered"}
                for n, name in enumerate(
                    [
                        "Size",
                        "Bus",
                        "Neighbourhood",
                        "Age",
                        "Yard",
                        "Modern",
                        "Condition",
                        "Financing",
                    ]
                )
            ]
        )
        matrix = (
            self.env["crm.grade.matrix"]
            .with_user(self.manager)
            .create({"name": "House", "indicator_ids": [Command.set(indicators.ids)]})
        )
        cells = {(c.row_indicator_id, c.col_indicator_id): c for c in matrix.cell_ids}
        values = _judgements(HOUSE_TEXT)
        matrix.write(
            {
                "cell_ids": [
                    Command.update(
                        cells[indicators[i], indicators[j]].id, {"value": values[i][j]}
                    )
                    for i in range(8)
                    for j in range(i + 1, 8)
                ]
            }
        )
        return matrix, indicators

    def test_shipped_matrix_is_consistent_and_active(self):
        self.assertEqual(self.matrix.state, "active")
        self.assertEqual(len(self.matrix.cell_ids), 64)
        self.assertAlmostEqual(self.matrix.consistency_ratio, 0.0, places=3)
        weights = {w.indicator_id: w.weight for w in self.matrix.weight_ids}
        self.assertAlmostEqual(weights[self.revenue], 4 / 18, places=4)
        self.assertAlmostEqual(weights[self.activity], 1 / 18, places=4)
        self.assertAlmostEqual(sum(weights.values()), 1.0, places=6)

    def test_manager_sees_weights_and_cr_of_saaty_house_example(self):
        matrix, indicators = self._house_matrix()
        self.assertAlmostEqual(matrix.lambda_max, 9.669, delta=0.001)
        self.assertAlmostEqual(matrix.consistency_ratio, 0.169, delta=0.001)
        weights = {w.indicator_id.name: w.weight for w in matrix.weight_ids}
        self.assertAlmostEqual(weights["Financing"], 0.333, delta=0.0015)
        self.assertAlmostEqual(weights["Neighbourhood"], 0.188, delta=0.0015)
        # The reciprocals were kept: the cells below the diagonal were not typed.
        below = matrix.cell_ids.filtered(
            lambda c: (
                c.row_indicator_id == indicators[6]
                and c.col_indicator_id == indicators[2]
            )
        )
        self.assertEqual(below.value, "1/6")

    def test_inconsistent_matrix_cannot_be_activated(self):
        matrix, _indicators = self._house_matrix()
        with self.assertRaises(UserError) as refusal:
            matrix.action_activate()
        message = str(refusal.exception)
        self.assertIn("0.17", message)
        self.assertIn("Neighbourhood against Condition", message)
        self.assertEqual(matrix.state, "draft")
        self.assertEqual(self.matrix.state, "active")

    def test_active_matrix_refuses_an_inconsistent_judgement(self):
        cell = self.matrix.cell_ids.filtered(
            lambda c: (
                c.row_indicator_id == self.revenue
                and c.col_indicator_id == self.activity
            )
        )
        self.assertEqual(cell.value, "4")
        with self.assertRaises(UserError):
            self.matrix.with_user(self.manager).write(
                {"cell_ids": [Command.update(cell.id, {"value": "1/9"})]}
            )

    def test_consistent_edit_reweights_and_regrades(self):
        lead = self.lead
        before = lead.grade_score
        cell = self.matrix.cell_ids.filtered(
            lambda c: (
                c.row_indicator_id == self.revenue
                and c.col_indicator_id == self.urgency
            )
        )
        self.matrix.with_user(self.manager).write(
            {"cell_ids": [Command.update(cell.id, {"value": "3"})]}
        )
        self.assertGreater(self.matrix.consistency_ratio, 0.0)
        self.assertLess(self.matrix.consistency_ratio, 0.10)
        mirror = self.matrix.cell_ids.filtered(
            lambda c: (
                c.row_indicator_id == self.urgency
                and c.col_indicator_id == self.revenue
            )
        )
        self.assertEqual(mirror.value, "1/3")
        self.assertNotAlmostEqual(lead.grade_score, before, places=3)

    def test_salesperson_cannot_change_the_matrix(self):
        with self.assertRaises(AccessError):
            self.matrix.with_user(self.salesman).write({"threshold_a": 1.0})

    def test_retired_indicator_leaves_the_matrix(self):
        self.activity.with_user(self.manager).active = False
        self.assertNotIn(self.activity, self.matrix.indicator_ids)
        self.assertEqual(len(self.matrix.cell_ids), 49)
        self.assertAlmostEqual(
            sum(self.matrix.weight_ids.mapped("weight")), 1.0, places=3
        )
        self.assertFalse(self._line(self.lead, self.activity))
