"""The stage history of crm.lead: one row per funnel event (creation, move,
loss, restore), read by the conversion, cycle-time and pipeline-as-of analytics.

Step 5 of the data path of a stage change (``CrmLead.write`` in crm_lead.py)
and of a creation (``CrmLead.create``); the rows are ``crm.lead.stage.history``.
"""

from odoo import models


class CrmLead(models.Model):
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    def _log_stage_history(self, before=None, overrides=None):
        """Write the history of a creation (``before`` is None) or of a write:
        a row per stage move, loss (archived) or restore, compared with
        ``before`` ({lead id: StageSnapshot}, see ``_stage_snapshot``).
        ``overrides`` ({lead id: gate override}): the overrides of creations."""
        events = []
        for lead in self:
            if before is None:
                if lead.active and lead.stage_id:
                    events.append((lead, "create", self.env["crm.stage"], None))
                continue
            old = before[lead.id]
            if lead.stage_id and lead.stage_id != old.stage:
                event = lead._stage_move_event(old.stage)
                events.append((lead, event, old.stage, old.since))
            if lead.active != old.active:
                if lead.active:
                    events.append((lead, "restore", lead.stage_id, None))
                else:
                    events.append((lead, "lost", lead.stage_id, old.since))
        if events:
            self._log_stage_events(events, overrides=overrides)

    def _stage_move_event(self, old_stage):
        """History event of a move from ``old_stage`` to the current stage."""
        if self.stage_id.is_won:
            return "won"
        if old_stage and old_stage._funnel_rank() > self.stage_id._funnel_rank():
            return "backward"
        return "forward"

    def _log_stage_events(self, events, overrides=None):
        """Write history rows for (lead, event, stage left, entered-it-at) tuples;
        ``overrides`` ({lead id: override}) links rows to their own override,
        else to the gate override of the context (``_move_past_gate``)."""
        # The transaction time, as crm uses for date_last_stage_update.
        now = self.env.cr.now()
        override = self._gate_override_from_context()
        return self.env["crm.lead.stage.history"]._create_record(
            [
                lead._prepare_stage_history_vals(
                    event,
                    from_stage,
                    since,
                    now,
                    (overrides or {}).get(lead.id, override),
                )
                for lead, event, from_stage, since in events
            ]
        )

    def _prepare_stage_history_vals(self, event, from_stage, since, now, override):
        """Values of the history row of ``event``: the opportunity as it is
        now, having left ``from_stage`` it had entered at ``since``."""
        self.ensure_one()
        return {
            "lead_id": self.id,
            "event": event,
            "from_stage_id": from_stage.id,
            "to_stage_id": self.stage_id.id,
            # A creation is dated when the opportunity entered its stage.
            "date": (event == "create" and self.date_last_stage_update) or now,
            "user_id": self.env.uid,
            "salesperson_id": self.user_id.id,
            "team_id": self.team_id.id,
            "company_id": self.company_id.id,
            "expected_revenue": self.expected_revenue,
            "win_rate": self.probability,
            "weighted_revenue": self.prorated_revenue,
            "days_in_previous_stage": (now - since).total_seconds() / 86400
            if since
            else 0.0,
            "override_id": override.id,
        }
