from odoo import fields, models


class CrmLead(models.Model):
    """The opportunity's customer interview reports."""

    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    interview_ids = fields.One2many(
        "crm.lead.interview", "lead_id", string="Interview Reports"
    )
    interview_count = fields.Integer(
        string="Interviews", compute="_compute_interview_count"
    )

    def _compute_interview_count(self):
        counts = dict(
            self.env["crm.lead.interview"]._read_group(
                [("lead_id", "in", self.ids)], ["lead_id"], ["__count"]
            )
        )
        for lead in self:
            lead.interview_count = counts.get(lead._origin, 0)

    def _interview_reports(self, partners=None):
        """The submitted interview reports of these opportunities, the evidence
        that a face-to-face meeting took place.

        :param partners: if given (res.partner records, e.g. the contacts the
            Basic Facts Card names in a buying role), only the reports in which
            at least one of them took part for the customer.
        :return: crm.lead.interview records, read with the current user's rights
        """
        domain = [("lead_id", "in", self.ids), ("state", "=", "done")]
        if partners is not None:
            domain.append(("participant_ids.partner_id", "in", partners.ids))
        return self.env["crm.lead.interview"].search(domain)

    def action_view_interviews(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_funnel.crm_lead_interview_action"
        )
        action["domain"] = [("lead_id", "=", self.id)]
        action["context"] = {"default_lead_id": self.id}
        if self.interview_count == 1:
            action.update(
                views=[(False, "form")], view_mode="form", res_id=self.interview_ids.id
            )
        return action

    def action_log_interview(self):
        """A new interview report for this opportunity, in a form."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Log an Interview"),
            "res_model": "crm.lead.interview",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
            "context": {"default_lead_id": self.id},
        }
