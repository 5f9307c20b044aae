from odoo import api, fields, models


class CrmLead(models.Model):
    """The documents behind an opportunity's checklist: the Basic Facts Card,
    the existing-problem record, the trial reports and attached documents.

    A criterion declares the evidence it needs (``crm.stage.criterion``'s
    ``evidence_type``); ``_evidence_for`` finds it, one method per type
    (``_evidence_<type>``), so a new kind of document adds a method."""

    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    fact_card_ids = fields.One2many(
        "crm.lead.fact.card", "lead_id", string="Basic Facts Cards"
    )
    fact_card_id = fields.Many2one(
        "crm.lead.fact.card",
        string="Basic Facts Card",
        compute="_compute_fact_card",
    )
    fact_card_completeness = fields.Integer(
        string="Facts Card (%)",
        compute="_compute_fact_card",
        help="Completeness of the Basic Facts Card.",
    )
    problem_ids = fields.One2many(
        "crm.lead.problem", "lead_id", string="Existing Problems"
    )
    trial_report_ids = fields.One2many(
        "crm.lead.trial.report", "lead_id", string="Trial Reports"
    )
    trial_report_count = fields.Integer(compute="_compute_trial_report_count")

    @api.depends("fact_card_ids.completeness")
    def _compute_fact_card(self):
        for lead in self:
            card = lead.fact_card_ids[:1]
            lead.fact_card_id = card
            lead.fact_card_completeness = card.completeness

    @api.depends("trial_report_ids")
    def _compute_trial_report_count(self):
        for lead in self:
            lead.trial_report_count = len(lead.trial_report_ids)

    # ------------------------------------------------------------------
    # Evidence of a criterion: one method per type
    # ------------------------------------------------------------------

    def _evidence_for(self, criterion):
        """The document that proves ``criterion`` on this opportunity: a record
        (linked from the checklist), ``True`` when the type is not checked, or
        ``False`` when the evidence is missing."""
        self.ensure_one()
        kind = criterion.evidence_type
        if not kind or kind == "none":
            return True
        return getattr(self, f"_evidence_{kind}")(criterion) or False

    def _evidence_card_section(self, criterion):
        card = self.sudo().fact_card_ids[:1]
        if card and card._section_done(criterion.evidence_card_section):
            return card
        return False

    def _evidence_problem(self, criterion):
        return self.sudo().problem_ids[-1:]

    def _evidence_trial(self, criterion):
        return self.sudo().trial_report_ids.filtered("accepted")[:1]

    def _evidence_attachment(self, criterion):
        return (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [("res_model", "=", self._name), ("res_id", "=", self.id)],
                order="id desc",
                limit=1,
            )
        )

    def _evidence_interview(self, criterion):
        """A submitted customer interview report; with a buying role, one in
        which a contact the Basic Facts Card gives that role took part."""
        partners = None
        if criterion.evidence_role:
            roles = self.sudo().fact_card_ids[:1].role_ids
            partners = roles.filtered(
                lambda role: role.role == criterion.evidence_role
            ).partner_id
            if not partners:
                return False
        return self.sudo()._interview_reports(partners).sorted("date", reverse=True)[:1]

    @api.model
    def _evidence_models(self):
        """The models whose records a checklist line can link as its evidence."""
        return [
            "crm.lead.fact.card",
            "crm.lead.problem",
            "crm.lead.trial.report",
            "crm.lead.interview",
            "ir.attachment",
        ]

    def _sync_evidence_ticks(self, lines=None):
        """Bring the checklists in line with the documents: tick the criteria
        the documents now fully answer (``evidence_auto_tick``), for whoever
        saved the document; untick, with a note on the opportunity, the ticks
        whose linked evidence is gone; follow the link to the newest document.
        Ticks made without a link (before the criterion asked for evidence)
        are left alone."""
        if lines is None:
            if not self:
                return
            lines = (
                self.env["crm.lead.criterion"]
                .sudo()
                .search(
                    [
                        ("lead_id", "in", self.ids),
                        ("criterion_id.evidence_type", "!=", "none"),
                    ]
                )
            )
        lines = lines.sudo()
        for line in lines:
            criterion = line.criterion_id
            evidence = line.lead_id._evidence_for(criterion)
            if evidence is True:
                continue
            if line.done:
                if not evidence and line.evidence_ref:
                    line.write({"done": False})
                    line.lead_id.message_post(
                        body=self.env._(
                            "“%(criterion)s” is no longer ticked: %(evidence)s is "
                            "missing.",
                            criterion=criterion.name,
                            evidence=criterion._evidence_description(),
                        ),
                        subtype_xmlid="mail.mt_note",
                    )
                elif evidence and line.evidence_ref and line.evidence_ref != evidence:
                    line.write({"evidence_ref": f"{evidence._name},{evidence.id}"})
            elif evidence and criterion.evidence_auto_tick:
                line.write({"done": True})

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_open_fact_card(self):
        """The opportunity's Basic Facts Card, created on first use."""
        self.ensure_one()
        card = self.fact_card_ids[:1]
        if not card:
            self.check_access("write")
            card = self.env["crm.lead.fact.card"].create({"lead_id": self.id})
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Basic Facts Card"),
            "res_model": "crm.lead.fact.card",
            "res_id": card.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    def action_open_trial_reports(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_funnel.crm_lead_trial_report_action"
        )
        action["domain"] = [("lead_id", "=", self.id)]
        action["context"] = {"default_lead_id": self.id}
        return action
