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
    evidence_type = fields.Selection(
        related="criterion_id.evidence_type", string="Evidence Type"
    )
    evidence_needed = fields.Char(compute="_compute_evidence_needed")
    evidence_ref = fields.Reference(
        selection="_selection_evidence_ref",
        string="Evidence",
        readonly=True,
        help="The document that proved the criterion when it was ticked.",
    )

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

    @api.model
    def _selection_evidence_ref(self):
        return [
            (model, self.env[model]._description)
            for model in self.env["crm.lead"]._evidence_models()
        ]

    @api.depends("criterion_id.evidence_type", "criterion_id.evidence_card_section")
    @api.depends_context("lang")
    def _compute_evidence_needed(self):
        for line in self:
            line.evidence_needed = line.criterion_id._evidence_description()

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        # A stage entered with its documents already there: tick what they answer.
        answered = lines.filtered(
            lambda line: (
                line.criterion_id.evidence_auto_tick
                and line.criterion_id.evidence_type != "none"
                and not line.done
            )
        )
        if answered:
            answered.lead_id._sync_evidence_ticks(answered)
        return lines

    def write(self, vals):
        if not self.env.su and set(vals) - {"done", "note"}:
            raise UserError(
                self.env._(
                    "Only the tick and the note of a checklist line can be changed."
                )
            )
        # Ticking is editing the opportunity: same rights, same record rules.
        self.lead_id.check_access("write")
        evidence = {}
        if "done" in vals:
            if vals["done"]:
                evidence = self._check_evidence()
                vals.update(done_user_id=self.env.uid, done_date=fields.Datetime.now())
            else:
                vals.update(done_user_id=False, done_date=False, evidence_ref=False)
        res = super().write(vals)
        for document, lines in evidence.items():
            super(CrmLeadCriterion, lines).write(
                {"evidence_ref": f"{document._name},{document.id}"}
            )
        return res

    def _check_evidence(self):
        """The evidence of each line about to be ticked, {document: lines};
        refuses the tick, naming the missing document, when there is none."""
        found = {}
        missing = []
        for line in self:
            criterion = line.criterion_id
            evidence = line.lead_id._evidence_for(criterion)
            if not evidence:
                missing.append(
                    self.env._(
                        "“%(criterion)s” cannot be ticked without %(evidence)s.",
                        criterion=criterion.name,
                        evidence=criterion._evidence_description(),
                    )
                )
            elif evidence is not True:
                found.setdefault(evidence, self.browse())
                found[evidence] |= line
        if missing:
            raise UserError("\n".join(missing))
        return found

    def action_open_evidence(self):
        """The document that proved the criterion."""
        self.ensure_one()
        document = self.evidence_ref
        return {
            "type": "ir.actions.act_window",
            "res_model": document._name,
            "res_id": document.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
