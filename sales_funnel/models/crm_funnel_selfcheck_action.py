from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from .crm_immutable_mixin import _RECORDER, _RECORDER_KEY

# What an agreed action tells its activity.
ACTION_ACTIVITY_FIELDS = {
    "name": "summary",
    "user_id": "user_id",
    "date_deadline": "date_deadline",
}


class CrmFunnelSelfcheckAction(models.Model):
    """An action agreed at the one-to-one review (一对一检查): what the
    salesperson (or another owner) does by when, on a deal or in general. It is
    an activity for its owner, on the deal, else on the self-check. The
    reviewer agrees actions until the sign-off; signed, they are kept."""

    _name = "crm.funnel.selfcheck.action"
    _inherit = ["crm.immutable.mixin"]
    _description = "One-to-One Review: Agreed Action"
    _order = "selfcheck_id, date_deadline, id"

    selfcheck_id = fields.Many2one(
        "crm.funnel.selfcheck",
        string="Self-Check",
        required=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(related="selfcheck_id.company_id", store=True)
    name = fields.Char(string="Action", required=True)
    lead_id = fields.Many2one(
        "crm.lead",
        string="Opportunity",
        ondelete="set null",
        domain="[('type', '=', 'opportunity')]",
        help="The deal the action is about; none: the activity goes on the self-check.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Owner",
        required=True,
        domain="[('share', '=', False)]",
        compute="_compute_user_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    date_deadline = fields.Date(
        string="Deadline",
        required=True,
        default=lambda self: fields.Date.add(fields.Date.context_today(self), days=7),
    )
    activity_id = fields.Many2one(
        "mail.activity",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
    )

    @api.depends("selfcheck_id")
    def _compute_user_id(self):
        # The salesperson by default.
        for action in self:
            if not action.user_id:
                action.user_id = action.selfcheck_id.user_id

    def _is_mutable(self):
        # Agreed until the sign-off, then kept as signed.
        self.ensure_one()
        return self.selfcheck_id.state == "submitted"

    def _check_reviewer(self):
        for selfcheck in self.selfcheck_id:
            selfcheck._check_reviewable()

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        selfchecks = self.env["crm.funnel.selfcheck"].browse(
            [vals.get("selfcheck_id") for vals in vals_list]
        )
        for selfcheck in selfchecks:
            selfcheck._check_reviewable()
        actions = super().create(vals_list)
        # The reviewer may not reach the salesperson's deal: the review is what
        # entitles them to give its owner an activity.
        activities = (
            self.env["mail.activity"]
            .sudo()
            .create([action._prepare_activity_vals() for action in actions])
        )
        for action, activity in zip(actions, activities, strict=True):
            action._write_record({"activity_id": activity.id})
        return actions

    def write(self, vals):
        if self.env.context.get(_RECORDER_KEY) is _RECORDER:
            return super().write(vals)
        if set(vals) - set(ACTION_ACTIVITY_FIELDS) - {"lead_id"}:
            raise UserError(
                self.env._("The activity of an agreed action is planned for it.")
            )
        self._check_reviewer()
        result = super().write(vals)
        if "lead_id" in vals:
            self._replan()
        else:
            activity_vals = {
                ACTION_ACTIVITY_FIELDS[fname]: value
                for fname, value in vals.items()
                if fname in ACTION_ACTIVITY_FIELDS
            }
            if activity_vals:
                self.activity_id.sudo().write(activity_vals)
        return result

    def unlink(self):
        self._check_reviewer()
        activities = self.activity_id
        result = super().unlink()
        activities.sudo().unlink()
        return result

    # ------------------------------------------------------------------
    # Activity
    # ------------------------------------------------------------------

    def _prepare_activity_vals(self):
        """The activity of the action: on the deal, else on the self-check."""
        self.ensure_one()
        record = self.lead_id or self.selfcheck_id
        return {
            "res_model_id": self.env["ir.model"]._get_id(record._name),
            "res_id": record.id,
            "activity_type_id": self.env.ref("mail.mail_activity_data_todo").id,
            "summary": self.name,
            "user_id": self.user_id.id,
            "date_deadline": self.date_deadline,
            "note": Markup(
                self.env._(
                    "Agreed with %(reviewer)s at the one-to-one review of "
                    "%(selfcheck)s",
                    reviewer=self.env.user.name,
                    selfcheck=self.selfcheck_id._get_html_link(),
                )
            ),
        }

    def _replan(self):
        for action in self:
            old = action.activity_id
            activity = (
                self.env["mail.activity"].sudo().create(action._prepare_activity_vals())
            )
            action._write_record({"activity_id": activity.id})
            old.sudo().unlink()
