from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .crm_lead_buying_role import BUYING_ROLES

# What a criterion can ask for as its proof (see crm.lead._evidence_for).
EVIDENCE_TYPES = [
    ("none", "No evidence"),
    ("interview", "Customer interview report"),
    ("card_section", "Basic Facts Card section"),
    ("problem", "Existing-problem record"),
    ("trial", "Accepted trial report"),
    ("attachment", "Attached document"),
]
# The sections of the Basic Facts Card a criterion can ask for; the first seven
# are the ones its completeness counts (crm.lead.fact.card.COMPLETENESS_SECTIONS).
CARD_SECTIONS = [
    ("decision_maker", "Decision maker named"),
    ("coach", "Coach named"),
    ("buyer", "Buyer named"),
    ("organisation", "Organisation and procurement process described"),
    ("value_points", "The decision maker's two value points"),
    ("budget", "Budget confirmed"),
    ("funds", "Source of funds"),
    ("buying_roles", "User, influencer, decision maker and buyer named"),
    ("basics", "Card submitted: organisation and the four buying roles"),
    ("buying_stage", "Buying stage known"),
    ("complete", "The whole card"),
]


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
    evidence_type = fields.Selection(
        EVIDENCE_TYPES,
        string="Evidence",
        required=True,
        default="none",
        help="The document that proves the criterion: it cannot be ticked "
        "without it, and the tick links to it.",
    )
    evidence_card_section = fields.Selection(
        CARD_SECTIONS,
        string="Card Section",
        help="The part of the Basic Facts Card that must be filled in.",
    )
    evidence_role = fields.Selection(
        BUYING_ROLES,
        string="Participant's Buying Role",
        help="Interview reports only: a customer participant of the interview "
        "must have this role on the Basic Facts Card.",
    )
    evidence_auto_tick = fields.Boolean(
        string="Tick on Evidence",
        help="The evidence fully answers the criterion: it is ticked for the "
        "salesperson when the document is saved (and unticked, with a note, "
        "when the document is removed).",
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

    @api.constrains("evidence_type", "evidence_card_section")
    def _check_evidence_card_section(self):
        for criterion in self:
            if (
                criterion.evidence_type == "card_section"
                and not criterion.evidence_card_section
            ):
                raise ValidationError(
                    self.env._(
                        "Exit criterion “%(criterion)s” asks for a section of the "
                        "Basic Facts Card: say which one.",
                        criterion=criterion.name,
                    )
                )

    def _evidence_description(self):
        """What the criterion asks for, in words (the refusal names it)."""
        self.ensure_one()
        kind = self.evidence_type
        if kind == "card_section":
            sections = dict(
                self._fields["evidence_card_section"]._description_selection(self.env)
            )
            return self.env._(
                "the Basic Facts Card with “%(section)s”",
                section=sections.get(self.evidence_card_section, ""),
            )
        if kind == "problem":
            return self.env._(
                "the existing-problem record with at least one problem of the customer"
            )
        if kind == "trial":
            return self.env._("a trial report accepted by the customer")
        if kind == "attachment":
            return self.env._("a document attached to the opportunity")
        if kind == "interview":
            if self.evidence_role:
                roles = dict(
                    self._fields["evidence_role"]._description_selection(self.env)
                )
                return self.env._(
                    "a customer interview report with a participant who is the "
                    "customer's %(role)s",
                    role=roles[self.evidence_role],
                )
            return self.env._("a customer interview report")
        return ""

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
