import ast

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .crm_grade_matrix import GRADES


class CrmGradeRule(models.Model):
    """Pre-assessment (预评估): opportunities matching the rule get its grade
    directly, whatever their score (a strategic account is always A, a
    customer that failed the credit check always D)."""

    _name = "crm.grade.rule"
    _description = "Pre-assessment Rule"
    _inherit = ["mail.thread"]
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(default=10, help="The first rule that matches wins.")
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", help="Leave empty to apply the rule in every company."
    )
    grade = fields.Selection(GRADES, required=True, tracking=True)
    domain = fields.Char(
        string="Applies To",
        required=True,
        default="[]",
        tracking=True,
        help="The opportunities this rule grades directly.",
    )

    @api.constrains("domain")
    def _check_domain(self):
        for rule in self:
            try:
                self.env["crm.lead"].search_count(
                    ast.literal_eval(rule.domain or "[]"), limit=1
                )
            except Exception as error:
                raise ValidationError(
                    self.env._(
                        "The rule %(rule)s cannot be used: %(error)s",
                        rule=rule.name,
                        error=error,
                    )
                ) from error

    @api.model
    def _matches(self, leads):
        """{lead: first matching rule} (one query per active rule)."""
        result = {}
        for rule in self.sudo().search([]):
            candidates = leads.filtered(
                lambda lead, rule=rule: (
                    lead not in result
                    and (not rule.company_id or lead.company_id == rule.company_id)
                )
            )
            if not candidates:
                continue
            domain = [("id", "in", candidates.ids), *ast.literal_eval(rule.domain)]
            for lead in (
                candidates.sudo().with_context(active_test=False).search(domain)
            ):
                result[leads.browse(lead.id)] = rule
        return result

    @api.model_create_multi
    def create(self, vals_list):
        rules = super().create(vals_list)
        rules._regrade()
        return rules

    def write(self, vals):
        res = super().write(vals)
        self._regrade()
        return res

    def unlink(self):
        companies = self.company_id
        everywhere = not all(rule.company_id for rule in self)
        res = super().unlink()
        self._regrade(companies=None if everywhere else companies)
        return res

    def _regrade(self, companies=False):
        """Regrade the open deals of the companies the rules apply in."""
        if companies is False:
            companies = (
                self.company_id if all(rule.company_id for rule in self) else None
            )
        domain = [] if companies is None else [("company_id", "in", companies.ids)]
        self.env["crm.lead"]._regrade_later_or_now(domain)
