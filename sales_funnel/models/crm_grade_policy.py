from odoo import api, fields, models

from .crm_grade_matrix import GRADES


class CrmGradePolicy(models.Model):
    """Resources by grade (根据等级配置资源): how closely deals of a grade are
    followed, and the activities planned when a deal reaches it."""

    _name = "crm.grade.policy"
    _description = "Resources by Grade"
    _order = "company_id, grade"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    grade = fields.Selection(GRADES, required=True)
    max_days_without_activity = fields.Integer(
        string="Neglected After (Days)",
        help="Days without a planned activity after which a deal of this grade "
        "counts as neglected (0: never).",
    )
    activity_plan_id = fields.Many2one(
        "mail.activity.plan",
        domain="[('res_model', '=', 'crm.lead'), "
        "('company_id', 'in', [company_id, False])]",
        check_company=True,
        help="Planned on a deal when it reaches this grade.",
    )

    _sql_constraints = [
        (
            "grade_unique",
            "UNIQUE(company_id, grade)",
            "A company has one set of resources per grade.",
        ),
    ]

    @api.model
    def _by_company_grade(self, companies):
        return {
            (policy.company_id.id, policy.grade): policy
            for policy in self.sudo().search([("company_id", "in", companies.ids)])
        }
