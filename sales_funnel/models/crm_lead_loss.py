"""The loss report of crm.lead: no opportunity is lost without a complete one.

Two steps of the data path of a stage change (``CrmLead.write`` and
``CrmLead.create`` in crm_lead.py):

- before the write, ``_check_loss_reports`` refuses to lose an opportunity
  (archived, whatever the channel: the Lost wizard, ``action_set_lost``,
  Archive in the list, an import, an API write) without a complete loss report,
  and refuses the edits that would silently reopen a lost one (a stage change,
  a probability). Nothing is written when it refuses;
- after the write, ``_record_loss_reports`` stamps the report of each deal just
  lost (stage lost at, date, amount, re-contact activity) and closes the report
  of each deal just restored (Restore is recorded in the stage history).

Leads (``type = 'lead'``) archived as junk never entered the funnel: they need
no report. The report can exist before the loss (the Lost wizard writes it, an
API client creates ``crm.lead.loss.report`` first) or come with the write that
loses the deal, as ``loss_report_ids`` commands (import columns "Loss Reports/…").
"""

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

# The values that can turn an opportunity lost, or reopen a lost one.
LOSS_KEYS = frozenset({"active", "type", "stage_id", "probability", "lost_reason_id"})


class CrmLead(models.Model):
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    loss_report_ids = fields.One2many(
        "crm.lead.loss.report",
        "lead_id",
        string="Loss Reports",
        help="The loss reports of the opportunity: the current one, and those of "
        "earlier losses it was restored from.",
    )
    loss_report_id = fields.Many2one(
        "crm.lead.loss.report",
        compute="_compute_loss_report_id",
        help="The loss report of the current (or coming) loss.",
    )

    @api.depends("loss_report_ids.date_restored")
    def _compute_loss_report_id(self):
        reports = self.env["crm.lead.loss.report"].search(
            [("lead_id", "in", self.ids), ("date_restored", "=", False)]
        )
        by_lead = {report.lead_id.id: report for report in reports}
        for lead in self:
            lead.loss_report_id = by_lead.get(lead.id)

    # ------------------------------------------------------------------
    # Steps of the data path
    # ------------------------------------------------------------------

    @staticmethod
    def _is_lost_opportunity(active, lead_type):
        return not active and lead_type == "opportunity"

    def _check_loss_reports(self, vals):
        """Step before the write: refuse a loss without a complete loss report,
        and the edits that would reopen a lost opportunity without restoring it.

        :return: the opportunities whose lost state the write changes (lost or
            restored), for ``_record_loss_reports`` after the write
        """
        if not (LOSS_KEYS & vals.keys()) or not self:
            return self.browse()
        was_lost = self.filtered(
            lambda lead: self._is_lost_opportunity(lead.active, lead.type)
        )
        losing = (self - was_lost).filtered(
            lambda lead: self._is_lost_opportunity(
                vals.get("active", lead.active), vals.get("type", lead.type)
            )
        )
        restoring = was_lost.filtered(
            lambda lead: (
                vals.get("active", lead.active)
                or vals.get("type", lead.type) != "opportunity"
            )
        )
        still_lost = was_lost - restoring
        if still_lost:
            still_lost._check_lost_stays_lost(vals)
        if losing:
            losing._check_complete_loss_reports(
                vals.get("loss_report_ids"), vals.get("lost_reason_id")
            )
        if "lost_reason_id" in vals and (still_lost | losing):
            # The opportunity's Lost Reason is its report's category.
            (still_lost | losing)._sync_loss_report_reason(vals["lost_reason_id"])
        return losing | restoring

    def _check_lost_stays_lost(self, vals):
        """A lost opportunity is only reopened by restoring it."""
        reopened = self.filtered(
            lambda lead: (
                ("stage_id" in vals and vals["stage_id"] != lead.stage_id.id)
                or vals.get("probability")
            )
        )
        if reopened:
            raise UserError(
                self.env._(
                    "“%(opportunity)s” is lost: it stays lost, with its stage and "
                    "loss report. Restore it first to move it or change its "
                    "probability.",
                    opportunity=reopened[0].name,
                )
            )

    def _check_complete_loss_reports(self, commands=None, lost_reason_id=None):
        """Refuse to lose opportunities without a complete loss report: their
        current report, as ``commands`` (``loss_report_ids`` values of the same
        write, e.g. an import) and the Lost Reason of the write would leave it."""
        Report = self.env["crm.lead.loss.report"].sudo()
        current = {
            report.lead_id.id: report
            for report in Report.search(
                [("lead_id", "in", self.ids), ("date_restored", "=", False)]
            )
        }
        required = [
            Report._fields[fname]._description_string(self.env)
            for fname in ("lost_reason_id", "customer_reason", "analysis", "prevention")
        ]
        refusals = []
        for lead in self:
            report = current.get(lead.id, Report)
            created, overlay = False, {}
            for command in commands or ():
                if command[0] == Command.CREATE:
                    created, overlay = True, dict(command[2])
                elif (
                    command[0] == Command.UPDATE and report and command[1] == report.id
                ):
                    overlay.update(command[2])
            if lost_reason_id:
                overlay["lost_reason_id"] = lost_reason_id
            candidate = report
            if created:
                candidate = Report.new(overlay)
            elif report and overlay:
                candidate = Report.new(overlay, origin=report)
            missing = candidate._missing_field_labels() if candidate else required
            if missing:
                refusals.append(
                    self.env._(
                        "“%(opportunity)s”: %(missing)s",
                        opportunity=lead.name,
                        missing=", ".join(missing),
                    )
                )
        if refusals:
            shown = refusals[:10]
            if len(refusals) > 10:
                shown.append(self.env._("and %(count)s more", count=len(refusals) - 10))
            raise UserError(
                "\n\n".join(
                    [
                        self.env._(
                            "An opportunity is only lost with a complete loss report "
                            "(丢失客户报告表). Missing:"
                        ),
                        "\n".join(shown),
                        self.env._(
                            "Use Lost on the opportunity and fill in the report: the "
                            "loss reason, the reason the customer gave, our analysis "
                            "and how to avoid it in future (and the competitor who "
                            "won, when the loss reason asks for it)."
                        ),
                    ]
                )
            )

    def _sync_loss_report_reason(self, lost_reason_id):
        reports = self.env["crm.lead.loss.report"].search(
            [
                ("lead_id", "in", self.ids),
                ("date_restored", "=", False),
                ("lost_reason_id", "!=", lost_reason_id),
            ]
        )
        if reports:
            reports.write({"lost_reason_id": lost_reason_id})

    def _record_loss_reports(self):
        """Step after the write (or creation): stamp the reports of the
        opportunities just lost, close those of the opportunities restored."""
        if not self:
            return
        reports = (
            self.env["crm.lead.loss.report"]
            .sudo()
            .search([("lead_id", "in", self.ids), ("date_restored", "=", False)])
        )
        lost = reports.filtered(
            lambda report: self._is_lost_opportunity(
                report.lead_id.active, report.lead_id.type
            )
        )
        lost.filtered(lambda report: not report.date_lost)._stamp_loss()
        restored = (reports - lost).filtered("date_lost")
        if restored:
            restored._stamp_restore()

    @api.model
    def _check_loss_reports_on_create(self, vals_list):
        """Step before a creation: an opportunity created lost (an import of
        old deals) comes with its complete report in ``loss_report_ids``."""
        created_lost = [
            vals for vals in vals_list if "active" in vals and not vals["active"]
        ]
        if not created_lost:
            return
        default_type = self.default_get(["type"]).get("type")
        for vals in created_lost:
            if vals.get("type", default_type) == "opportunity":
                self._check_complete_lost_creation(vals)

    def _check_complete_lost_creation(self, vals):
        Report = self.env["crm.lead.loss.report"].sudo()
        creates = [
            command[2]
            for command in vals.get("loss_report_ids") or ()
            if command[0] == Command.CREATE
        ]
        missing = (
            Report.new(creates[-1])._missing_field_labels()
            if creates
            else [
                Report._fields[fname]._description_string(self.env)
                for fname in (
                    "lost_reason_id",
                    "customer_reason",
                    "analysis",
                    "prevention",
                )
            ]
        )
        if missing:
            raise UserError(
                self.env._(
                    "“%(opportunity)s” cannot be created lost without a complete "
                    "loss report (丢失客户报告表). Missing: %(missing)s. Give the "
                    "report in the “Loss Reports” columns of the import (or values "
                    "of the API call).",
                    opportunity=vals.get("name") or self.env._("New opportunity"),
                    missing=", ".join(missing),
                )
            )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_open_loss_report(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Loss Report"),
            "res_model": "crm.lead.loss.report",
            "res_id": self.loss_report_id.id,
            "view_mode": "form",
            "views": [[False, "form"]],
            "context": {"default_lead_id": self.id},
        }

    def action_open_loss_reports(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_funnel.crm_lead_loss_report_action"
        )
        action.update(
            domain=[("lead_id", "=", self.id)],
            context={"default_lead_id": self.id},
        )
        return action
