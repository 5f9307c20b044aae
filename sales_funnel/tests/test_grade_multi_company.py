from odoo import Command
from odoo.tests import new_test_user

from .common import GradeCase


class TestGradeMultiCompany(GradeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company2 = cls.env["res.company"].create({"name": "SF Second Company"})
        cls.manager2 = new_test_user(
            cls.env,
            "sf_grade_manager2",
            groups="sales_team.group_sale_manager",
            company_id=cls.company2.id,
            company_ids=[Command.set(cls.company2.ids)],
        )
        cls.lead2 = cls.env["crm.lead"].create(
            {
                "name": "Second company deal",
                "type": "opportunity",
                "partner_id": cls.partner.id,
                "expected_revenue": 2000000,
                "company_id": cls.company2.id,
            }
        )

    def test_each_company_grades_with_its_own_matrix(self):
        # No matrix of its own yet: the first company's weights do not apply.
        self.assertFalse(self.lead2.grade)
        matrix = (
            self.env["crm.grade.matrix"]
            .with_user(self.manager2)
            .create(
                {
                    "name": "Revenue first",
                    "indicator_ids": [Command.set((self.revenue | self.urgency).ids)],
                }
            )
        )
        cell = matrix.cell_ids.filtered("editable")
        matrix.write({"cell_ids": [Command.update(cell.id, {"value": "4"})]})
        matrix.action_activate()
        self.assertEqual(self.matrix.state, "active", "the other company's stays")
        # Revenue 5 × 0.8 + urgency 3 × 0.2.
        self.assertAlmostEqual(self.lead2.grade_score, 4.6, places=2)
        self.assertEqual(len(self.lead2.grade_score_ids), 2)
        self.assertEqual(len(self.lead.grade_score_ids), 8)

    def test_matrices_of_other_companies_are_hidden(self):
        Matrix = self.env["crm.grade.matrix"].with_user(self.manager2)
        self.assertFalse(Matrix.search([("id", "=", self.matrix.id)]))
        self.assertIn(
            self.revenue,
            self.env["crm.grade.indicator"].with_user(self.manager2).search([]),
            "the shipped indicators are offered to every company",
        )
