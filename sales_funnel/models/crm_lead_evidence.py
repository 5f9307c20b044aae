from odoo import api, fields, models
from odoo.tools import SQL

# What the evidence of a criterion reads of the documents (``_prefetch_evidence``).
EVIDENCE_CARD_FIELDS = (
    "lead_id",
    "organisation",
    "value_point_1",
    "value_point_2",
    "buying_stage",
    "has_budget",
    "budget_amount",
    "funds_source",
)
EVIDENCE_ROLE_FIELDS = ("card_id", "sequence", "role", "partner_id")
EVIDENCE_PROBLEM_FIELDS = ("lead_id", "sequence")


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

    def _prefetch_evidence(self):
        """Read the Basic Facts Cards, their buying roles and the existing-problem
        records of these opportunities in one query, into the cache, so that
        ``_evidence_for`` reads none of them again (entering a stage ticks
        what they answer). Values already in the cache (pending changes) stay."""
        cache = self.env.cache
        fact_cards = self._fields["fact_card_ids"]
        leads = self.browse(
            lead_id
            for lead_id in self._ids
            if lead_id and not cache.contains(self.browse(lead_id), fact_cards)
        )
        if not leads:
            return
        Card = self.env["crm.lead.fact.card"]
        Role = self.env["crm.lead.buying.role"]
        Problem = self.env["crm.lead.problem"]
        Card.flush_model(EVIDENCE_CARD_FIELDS)
        Role.flush_model(EVIDENCE_ROLE_FIELDS)
        Problem.flush_model(EVIDENCE_PROBLEM_FIELDS)

        def columns(table, names):
            return SQL(
                "json_build_array(%s)",
                SQL(", ").join(SQL.identifier(table, name) for name in names),
            )

        # Each kind in the order of its one2many (the models' _order).
        rows = self.env.execute_query(
            SQL(
                """
                SELECT 'card', card.id, card.lead_id, %(card)s,
                       ARRAY[-card.id, 0]
                  FROM crm_lead_fact_card card
                 WHERE card.lead_id IN %(ids)s
                 UNION ALL
                SELECT 'role', role.id, role.card_id, %(role)s,
                       ARRAY[role.sequence, role.id]
                  FROM crm_lead_buying_role role
                  JOIN crm_lead_fact_card card ON card.id = role.card_id
                 WHERE card.lead_id IN %(ids)s
                 UNION ALL
                SELECT 'problem', problem.id, problem.lead_id, %(problem)s,
                       ARRAY[problem.sequence, problem.id]
                  FROM crm_lead_problem problem
                 WHERE problem.lead_id IN %(ids)s
                 ORDER BY 1, 5
                """,
                card=columns("card", EVIDENCE_CARD_FIELDS),
                role=columns("role", EVIDENCE_ROLE_FIELDS),
                problem=columns("problem", EVIDENCE_PROBLEM_FIELDS),
                ids=leads._ids,
            )
        )
        children = {kind: {} for kind in ("card", "role", "problem")}
        values = {kind: {} for kind in ("card", "role", "problem")}
        for kind, record_id, parent_id, vals, _order in rows:
            children[kind].setdefault(parent_id, []).append(record_id)
            values[kind][record_id] = vals
        for model, kind, names in (
            (Card, "card", EVIDENCE_CARD_FIELDS),
            (Role, "role", EVIDENCE_ROLE_FIELDS),
            (Problem, "problem", EVIDENCE_PROBLEM_FIELDS),
        ):
            records = model.browse(values[kind])
            for index, name in enumerate(names):
                field = model._fields[name]
                cache.insert_missing(
                    records,
                    field,
                    [
                        field.convert_to_cache(
                            values[kind][record.id][index], record, False
                        )
                        for record in records
                    ],
                )
        for field, parents, kind in (
            (fact_cards, leads, "card"),
            (self._fields["problem_ids"], leads, "problem"),
            (Card._fields["role_ids"], Card.browse(values["card"]), "role"),
        ):
            cache.insert_missing(
                parents,
                field,
                [tuple(children[kind].get(parent.id, ())) for parent in parents],
            )

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
        lines.lead_id._prefetch_evidence()
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
