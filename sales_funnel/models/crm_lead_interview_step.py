from markupsafe import Markup

from odoo import api, fields, models

# What a next step tells its activity on the opportunity.
STEP_ACTIVITY_FIELDS = {
    "name": "summary",
    "user_id": "user_id",
    "date_deadline": "date_deadline",
}


class CrmLeadInterviewStep(models.Model):
    """A next step agreed in the interview (下一步工作计划): who does it by
    when. It is planned as an activity on the opportunity for its owner, and
    the activity follows the step while the report is a draft: a new owner or
    date moves it, removing the step cancels it. Once its owner marks the
    activity done, the step keeps no activity."""

    _name = "crm.lead.interview.step"
    _inherit = ["crm.lead.interview.line"]
    _description = "Customer Interview Next Step"

    name = fields.Char(string="Next Step", required=True)
    user_id = fields.Many2one(
        "res.users",
        string="Owner",
        required=True,
        default=lambda self: self.env.user,
        domain="[('share', '=', False)]",
    )
    date_deadline = fields.Date(
        string="Due Date", required=True, default=fields.Date.context_today
    )
    activity_id = fields.Many2one(
        "mail.activity",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
    )

    def _prepare_activity_vals(self):
        """The values of the activity that plans this step on the opportunity."""
        self.ensure_one()
        lead = self.interview_id.lead_id
        return {
            "res_model_id": self.env["ir.model"]._get_id(lead._name),
            "res_id": lead.id,
            "activity_type_id": self.env.ref("mail.mail_activity_data_todo").id,
            "summary": self.name,
            "user_id": self.user_id.id,
            "date_deadline": self.date_deadline,
            "note": Markup(
                self.env._(
                    "Next step of the customer interview report %(report)s",
                    report=self.interview_id._get_html_link(),
                )
            ),
        }

    @api.model_create_multi
    def create(self, vals_list):
        steps = super().create(vals_list)
        # One activity at a time: a batch subscribes its owner to the
        # opportunity once per activity, and two steps of an owner who does not
        # follow it yet would break the followers' unique key (mail.activity).
        for step in steps:
            step.activity_id = self.env["mail.activity"].create(
                step._prepare_activity_vals()
            )
        return steps

    def write(self, vals):
        result = super().write(vals)
        activity_vals = {
            STEP_ACTIVITY_FIELDS[fname]: value
            for fname, value in vals.items()
            if fname in STEP_ACTIVITY_FIELDS
        }
        if activity_vals and self.activity_id:
            self.activity_id.write(activity_vals)
        return result

    def unlink(self):
        activities = self.activity_id
        result = super().unlink()
        activities.unlink()
        return result
