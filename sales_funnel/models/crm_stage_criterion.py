from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError


class CrmStageCriterion(models.Model):
    _name = "crm.stage.criterion"
    _description = "Stage Exit Criterion"
    _order = "stage_id, sequence, id"

    name = fields.Char(string="Criterion", required=True, translate=True)
    guidance = fields.Text(
        translate=True,
        help="How a salesperson proves this criterion (shown beside the tick box).",
    )
    stage_id = fields.Many2one(
        "crm.stage", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(default=10)
    required = fields.Boolean(
        default=True,
        help="Required criteria must be ticked before an opportunity may leave "
        "the stage forward.",
    )
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        help="Leave empty to use the criterion in every company.",
    )

    @api.constrains("name")
    def _check_name(self):
        for criterion in self:
            self._check_name_given(criterion.name, criterion.stage_id)

    def _check_name_given(self, name, stage):
        if not (name or "").strip():
            raise ValidationError(
                self.env._(
                    "Every exit criterion of stage “%(stage)s” needs a name.",
                    stage=stage.name,
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            # Before the database's NOT NULL, so the user reads why.
            if "name" not in vals or not vals["name"]:
                stage = self.env["crm.stage"].browse(vals.get("stage_id"))
                self._check_name_given(vals.get("name"), stage)
        criteria = super().create(vals_list)
        criteria._materialize_checklists()
        return criteria

    def write(self, vals):
        res = super().write(vals)
        if vals.get("stage_id") or vals.get("active"):
            self._materialize_checklists()
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_ticked(self):
        ticked = (
            self.env["crm.lead.criterion"]
            .sudo()
            .search_count(
                [("criterion_id", "in", self.ids), ("done", "=", True)], limit=1
            )
        )
        if ticked:
            raise UserError(
                self.env._(
                    "Some opportunities have already ticked these criteria. Archive "
                    "the criteria instead of deleting them, so no tick is lost."
                )
            )

    def _materialize_checklists(self):
        """Give open opportunities of the criteria's stages a line to tick."""
        stages = self.filtered("active").stage_id
        if stages:
            leads = self.env["crm.lead"].search([("stage_id", "in", stages.ids)])
            leads._ensure_checklist()
