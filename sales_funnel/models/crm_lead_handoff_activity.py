"""The sales secretary is told when a hand-off fails (handoff_status -1): an
activity on the deal with the message, in the secretary's language, kept up to
date on repeated failures and marked done when a retry succeeds."""

from markupsafe import Markup

from odoo import fields, models

from .crm_lead_handoff import render_handoff_message

# Outcomes of an attempt that close the secretary's activity: the documents exist.
HANDOFF_DONE = ("1", "2")


class CrmLead(models.Model):
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    def _update_handoff_activity(self, status):
        """After a hand-off attempt of ``self`` ended in ``status``: a failure
        gives each sales secretary an activity with the message (the open one
        is updated, not doubled); a success marks the open ones done."""
        self.ensure_one()
        activity_type = self.env.ref(
            "sales_funnel.mail_activity_type_handoff_failed", raise_if_not_found=False
        )
        if not activity_type:
            return
        # The job and the secretary's retry act for the company: the
        # secretaries' activities are handled whoever triggered the attempt.
        activities = (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "=", self.id),
                    ("activity_type_id", "=", activity_type.id),
                ]
            )
        )
        if status in HANDOFF_DONE:
            for activity in activities:
                reader = self.with_context(lang=activity.user_id.lang)
                activity.with_context(lang=activity.user_id.lang).action_feedback(
                    feedback=reader.env._(
                        "Handed off: order %(order)s.",
                        order=self.handoff_order_id.sudo().name or "-",
                    )
                )
            return
        if status != "-1":
            return
        model_id = self.env["ir.model"]._get_id(self._name)
        today = fields.Date.context_today(self)
        vals_list = []
        for user in self._handoff_secretaries():
            vals = self._prepare_handoff_activity_vals(user, activity_type, today)
            activity = activities.filtered(lambda act, user=user: act.user_id == user)
            if activity:
                activity.write(vals)
            else:
                vals_list.append(dict(vals, res_model_id=model_id, res_id=self.id))
        self.env["mail.activity"].sudo().create(vals_list)

    def _handoff_secretaries(self):
        """Who fixes a failed hand-off: the sales secretaries of the deal's
        company (members of Sales Secretary who are not sales managers: the
        managers hold the group too); without one, the deal's team leader."""
        self.ensure_one()
        group = self.env.ref("sales_funnel.group_sales_secretary")
        company = self.company_id or self.env.company
        secretaries = group.sudo().users.filtered(
            lambda user: (
                not user.share
                and company in user.company_ids
                and not user.has_group("sales_team.group_sale_manager")
            )
        )
        return secretaries or self.team_id.sudo().user_id.filtered("active")

    def _prepare_handoff_activity_vals(self, user, activity_type, today):
        """Values of ``user``'s activity on the failed hand-off: the message as
        the deal records it, in ``user``'s language."""
        self.ensure_one()
        reader = self.with_context(lang=user.lang)
        message = render_handoff_message(
            reader.env,
            self.handoff_message_code,
            self.handoff_message_params,
            self.handoff_message_text,
        )
        return {
            "activity_type_id": activity_type.id,
            "summary": reader.env._("Hand-off failed: fix it, then retry"),
            "note": Markup("<p>%s</p>") % message,
            "automated": True,
            "user_id": user.id,
            "date_deadline": today,
        }
