"""The stage gate of crm.lead: an opportunity moves forward only with the
required criteria of every stage it leaves or skips ticked, or on a sales
manager's written reason (a gate override).

Step 1 of the data path of a stage change (``CrmLead.write`` in crm_lead.py)
and of a creation (``CrmLead.create``).
"""

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import RedirectWarning, UserError
from odoo.tools import SQL

from .crm_lead import _prefetched

OVERRIDE_CONTEXT_KEY = "sales_funnel_gate_override"


class CrmLead(models.Model):
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    # ------------------------------------------------------------------
    # Step 1 of write: the gate
    # ------------------------------------------------------------------

    def _check_stage_gate(self, new_stage):
        """Refuse to move ``self`` forward to ``new_stage`` while a required
        criterion of a stage it leaves or skips is not ticked. Backward moves
        pass; so does server code holding a gate override in its context (the
        override wizard, ``_move_past_gate``)."""
        forward = self.filtered(
            lambda lead: (
                not lead.stage_id
                or lead.stage_id._funnel_rank() < new_stage._funnel_rank()
            )
        )
        if not forward or self._gate_override_from_context():
            return
        # Deals made only of accessories skip the funnel (crm_lead_entry.py).
        forward -= forward._check_accessory_deals(new_stage)
        if not forward:
            return
        passed_by_lead = forward._stages_passed(new_stage)
        missing = forward._missing_criteria(new_stage, passed_by_lead)
        facts = forward._missing_facts(passed_by_lead)
        if not missing and not facts:
            return
        blocked = forward.filtered(lambda lead: lead.id in missing or lead.id in facts)
        message = "\n\n".join(
            self.env._(
                "“%(lead)s” cannot move from %(from_stage)s to %(to_stage)s. "
                "These required criteria are not met:\n%(missing)s",
                lead=lead.name,
                from_stage=lead.stage_id.name or self.env._("no stage"),
                to_stage=new_stage.name,
                missing="\n".join(
                    text
                    for text in (
                        lead.id in missing
                        and self._format_missing_criteria(missing[lead.id]),
                        lead.id in facts and self._format_missing_facts(facts[lead.id]),
                    )
                    if text
                ),
            )
            for lead in blocked
        )
        message += "\n\n" + self.env._(
            "Tick the criteria on the opportunity's checklist, then move it again."
        )
        if len(blocked) == 1 and self.env.user.has_group(
            "sales_team.group_sale_manager"
        ):
            raise RedirectWarning(
                message,
                blocked._gate_override_action(new_stage),
                self.env._("Override with a reason"),
            )
        raise UserError(message)

    def _gate_override_from_context(self):
        override = self.env.context.get(OVERRIDE_CONTEXT_KEY)
        # A recordset cannot come from an RPC payload: only server code bypasses.
        if (
            isinstance(override, models.BaseModel)
            and override._name == "crm.stage.gate.override"
        ):
            return override
        return self.env["crm.stage.gate.override"]

    def _stages_passed(self, target_stage):
        """The stages each opportunity leaves or skips to reach
        ``target_stage``: {lead id: stages}. The order of the stages is
        cached: no query on a move."""
        target_rank = target_stage._funnel_rank()
        Stage = self.env["crm.stage"]
        order = Stage._funnel_order()
        passed_by_lead = {}
        for lead in self:
            from_rank = lead.stage_id._funnel_rank() if lead.stage_id else (0, 0)
            passed_by_lead[lead.id] = Stage.browse(
                stage_id
                for stage_id, rank, team_id in order
                if from_rank <= rank < target_rank
                and team_id in (lead.team_id.id, False)
            )
        return passed_by_lead

    def _missing_criteria(self, target_stage, passed_by_lead=None):
        """Required criteria not ticked on each opportunity, over every stage it
        leaves or skips to reach ``target_stage``: {lead id: criteria}."""
        Criterion = self.env["crm.stage.criterion"]
        if passed_by_lead is None:
            passed_by_lead = self._stages_passed(target_stage)
        passed = self.env["crm.stage"].union(*passed_by_lead.values())
        if not passed:
            return {}
        if len(self) == 1:
            # One query, whatever the number of criteria (the usual stage change).
            self.env["crm.lead.criterion"].flush_model(
                ["lead_id", "criterion_id", "done"]
            )
            missing = Criterion.sudo().search(
                [
                    ("stage_id", "in", passed.ids),
                    ("required", "=", True),
                    ("company_id", "in", [self.company_id.id, False]),
                    (
                        "id",
                        "not in",
                        SQL(
                            "(SELECT criterion_id FROM crm_lead_criterion"
                            " WHERE lead_id = %s AND done)",
                            self.id,
                        ),
                    ),
                ]
            )
            return {self.id: missing} if missing else {}
        criteria = Criterion.sudo().search(
            [("stage_id", "in", passed.ids), ("required", "=", True)]
        )
        done = {
            (lead.id, criterion.id)
            for lead, criterion in self.env["crm.lead.criterion"]
            .sudo()
            ._read_group(
                [
                    ("lead_id", "in", self.ids),
                    ("criterion_id", "in", criteria.ids),
                    ("done", "=", True),
                ],
                ["lead_id", "criterion_id"],
            )
        }
        missing = {}
        for lead in self:
            lead_missing = criteria.filtered(
                lambda criterion, lead=lead: (
                    criterion.stage_id in passed_by_lead[lead.id]
                    and criterion.company_id
                    in (lead.company_id, self.env["res.company"])
                    and (lead.id, criterion.id) not in done
                )
            )
            if lead_missing:
                missing[lead.id] = lead_missing
        return missing

    def _format_missing_criteria(self, criteria):
        lines = []
        for stage in criteria.stage_id.sorted(lambda s: s._funnel_rank()):
            lines.append(f"{stage.name}:")
            lines.extend(
                f"  • {criterion.name}"
                for criterion in criteria.filtered(
                    lambda c, stage=stage: c.stage_id == stage
                )
            )
        return "\n".join(lines)

    # ------------------------------------------------------------------
    # Override by a sales manager
    # ------------------------------------------------------------------

    def _gate_override_action(self, target_stage=None):
        self.ensure_one()
        context = {"default_lead_id": self.id}
        if target_stage:
            context["default_stage_id"] = target_stage.id
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Override the Stage Gate"),
            "res_model": "crm.stage.gate.override.wizard",
            "view_mode": "form",
            "views": [[False, "form"]],
            "target": "new",
            "context": context,
        }

    def action_open_gate_override(self):
        return self._gate_override_action()

    def _gate_missing(self, stage):
        """What the gate holds this opportunity back on, to reach ``stage``:
        (required criteria not ticked, their text with the required facts
        not filled in), as the refusal lists them."""
        self.ensure_one()
        passed_by_lead = self._stages_passed(stage)
        missing = self._missing_criteria(stage, passed_by_lead).get(
            self.id, self.env["crm.stage.criterion"]
        )
        facts = self._missing_facts(passed_by_lead).get(self.id)
        text = "\n".join(
            text
            for text in (
                self._format_missing_criteria(missing),
                facts and self._format_missing_facts(facts),
            )
            if text
        )
        return missing, text

    def _move_past_gate(self, stage, reason):
        """Move past the gate on a sales manager's written reason."""
        self.ensure_one()
        missing, missing_text = self._gate_missing(stage)
        from_stage = self.stage_id
        override = self.env["crm.stage.gate.override"]._create_record(
            self._prepare_gate_override_vals(
                from_stage, stage, reason, missing, missing_text
            )
        )
        self.with_context(**{OVERRIDE_CONTEXT_KEY: override}).write(
            {"stage_id": stage.id}
        )
        body = Markup("<p>%s</p><p>%s</p>") % (
            self.env._(
                "Stage gate overridden from %(from_stage)s to %(to_stage)s.",
                from_stage=from_stage.name,
                to_stage=stage.name,
            ),
            reason,
        )
        if missing_text:
            body += Markup("<p>%s</p><pre>%s</pre>") % (
                self.env._("Criteria not met:"),
                missing_text,
            )
        self.message_post(body=body, subtype_xmlid="mail.mt_note")
        return override

    def _prepare_gate_override_vals(
        self, from_stage, to_stage, reason, missing, missing_text=None
    ):
        """Values of the gate override that moves this opportunity from
        ``from_stage`` (none at creation) to ``to_stage`` past the ``missing``
        criteria (``missing_text``: their text, if already formatted)."""
        self.ensure_one()
        if missing_text is None:
            missing_text = self._format_missing_criteria(missing)
        return {
            "lead_id": self.id,
            "from_stage_id": from_stage.id,
            "to_stage_id": to_stage.id,
            "reason": reason,
            "missing_criterion_ids": [fields.Command.set(missing.ids)],
            "missing_criteria": missing_text,
        }

    # ------------------------------------------------------------------
    # The gate at creation
    # ------------------------------------------------------------------

    @api.model
    def _check_gate_on_create(self, vals_list):
        """Hold new opportunities to the gate of the stage they are created in.

        A new opportunity has no ticked criteria: every required criterion of
        the stages before its stage is missing. A salesperson is refused and
        nothing is created; a sales manager may give a written reason in
        ``gate_override_reason`` (RPC value or import column), recorded as a
        gate override once the opportunity exists. A few queries for the whole
        batch, whatever its size (imports of thousands of rows).

        :return: per values, None or the (stage, missing criteria, reason) of
            the override to record (``_record_gate_overrides_on_create``)
        """
        reasons = [
            (vals.pop("gate_override_reason", None) or "").strip() for vals in vals_list
        ]
        pending = [None] * len(vals_list)
        if self.env.su:
            # Server code (data files, migrations) places its records itself.
            return pending
        defaults = {}
        if any("stage_id" not in vals or "team_id" not in vals for vals in vals_list):
            defaults = self.default_get(["stage_id", "team_id", "user_id", "type"])
        target_ids = [
            vals.get("stage_id", defaults.get("stage_id")) or False
            for vals in vals_list
        ]
        if not any(target_ids):
            return pending
        Stage = self.env["crm.stage"]
        stages = Stage.search_fetch([], _prefetched(Stage)).sorted(
            lambda stage: stage._funnel_rank()
        )
        if stages.team_id:
            team_ids = self._teams_of_new_leads(vals_list, defaults)
        else:
            team_ids = [False] * len(vals_list)
        passed = {}
        for target_id, team_id in set(zip(target_ids, team_ids, strict=True)):
            if target_id:
                rank = Stage.browse(target_id)._funnel_rank()
                passed[target_id, team_id] = stages.filtered(
                    lambda stage, rank=rank, team_id=team_id: (
                        stage._funnel_rank() < rank
                        and stage.team_id.id in (team_id, False)
                    )
                )
        all_passed = Stage.union(*passed.values())
        if not all_passed:
            return pending
        criteria = (
            self.env["crm.stage.criterion"]
            .sudo()
            .search([("stage_id", "in", all_passed.ids), ("required", "=", True)])
        )
        if not criteria:
            return pending
        is_manager = self.env.user.has_group("sales_team.group_sale_manager")
        missing_by_key = {}
        blocked = {}
        for index, vals in enumerate(vals_list):
            if not target_ids[index]:
                continue
            company_id = vals.get("company_id") or self.env.company.id
            key = (target_ids[index], team_ids[index], company_id)
            if key not in missing_by_key:
                missing_by_key[key] = criteria.filtered(
                    lambda criterion, key=key: (
                        criterion.stage_id in passed[key[:2]]
                        and criterion.company_id.id in (key[2], False)
                    )
                )
            missing = missing_by_key[key]
            if not missing:
                continue
            if is_manager and reasons[index]:
                pending[index] = (Stage.browse(key[0]), missing, reasons[index])
            else:
                blocked.setdefault((key[0], missing), []).append(index)
        if blocked:
            first_index = next(iter(blocked.values()))[0]
            first_stage = stages.filtered(
                lambda stage: (
                    not stage.fold
                    and stage.team_id.id in (team_ids[first_index], False)
                )
            )[:1]
            raise UserError(
                self._gate_refusal_on_create(
                    vals_list,
                    blocked,
                    first_stage,
                    reason_refused=any(
                        reasons[i] for indexes in blocked.values() for i in indexes
                    ),
                    is_manager=is_manager,
                )
            )
        return pending

    @api.model
    def _teams_of_new_leads(self, vals_list, defaults):
        """Team of each new opportunity as crm will set it (given, default, else
        the salesperson's): one look-up per salesperson, not one per row."""
        Team = self.env["crm.team"]
        by_user = {}
        team_ids = []
        for vals in vals_list:
            team_id = vals.get("team_id", defaults.get("team_id"))
            user_id = vals.get("user_id", defaults.get("user_id"))
            if not team_id and user_id:
                lead_type = vals.get("type", defaults.get("type"))
                use = "use_leads" if lead_type == "lead" else "use_opportunities"
                if (user_id, use) not in by_user:
                    by_user[user_id, use] = Team._get_default_team_id(
                        user_id=user_id, domain=[(use, "=", True)]
                    ).id
                team_id = by_user[user_id, use]
            team_ids.append(team_id or False)
        return team_ids

    @api.model
    def _gate_refusal_on_create(
        self, vals_list, blocked, first_stage, reason_refused, is_manager
    ):
        """Message refusing the creation of ``blocked`` rows
        ({(stage id, missing criteria): indexes in vals_list})."""
        Stage = self.env["crm.stage"]
        paragraphs = []
        for (stage_id, missing), indexes in blocked.items():
            names = ", ".join(
                "“%s”" % (vals_list[i].get("name") or self.env._("New opportunity"))
                for i in indexes[:10]
            )
            if len(indexes) > 10:
                names += " " + self.env._("and %(count)s more", count=len(indexes) - 10)
            paragraphs.append(
                self.env._(
                    "%(leads)s cannot be created in %(stage)s. A new opportunity has "
                    "no ticked criteria, and these required criteria are not met:\n"
                    "%(missing)s",
                    leads=names,
                    stage=Stage.browse(stage_id).name,
                    missing=self._format_missing_criteria(missing),
                )
            )
        paragraphs.append(
            self.env._(
                "Create it in %(stage)s, tick its criteria on the checklist, then "
                "move it on.",
                stage=first_stage.name or "-",
            )
        )
        if reason_refused and not is_manager:
            paragraphs.append(
                self.env._("Only sales managers can override a stage gate.")
            )
        elif is_manager:
            paragraphs.append(
                self.env._(
                    "A sales manager may place it there with a written reason: the "
                    "“Gate Override Reason” column of an import (or value of an API "
                    "call), or Override Gate on the opportunity once created in the "
                    "first stage. The reason and the missing criteria are kept as a "
                    "gate override."
                )
            )
        return "\n\n".join(paragraphs)

    def _record_gate_overrides_on_create(self, pending):
        """Keep the gate overrides of opportunities a sales manager created past
        the gate (``pending`` from ``_check_gate_on_create``, in the order of
        ``self``): one batch of overrides and notes. {lead id: override}."""
        rows = [(lead, *item) for lead, item in zip(self, pending, strict=True) if item]
        if not rows:
            return {}
        formatted = {}
        headers = {}
        for _lead, stage, missing, _reason in rows:
            if missing not in formatted:
                formatted[missing] = self._format_missing_criteria(missing)
            if stage not in headers:
                headers[stage] = self.env._(
                    "Created in %(stage)s past the stage gate.", stage=stage.name
                )
        no_stage = self.env["crm.stage"]
        overrides = self.env["crm.stage.gate.override"]._create_record(
            [
                lead._prepare_gate_override_vals(
                    no_stage, stage, reason, missing, formatted[missing]
                )
                for lead, stage, missing, reason in rows
            ]
        )
        not_met = self.env._("Criteria not met:")
        bodies = {
            lead.id: Markup("<p>%s</p><p>%s</p><p>%s</p><ul>%s</ul>")
            % (
                headers[stage],
                reason,
                not_met,
                Markup().join(Markup("<li>%s</li>") % c.name for c in missing),
            )
            for lead, stage, missing, reason in rows
        }
        self.browse(list(bodies))._message_log_batch(bodies=bodies)
        return {
            lead.id: override
            for (lead, *_rest), override in zip(rows, overrides, strict=True)
        }
