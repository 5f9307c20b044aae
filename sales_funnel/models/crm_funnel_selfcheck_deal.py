from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from .crm_immutable_mixin import _RECORDER, _RECORDER_KEY

# What the salesperson writes on a flagged deal while the self-check is a draft.
DEAL_CHECK_FIELDS = ("note", "next_step", "next_step_date")


class CrmFunnelSelfcheckDeal(models.Model):
    """A deal the weekly self-check asks the salesperson to look at, and why
    (stuck, exit criteria of its stage not ticked, Basic Facts Card incomplete,
    next step overdue). The salesperson checks it with a note or a next step
    (an activity on the deal); at the one-to-one review the manager comments it.
    """

    _name = "crm.funnel.selfcheck.deal"
    _inherit = ["crm.immutable.mixin"]
    _description = "Weekly Self-Check: Deal to Check"
    _order = "selfcheck_id, amount desc, id"
    _immutable_writable_fields = ("manager_comment",)

    selfcheck_id = fields.Many2one(
        "crm.funnel.selfcheck",
        string="Self-Check",
        required=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(related="selfcheck_id.company_id", store=True)
    currency_id = fields.Many2one(related="selfcheck_id.currency_id")
    user_id = fields.Many2one(related="selfcheck_id.user_id", string="Salesperson")
    state = fields.Selection(related="selfcheck_id.state")
    lead_id = fields.Many2one(
        "crm.lead", string="Opportunity", readonly=True, ondelete="set null"
    )
    lead_name = fields.Char(string="Opportunity Name", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    stage_id = fields.Many2one("crm.stage", readonly=True)
    amount = fields.Monetary(readonly=True, aggregator="sum")
    days_in_stage = fields.Float(digits=(16, 1), readonly=True)
    is_stuck = fields.Boolean(string="Stuck", readonly=True)
    criteria_missing_count = fields.Integer(
        string="Required Criteria Missing", readonly=True
    )
    fact_card_incomplete = fields.Boolean(
        string="Basic Facts Card Incomplete", readonly=True
    )
    activity_overdue = fields.Boolean(string="Next Step Overdue", readonly=True)
    reason = fields.Char(string="Why", compute="_compute_reason")
    note = fields.Text(
        string="Your Check", help="What you found and will do about this deal."
    )
    next_step = fields.Char(
        help="Plan the next step: it becomes an activity on the opportunity."
    )
    next_step_date = fields.Date(string="Next Step On")
    activity_id = fields.Many2one(
        "mail.activity",
        string="Planned Activity",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
    )
    checked = fields.Boolean(compute="_compute_checked", store=True)
    manager_comment = fields.Text(
        string="Manager's Comment", help="The manager's comment at the review."
    )

    @api.depends(
        "is_stuck",
        "criteria_missing_count",
        "fact_card_incomplete",
        "activity_overdue",
        "days_in_stage",
    )
    @api.depends_context("lang")
    def _compute_reason(self):
        for line in self:
            reasons = []
            if line.is_stuck:
                reasons.append(
                    self.env._("Stuck for %(days)s days", days=int(line.days_in_stage))
                )
            if line.criteria_missing_count:
                reasons.append(
                    self.env._(
                        "%(count)s required criteria not ticked",
                        count=line.criteria_missing_count,
                    )
                )
            if line.fact_card_incomplete:
                reasons.append(self.env._("Basic Facts Card incomplete"))
            if line.activity_overdue:
                reasons.append(self.env._("Next step overdue"))
            line.reason = "; ".join(reasons)

    @api.depends("note", "next_step", "activity_id")
    def _compute_checked(self):
        for line in self:
            line.checked = bool((line.note or "").strip() or line.activity_id)

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    def _is_mutable(self):
        # The salesperson checks the deal while the self-check is a draft.
        self.ensure_one()
        return self.selfcheck_id.state == "draft"

    def _check_deal_write(self, vals):
        if self.env.context.get(_RECORDER_KEY) is _RECORDER:
            return
        system = set(vals) - set(DEAL_CHECK_FIELDS) - {"manager_comment"}
        if system:
            raise UserError(
                self.env._(
                    "%(fields)s of a deal to check are filled in by the weekly "
                    "job, not by hand.",
                    fields=", ".join(
                        self._fields[fname]._description_string(self.env)
                        for fname in sorted(system)
                        if fname in self._fields
                    ),
                )
            )
        for selfcheck in self.selfcheck_id:
            if set(DEAL_CHECK_FIELDS) & vals.keys():
                selfcheck._check_own_draft()
            if "manager_comment" in vals:
                selfcheck._check_reviewable()

    @api.model_create_multi
    def create(self, vals_list):
        if self.env.context.get(_RECORDER_KEY) is not _RECORDER:
            raise UserError(
                self.env._(
                    "The deals to check are listed by the weekly job, not added "
                    "by hand."
                )
            )
        return super().create(vals_list)

    def write(self, vals):
        self._check_deal_write(vals)
        result = super().write(vals)
        if {"next_step", "next_step_date"} & vals.keys():
            self._plan_next_step()
        return result

    # ------------------------------------------------------------------
    # Next step
    # ------------------------------------------------------------------

    def _prepare_activity_vals(self):
        """The values of the activity that plans the next step on the deal."""
        self.ensure_one()
        return {
            "res_model_id": self.env["ir.model"]._get_id("crm.lead"),
            "res_id": self.lead_id.id,
            "activity_type_id": self.env.ref("mail.mail_activity_data_todo").id,
            "summary": self.next_step,
            "user_id": self.selfcheck_id.user_id.id,
            "date_deadline": self.next_step_date,
            "note": Markup(
                self.env._(
                    "Next step planned in the weekly self-check %(selfcheck)s",
                    selfcheck=self.selfcheck_id._get_html_link(),
                )
            ),
        }

    def _plan_next_step(self):
        """A next step with its date is an activity on the deal; changing it
        moves the activity, clearing it cancels it."""
        for line in self.filtered("lead_id"):
            activity = line.activity_id
            if line.next_step and line.next_step_date:
                if activity:
                    activity.write(
                        {
                            "summary": line.next_step,
                            "date_deadline": line.next_step_date,
                        }
                    )
                else:
                    activity = self.env["mail.activity"].create(
                        line._prepare_activity_vals()
                    )
                    # The planned activity is the system's link, not an input.
                    line._write_record({"activity_id": activity.id})
            elif activity:
                line._write_record({"activity_id": False})
                activity.unlink()

    def action_open_lead(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "res_id": self.lead_id.id,
            "view_mode": "form",
            "views": [[False, "form"]],
        }
