"""Step 4 of the data path of a stage change (``CrmLead.write`` and ``create``
in crm_lead.py): entering a stage plans what it asks for, its own entry
activity and an activity for each collaborator it brings in
(crm_stage_collaboration.py), once per person while the first is open."""

from odoo import fields, models


class CrmLead(models.Model):
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    def _schedule_stage_entry_activity(self):
        """Plan the activities of the stage each opportunity just entered
        (write, kanban drop, import, creation in the stage, copy): the stage's
        entry activity (for its assignee, else the salesperson) and one per
        collaborator of the stage (a team's members, users) who may work in
        the deal's company. Nobody gets a second activity from the same stage
        on the same deal while the first is open (a step back and forth)."""
        if self.env.context.get("mail_activity_automation_skip"):
            return  # as activity_schedule: the caller plans no activity
        leads = self.filtered(
            lambda lead: lead.active and lead.type == "opportunity" and lead.stage_id
        )
        if not leads:
            return
        stages = leads.stage_id
        collaboration = (
            self.env["crm.stage.collaboration"].sudo()._collaborators(stages)
        )
        wanted = []  # (lead, user, what plans it: the stage or a line)
        for lead in leads:
            stage = lead.stage_id
            if stage.entry_activity_type_id:
                user = stage.entry_activity_user_id or lead.user_id or self.env.user
                wanted.append((lead, user, stage))
            for line, user_ids in collaboration.get(stage.id, []):
                wanted.extend(
                    (lead, user, line)
                    for user in self.env["res.users"].sudo().browse(user_ids)
                    if not lead.company_id or lead.company_id in user.company_ids
                )
        if not wanted:
            return
        planned = {
            (activity.res_id, activity.sales_funnel_stage_id.id, activity.user_id.id)
            for activity in self.env["mail.activity"]
            .sudo()
            .search_fetch(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "in", leads.ids),
                    ("sales_funnel_stage_id", "in", stages.ids),
                ],
                ["res_id", "sales_funnel_stage_id", "user_id"],
            )
        }
        model_id = self.env["ir.model"]._get_id(self._name)
        today = fields.Date.context_today(self)
        vals_list = []
        for lead, user, source in wanted:
            key = (lead.id, lead.stage_id.id, user.id)
            if key in planned:
                continue
            planned.add(key)
            vals_list.append(
                dict(
                    lead._prepare_stage_entry_activity_vals(source, user, today),
                    res_model_id=model_id,
                    res_id=lead.id,
                )
            )
        self.env["mail.activity"].create(vals_list)

    def _prepare_stage_entry_activity_vals(self, source, user, today):
        """Values of the activity ``source`` (the stage itself, or one of its
        collaboration lines) plans for ``user`` on entering the stage; the
        summary in the language of whoever gets it."""
        self.ensure_one()
        stage = self.stage_id
        if source._name == "crm.stage":
            activity_type = stage.entry_activity_type_id
            summary = stage.entry_activity_summary
            days = stage.entry_activity_days
        else:
            activity_type = source.activity_type_id
            summary = source.with_context(lang=user.lang).summary
            days = source.delay_days
        if not summary and not activity_type.summary and source._name != "crm.stage":
            reader = self.with_context(lang=user.lang)
            summary = reader.env._(
                "Join the deal at %(stage)s", stage=reader.stage_id.name
            )
        return {
            "activity_type_id": activity_type.id,
            "summary": summary or activity_type.summary,
            "note": activity_type.default_note,
            "automated": True,
            "user_id": user.id,
            "date_deadline": fields.Date.add(today, days=days),
            "sales_funnel_stage_id": stage.id,
        }
