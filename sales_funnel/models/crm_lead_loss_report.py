from markupsafe import Markup
from psycopg2 import errors

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from odoo.addons.base.models.ir_model import MODULE_UNINSTALL_FLAG

from .crm_immutable_mixin import _RECORDER, _RECORDER_KEY

# One open (not restored) loss report per opportunity.
OPEN_REPORT_INDEX = "crm_lead_loss_report_open_uniq"

# Filled in by the system when the deal is lost or restored, never by hand.
LOSS_STAMP_FIELDS = ("stage_id", "date_lost", "expected_revenue", "date_restored")
REVIEW_FIELDS = ("reviewed_by_id", "reviewed_date")
# What a salesperson writes, the loss wizard asks and a copy carries.
LOSS_REPORT_INPUT_FIELDS = (
    "lost_reason_id",
    "customer_reason",
    "analysis",
    "prevention",
    "competitor_id",
    "competitor_price",
    "recontact_date",
)


class CrmLeadLossReport(models.Model):
    """The lost-customer report (丢失客户报告表) of a lost opportunity.

    Every way of losing an opportunity asks for a complete one (see
    ``crm_lead_loss.py``): the loss reason, the reason the customer gave, our
    own analysis and how to avoid it in future (and the competitor who won when
    the reason says so). The stage the deal was lost at, the date and the amount
    are stamped when it is lost. A sales manager reviews it; reviewed, it is kept
    as it was, the manager's comment aside. Restoring the opportunity closes its
    report (``date_restored``): losing it again asks for a new one.
    """

    _name = "crm.lead.loss.report"
    _inherit = [
        "mail.thread",
        "mail.activity.mixin",
        "crm.immutable.mixin",
        "crm.lead.document.mixin",
    ]
    _description = "Loss Report"
    _order = "date_lost desc, id desc"
    _check_company_auto = True
    _immutable_writable_fields = ("manager_comment", "message_main_attachment_id")

    lead_id = fields.Many2one(
        check_company=True,
        domain="[('type', '=', 'opportunity')]",
        context={"active_test": False},
    )
    partner_id = fields.Many2one(index=True)
    # Precomputed: the company is known before the record is inserted.
    company_id = fields.Many2one(
        related="lead_id.company_id", store=True, index=True, precompute=True
    )
    user_id = fields.Many2one(index=True)
    team_id = fields.Many2one(related="lead_id.team_id", store=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    lost_reason_id = fields.Many2one(
        "crm.lost.reason",
        string="Loss Reason",
        index=True,
        ondelete="restrict",
        tracking=True,
        help="The category of the loss (丢单原因), the opportunity's Lost Reason.",
    )
    customer_reason = fields.Text(
        string="Customer's Reason",
        tracking=True,
        help="The reason and explanation the customer gave (客户给出的原因和理由).",
    )
    analysis = fields.Text(
        string="Our Analysis",
        tracking=True,
        help="Why we lost the customer, in our own analysis (丢失客户原因).",
    )
    prevention = fields.Text(
        string="How to Avoid It",
        tracking=True,
        help="How to avoid similar losses in future (今后如何避免类似问题).",
    )
    competitor_required = fields.Boolean(
        related="lost_reason_id.sales_funnel_competitor_required"
    )
    competitor_id = fields.Many2one(
        "res.partner",
        string="Winning Competitor",
        index=True,
        ondelete="restrict",
        tracking=True,
        domain="[('sales_funnel_is_competitor', '=', True)]",
        context={
            "default_sales_funnel_is_competitor": True,
            "default_is_company": True,
        },
        help="Who won the deal: a partner marked as competitor.",
    )
    competitor_price = fields.Monetary(
        string="Competitor's Price",
        currency_field="currency_id",
        tracking=True,
        aggregator="sum",
        help="The price the competitor won with, when known.",
    )
    recontact_date = fields.Date(
        string="Re-contact On",
        tracking=True,
        help="When to contact the customer again: an activity for the salesperson "
        "on that day.",
    )
    stage_id = fields.Many2one(
        "crm.stage",
        string="Lost at Stage",
        readonly=True,
        index=True,
        ondelete="restrict",
        help="The stage the opportunity was in when it was lost.",
    )
    date_lost = fields.Datetime(string="Lost On", readonly=True, index=True)
    expected_revenue = fields.Monetary(
        string="Amount Lost",
        currency_field="currency_id",
        readonly=True,
        aggregator="sum",
        help="Expected revenue of the opportunity when it was lost.",
    )
    date_restored = fields.Datetime(
        string="Restored On",
        readonly=True,
        help="The opportunity was restored: this loss no longer holds.",
    )
    reviewed_by_id = fields.Many2one("res.users", readonly=True, tracking=True)
    reviewed_date = fields.Datetime(string="Reviewed On", readonly=True)
    manager_comment = fields.Text(tracking=True)
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("to_review", "To Review"),
            ("reviewed", "Reviewed"),
            ("restored", "Restored"),
        ],
        compute="_compute_state",
        store=True,
        index=True,
        help="Draft: the opportunity is not lost yet. To review: lost, waiting for "
        "a sales manager. Restored: the opportunity was restored.",
    )
    missing_fields = fields.Char(string="Missing", compute="_compute_missing_fields")

    _sql_constraints = [
        (
            "competitor_price_positive",
            "CHECK (competitor_price IS NULL OR competitor_price >= 0)",
            "The competitor's price cannot be negative.",
        ),
    ]

    def init(self):
        res = super().init()
        # One open (not restored) report per opportunity, whatever the channel.
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS %s ON crm_lead_loss_report"
                " (lead_id) WHERE date_restored IS NULL",
                SQL.identifier(OPEN_REPORT_INDEX),
            )
        )
        return res

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends("lead_id.name")
    def _compute_display_name(self):
        for report in self:
            report.display_name = self.env._(
                "Loss of %(opportunity)s", opportunity=report.lead_id.name or ""
            )

    @api.depends("date_lost", "date_restored", "reviewed_date")
    def _compute_state(self):
        for report in self:
            if report.date_restored:
                report.state = "restored"
            elif report.reviewed_date:
                report.state = "reviewed"
            elif report.date_lost:
                report.state = "to_review"
            else:
                report.state = "draft"

    @api.depends(
        "lost_reason_id", "customer_reason", "analysis", "prevention", "competitor_id"
    )
    def _compute_missing_fields(self):
        for report in self:
            report.missing_fields = ", ".join(report._missing_field_labels())

    def _missing_field_labels(self):
        """Labels (in the user's language) of what a complete report lacks."""
        self.ensure_one()
        missing = [
            fname
            for fname in ("lost_reason_id", "customer_reason", "analysis", "prevention")
            if not (
                self[fname]
                and (not isinstance(self[fname], str) or self[fname].strip())
            )
        ]
        if (
            self.lost_reason_id.sales_funnel_competitor_required
            and not self.competitor_id
        ):
            missing.append("competitor_id")
        return [self._fields[fname]._description_string(self.env) for fname in missing]

    # ------------------------------------------------------------------
    # Constraints
    # ------------------------------------------------------------------

    @api.constrains(
        "lost_reason_id",
        "customer_reason",
        "analysis",
        "prevention",
        "competitor_id",
        "date_lost",
    )
    def _check_complete_when_lost(self):
        """The report of a lost opportunity stays complete."""
        for report in self:
            if not report.date_lost or report.date_restored:
                continue
            missing = report._missing_field_labels()
            if missing:
                raise ValidationError(
                    self.env._(
                        "The loss report of “%(opportunity)s” must stay complete "
                        "while the opportunity is lost. Missing: %(missing)s.",
                        opportunity=report.lead_id.name,
                        missing=", ".join(missing),
                    )
                )

    @api.constrains("lead_id")
    def _check_lead_is_opportunity(self):
        for report in self:
            if report.lead_id.type != "opportunity":
                raise ValidationError(
                    self.env._(
                        "“%(lead)s” is a lead: only opportunities have loss reports.",
                        lead=report.lead_id.name,
                    )
                )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    def _is_mutable(self):
        # Reviewed by a manager: kept as reviewed (the comment aside).
        self.ensure_one()
        return not self.reviewed_date

    def _check_loss_report_write(self, vals):
        """Who may write what: the stamps and the review are the system's, the
        comment is the manager's, a reviewed report is kept as reviewed."""
        if self.env.context.get(_RECORDER_KEY) is _RECORDER:
            return
        stamps = (set(LOSS_STAMP_FIELDS) | set(REVIEW_FIELDS)) & vals.keys()
        if stamps:
            raise UserError(
                self.env._(
                    "%(fields)s of a loss report are filled in when the opportunity "
                    "is lost, restored or reviewed, not by hand.",
                    fields=", ".join(
                        self._fields[fname]._description_string(self.env)
                        for fname in sorted(stamps)
                    ),
                )
            )
        if "manager_comment" in vals and not self.env.user.has_group(
            "sales_team.group_sale_manager"
        ):
            raise UserError(self.env._("Only sales managers comment on loss reports."))
        if set(vals) - set(self._immutable_writable_fields):
            reviewed = self.filtered(lambda report: not report._is_mutable())
            if reviewed:
                raise UserError(
                    self.env._(
                        "The loss report of “%(opportunity)s” was reviewed by "
                        "%(manager)s: it is kept as reviewed, only the manager's "
                        "comment can change.",
                        opportunity=reviewed[0].lead_id.name,
                        manager=reviewed[0].reviewed_by_id.name,
                    )
                )
        if "lead_id" in vals and any(
            report.lead_id.id != vals["lead_id"] for report in self
        ):
            raise UserError(self.env._("A loss report stays with its opportunity."))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_loss_report_write(vals)
        self._check_no_open_report(
            [vals["lead_id"] for vals in vals_list if vals.get("lead_id")]
        )
        try:
            with self.env.cr.savepoint(flush=False):
                reports = super().create(vals_list)
        except errors.UniqueViolation as error:
            if error.diag.constraint_name != OPEN_REPORT_INDEX:
                raise
            # Another request wrote this opportunity's report since this one
            # began: a concurrency failure, so that Odoo runs the request
            # again, and then the check above explains.
            self.env.cr.execute(
                SQL(
                    "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE ="
                    " 'serialization_failure', MESSAGE = %s; END $$",
                    "loss report written concurrently",
                ),
                log_exceptions=False,
            )
            raise  # not reached: the statement above raises
        # A report written for a deal already lost (restored then lost again is
        # not possible without one): stamp it like at the loss.
        lost = reports.filtered(
            lambda report: not report.lead_id.active and not report.date_lost
        )
        if lost:
            lost._stamp_loss()
        return reports

    def _check_no_open_report(self, lead_ids):
        """One open loss report per opportunity: a second one is refused with
        the opportunity's name (the database's unique index is the guard)."""
        if not lead_ids:
            return
        open_reports = self.sudo().search(
            [("lead_id", "in", lead_ids), ("date_restored", "=", False)], limit=1
        )
        twice = next((i for i in lead_ids if lead_ids.count(i) > 1), None)
        lead = open_reports.lead_id or self.env["crm.lead"].sudo().browse(twice)
        if lead:
            raise UserError(
                self.env._(
                    "“%(opportunity)s” already has a loss report: complete that "
                    "one instead of writing another.",
                    opportunity=lead.name,
                )
            )

    def write(self, vals):
        self._check_loss_report_write(vals)
        res = super().write(vals)
        if self.env.context.get(_RECORDER_KEY) is not _RECORDER:
            lost = self.filtered(
                lambda report: report.date_lost and not report.date_restored
            )
            if "lost_reason_id" in vals:
                # The opportunity's Lost Reason is the report's category.
                lost.lead_id.filtered(
                    lambda lead: lead.lost_reason_id.id != vals["lost_reason_id"]
                ).write({"lost_reason_id": vals["lost_reason_id"]})
            if "recontact_date" in vals:
                lost._schedule_recontact()
        return res

    def unlink(self):
        lost = self.filtered(
            lambda report: report.date_lost and not report.date_restored
        )
        if lost and not self.env.context.get(MODULE_UNINSTALL_FLAG):
            raise UserError(
                self.env._(
                    "“%(opportunity)s” is lost: its loss report cannot be deleted. "
                    "Restore the opportunity first.",
                    opportunity=lost[0].lead_id.name,
                )
            )
        return super().unlink()

    # ------------------------------------------------------------------
    # Loss, restore, review
    # ------------------------------------------------------------------

    def _stamp_loss(self):
        """The opportunity was just lost: stage, date, amount, Lost Reason and
        the re-contact activity."""
        now = self.env.cr.now()
        for report in self:
            lead = report.lead_id
            report._write_record(
                {
                    "stage_id": lead.stage_id.id,
                    "date_lost": lead.date_closed or now,
                    "expected_revenue": lead.expected_revenue,
                }
            )
        for report in self:
            if report.lead_id.lost_reason_id != report.lost_reason_id:
                report.lead_id.write({"lost_reason_id": report.lost_reason_id.id})
        self._check_complete_when_lost()
        self._schedule_recontact()

    def _stamp_restore(self):
        """The opportunity was restored: this loss no longer holds."""
        self._write_record({"date_restored": self.env.cr.now()})
        self.activity_unlink(["sales_funnel.mail_activity_type_recontact"])
        for report in self:
            report.message_post(
                body=self.env._("The opportunity was restored: this loss is closed."),
                subtype_xmlid="mail.mt_note",
            )

    def _schedule_recontact(self):
        """One re-contact activity on the day of ``recontact_date``, for the
        salesperson of the opportunity."""
        xmlid = "sales_funnel.mail_activity_type_recontact"
        for report in self:
            report.activity_unlink([xmlid])
            if not report.recontact_date:
                continue
            report.activity_schedule(
                xmlid,
                date_deadline=report.recontact_date,
                summary=self.env._(
                    "Re-contact %(customer)s",
                    customer=report.partner_id.name or report.lead_id.name,
                ),
                user_id=(report.user_id or self.env.user).id,
            )

    def action_review(self):
        """A sales manager has read the report: it is kept as reviewed."""
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise UserError(self.env._("Only sales managers review loss reports."))
        not_lost = self.filtered(lambda report: report.state != "to_review")
        if not_lost:
            raise UserError(
                self.env._(
                    "The loss report of “%(opportunity)s” is not waiting for a "
                    "review: only the reports of lost opportunities are reviewed, "
                    "once.",
                    opportunity=not_lost[0].lead_id.name,
                )
            )
        self._write_record(
            {"reviewed_by_id": self.env.uid, "reviewed_date": self.env.cr.now()}
        )
        for report in self:
            report.message_post(
                body=Markup("<p>%s</p>")
                % self.env._(
                    "Loss report reviewed by %(manager)s.", manager=self.env.user.name
                ),
                subtype_xmlid="mail.mt_note",
            )
        return True

    def action_open_lead(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "res_id": self.lead_id.id,
            "view_mode": "form",
            "views": [[False, "form"]],
            "context": {"active_test": False},
        }
