from odoo import api, fields, models
from odoo.exceptions import ValidationError


class CrmLeadTrialReport(models.Model):
    """The trial report (试灯报告) of a deal: what was trialled at the
    customer's, the results, and the customer's signed acceptance. Once the
    customer accepted it, it stays as accepted (crm.immutable.mixin)."""

    _name = "crm.lead.trial.report"
    _description = "Trial Report"
    _inherit = ["mail.thread", "crm.immutable.mixin", "crm.lead.document.mixin"]
    _order = "date desc, id desc"
    # Posting on the chatter of an accepted report may set its main attachment.
    _immutable_writable_fields = ("message_main_attachment_id",)

    date = fields.Date(
        string="Trial Date",
        required=True,
        default=fields.Date.context_today,
        tracking=True,
    )
    name = fields.Char(
        string="What Was Trialled",
        required=True,
        tracking=True,
        help="The products and the place of the trial, e.g. 20 LED high-bay "
        "lamps in warehouse 3.",
    )
    results = fields.Html(help="What the trial showed, measured where possible.")
    accepted_by_id = fields.Many2one(
        "res.partner",
        tracking=True,
        help="The customer's contact who signed the report.",
    )
    acceptance_date = fields.Date(tracking=True)
    signed_report = fields.Binary(attachment=True)
    signed_report_name = fields.Char()
    accepted = fields.Boolean(readonly=True, copy=False, tracking=True)

    def _is_mutable(self):
        self.ensure_one()
        return not self.accepted

    @api.constrains("accepted", "accepted_by_id", "acceptance_date", "signed_report")
    def _check_accepted(self):
        for report in self.filtered("accepted"):
            missing = []
            if not report.accepted_by_id:
                missing.append(self.env._("who accepted it"))
            if not report.acceptance_date:
                missing.append(self.env._("the acceptance date"))
            if not report.signed_report:
                missing.append(self.env._("the signed report"))
            if missing:
                raise ValidationError(
                    self.env._(
                        "Trial report “%(report)s” cannot be accepted without "
                        "%(missing)s.",
                        report=report.name,
                        missing=", ".join(missing),
                    )
                )
            customer = report.partner_id.commercial_partner_id
            if customer and report.accepted_by_id.commercial_partner_id != customer:
                raise ValidationError(
                    self.env._(
                        "%(contact)s is not a contact of %(customer)s: the customer "
                        "accepts a trial report.",
                        contact=report.accepted_by_id.display_name,
                        customer=customer.display_name,
                    )
                )

    def action_accept(self):
        """Record the customer's acceptance: the report is kept as accepted."""
        return self.write({"accepted": True})

    @api.model_create_multi
    def create(self, vals_list):
        reports = super().create(vals_list)
        reports.lead_id._sync_evidence_ticks()
        return reports

    def write(self, vals):
        res = super().write(vals)
        if "accepted" in vals or "lead_id" in vals:
            self.lead_id._sync_evidence_ticks()
        return res

    def unlink(self):
        leads = self.lead_id
        res = super().unlink()
        leads.exists()._sync_evidence_ticks()
        return res
