from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

INTERVIEW_STATES = [
    ("draft", "Draft"),
    ("done", "Submitted"),
]


class CrmLeadInterview(models.Model):
    """Customer interview report (客户访谈报告表): one visit to an opportunity's
    customer, with who took part, what came out of it, the next steps (each an
    activity on the opportunity) and what is still unresolved on either side.

    A draft is the salesperson's to edit; a submitted report is kept as it was
    submitted (it is evidence for the opportunity's exit criteria) until a
    sales manager reopens it (crm.immutable.mixin, with its lines).
    """

    _name = "crm.lead.interview"
    _description = "Customer Interview Report"
    _inherit = ["mail.thread", "crm.immutable.mixin", "crm.lead.document.mixin"]
    _order = "date desc, id desc"
    _rec_name = "objective"
    _check_company_auto = True
    # What a submitted report still accepts: the chatter's own bookkeeping.
    _immutable_writable_fields = ("message_main_attachment_id",)

    lead_id = fields.Many2one(
        check_company=True,
        tracking=True,
        domain="[('type', '=', 'opportunity')]",
    )
    # Precomputed: the company is known before the record is inserted.
    company_id = fields.Many2one(
        related="lead_id.company_id", store=True, index=True, precompute=True
    )
    # Its own customer and salesperson: the customer's company (not the
    # contact of the deal) and whoever writes the report, both editable.
    partner_id = fields.Many2one(
        "res.partner",
        related=None,
        required=True,
        index=True,
        check_company=True,
        compute="_compute_partner_id",
        store=True,
        readonly=False,
        precompute=True,
        tracking=True,
        help="The customer's company (客户单位), taken from the opportunity.",
    )
    user_id = fields.Many2one(
        "res.users",
        related=None,
        index=True,
        check_company=True,
        compute="_compute_user_id",
        store=True,
        readonly=False,
        precompute=True,
        tracking=True,
        domain="[('share', '=', False)]",
    )
    team_id = fields.Many2one(related="lead_id.team_id", string="Sales Team")
    objective = fields.Char(
        required=True,
        tracking=True,
        help="What the visit is meant to achieve (客户访谈目标).",
    )
    date = fields.Date(
        required=True,
        index=True,
        tracking=True,
        default=fields.Date.context_today,
    )
    participant_ids = fields.One2many(
        "crm.lead.interview.participant",
        "interview_id",
        string="Customer Participants",
        copy=True,
    )
    user_ids = fields.Many2many(
        "res.users",
        "crm_lead_interview_res_users_rel",
        "interview_id",
        "user_id",
        string="Our Participants",
        default=lambda self: self.env.user,
        domain="[('share', '=', False)]",
    )
    result_ids = fields.One2many(
        "crm.lead.interview.result", "interview_id", string="Results", copy=True
    )
    step_ids = fields.One2many(
        "crm.lead.interview.step",
        "interview_id",
        string="Next Steps",
        help="Each next step is planned as an activity on the opportunity for "
        "its owner, on its date.",
    )
    customer_issue_ids = fields.One2many(
        "crm.lead.interview.issue",
        "interview_id",
        string="Unresolved Issues (Customer)",
        domain=[("side", "=", "customer")],
        context={"default_side": "customer"},
        copy=True,
    )
    company_issue_ids = fields.One2many(
        "crm.lead.interview.issue",
        "interview_id",
        string="Unresolved Issues (Our Company)",
        domain=[("side", "=", "company")],
        context={"default_side": "company"},
        copy=True,
    )
    state = fields.Selection(
        INTERVIEW_STATES,
        string="Status",
        required=True,
        readonly=True,
        default="draft",
        index=True,
        copy=False,
        tracking=True,
    )
    submit_date = fields.Datetime(string="Submitted On", readonly=True, copy=False)

    @api.depends("lead_id")
    def _compute_partner_id(self):
        for interview in self:
            interview.partner_id = interview.lead_id.partner_id.commercial_partner_id

    @api.depends("lead_id")
    def _compute_user_id(self):
        for interview in self:
            interview.user_id = interview.lead_id.user_id or self.env.user

    @api.constrains("lead_id")
    def _check_lead_id(self):
        for interview in self:
            if interview.lead_id.type != "opportunity":
                raise ValidationError(
                    self.env._(
                        "The interview report “%(report)s” must belong to an "
                        "opportunity, not to a lead.",
                        report=interview.display_name,
                    )
                )

    @api.constrains("partner_id")
    def _check_participants(self):
        self.participant_ids._check_partner_id()

    # ------------------------------------------------------------------
    # The rule of a submitted report (crm.immutable.mixin)
    # ------------------------------------------------------------------

    def _is_mutable(self):
        """A draft is its salesperson's to change; a submitted report is kept
        as it was until a sales manager reopens it."""
        self.ensure_one()
        return self.state == "draft"

    def _check_mutable(self, fnames=()):
        try:
            return super()._check_mutable(fnames)
        except UserError as error:
            locked = self.filtered(lambda interview: not interview._is_mutable())
            raise UserError(
                self.env._(
                    "The interview report “%(report)s” is submitted: it is kept "
                    "as it was. A sales manager can reopen it.",
                    report=locked[:1].display_name,
                )
            ) from error

    def write(self, vals):
        res = super().write(vals)
        if "state" in vals:
            # A submitted report is evidence of the opportunity's criteria.
            self.lead_id._sync_evidence_ticks()
        return res

    def unlink(self):
        self._check_mutable()
        # The next steps' activities go with the report (the database cascade
        # would leave them on the opportunity).
        self.step_ids.activity_id.unlink()
        return super().unlink()

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_submit(self):
        """Submit the report: it becomes evidence and is kept as it is."""
        for interview in self:
            if interview.state != "draft":
                raise UserError(
                    self.env._(
                        "The interview report “%(report)s” is already submitted.",
                        report=interview.display_name,
                    )
                )
            missing = interview._missing_for_submit()
            if missing:
                raise UserError(
                    self.env._(
                        "The interview report “%(report)s” cannot be submitted "
                        "yet; it lacks: %(missing)s.",
                        report=interview.display_name,
                        missing=", ".join(missing),
                    )
                )
        self.write({"state": "done", "submit_date": fields.Datetime.now()})
        for interview in self:
            interview.lead_id.message_post(
                body=Markup(
                    self.env._(
                        "Customer interview report submitted: %(report)s",
                        report=interview._get_html_link(),
                    )
                ),
                subtype_xmlid="mail.mt_note",
            )
        return True

    def _missing_for_submit(self):
        """The names of what a submitted report must contain and this one lacks."""
        self.ensure_one()
        missing = []
        if not self.participant_ids:
            missing.append(self.env._("a customer participant"))
        if not self.user_ids:
            missing.append(self.env._("one of our participants"))
        if not self.result_ids:
            missing.append(self.env._("a result"))
        return missing

    def action_reopen(self):
        """A sales manager puts a submitted report back to draft."""
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise UserError(
                self.env._(
                    "Only a sales manager can reopen a submitted interview report."
                )
            )
        self.check_access("write")
        self._write_record({"state": "draft", "submit_date": False})
        return True

    def action_open_lead(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "res_id": self.lead_id.id,
            "view_mode": "form",
        }
