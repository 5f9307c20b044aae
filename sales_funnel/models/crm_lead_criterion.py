from odoo import api, fields, models
from odoo.exceptions import UserError


class CrmLeadCriterion(models.Model):
    """One exit criterion on one opportunity: the tick box of its checklist."""

    _name = "crm.lead.criterion"
    _description = "Opportunity Exit Criterion"
    _order = "criterion_id"

    lead_id = fields.Many2one(
        "crm.lead", string="Opportunity", required=True, ondelete="cascade", index=True
    )
    criterion_id = fields.Many2one(
        "crm.stage.criterion",
        string="Exit Criterion",
        required=True,
        ondelete="restrict",
    )
    name = fields.Char(related="criterion_id.name")
    guidance = fields.Text(related="criterion_id.guidance")
    required = fields.Boolean(related="criterion_id.required")
    stage_id = fields.Many2one(related="criterion_id.stage_id", store=True)
    # Retiring a criterion hides its lines without losing the ticks.
    active = fields.Boolean(related="criterion_id.active", store=True)
    company_id = fields.Many2one(related="lead_id.company_id", store=True)
    in_current_stage = fields.Boolean(
        compute="_compute_in_current_stage", store=True, index=True
    )
    done = fields.Boolean()
    done_user_id = fields.Many2one("res.users", string="Ticked By", readonly=True)
    done_date = fields.Datetime(string="Ticked On", readonly=True)
    note = fields.Char()

    _sql_constraints = [
        (
            "lead_criterion_unique",
            "UNIQUE(lead_id, criterion_id)",
            "A criterion appears only once on an opportunity's checklist.",
        ),
    ]

    @api.depends("stage_id", "lead_id.stage_id")
    def _compute_in_current_stage(self):
        for line in self:
            line.in_current_stage = line.stage_id == line.lead_id.stage_id

    def write(self, vals):
        if not self.env.su and set(vals) - {"done", "note"}:
            raise UserError(
                self.env._(
                    "Only the tick and the note of a checklist line can be changed."
                )
            )
        # Ticking is editing the opportunity: same rights, same record rules.
        self.lead_id.check_access("write")
        if "done" in vals:
            if vals["done"]:
                vals.update(done_user_id=self.env.uid, done_date=fields.Datetime.now())
            else:
                vals.update(done_user_id=False, done_date=False)
        return super().write(vals)
