from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.crm_lead_loss_report import LOSS_REPORT_INPUT_FIELDS


class CrmLeadLost(models.TransientModel):
    """Odoo's Lost wizard asks for the loss report (丢失客户报告表).

    With several opportunities (Lost from the list), each gets its own report
    with the same loss reason, customer's reason, analysis, prevention,
    competitor and re-contact date; the competitor's price is a figure of one
    deal, so it is only asked for one opportunity (fill it in on each report
    afterwards). Leads (not opportunities) need no report.
    """

    _inherit = "crm.lead.lost"

    customer_reason = fields.Text(
        string="Customer's Reason",
        help="The reason and explanation the customer gave (客户给出的原因和理由).",
    )
    analysis = fields.Text(
        string="Our Analysis",
        help="Why we lost the customer, in our own analysis (丢失客户原因).",
    )
    prevention = fields.Text(
        string="How to Avoid It",
        help="How to avoid similar losses in future (今后如何避免类似问题).",
    )
    competitor_id = fields.Many2one(
        "res.partner",
        string="Winning Competitor",
        domain="[('sales_funnel_is_competitor', '=', True)]",
        context={
            "default_sales_funnel_is_competitor": True,
            "default_is_company": True,
        },
    )
    competitor_price = fields.Monetary(
        string="Competitor's Price",
        currency_field="currency_id",
        help="The price the competitor won with, when known.",
    )
    currency_id = fields.Many2one(
        "res.currency", compute="_compute_loss_report_context"
    )
    recontact_date = fields.Date(
        string="Re-contact On",
        help="When to contact the customer again: an activity for the salesperson.",
    )
    competitor_required = fields.Boolean(
        related="lost_reason_id.sales_funnel_competitor_required"
    )
    needs_loss_report = fields.Boolean(compute="_compute_loss_report_context")
    several_opportunities = fields.Boolean(compute="_compute_loss_report_context")

    @api.depends("lead_ids")
    def _compute_loss_report_context(self):
        for wizard in self:
            opportunities = wizard._opportunities_to_lose()
            wizard.needs_loss_report = bool(opportunities)
            wizard.several_opportunities = len(opportunities) > 1
            wizard.currency_id = (
                opportunities[:1].company_currency or self.env.company.currency_id
            )

    @api.model
    def default_get(self, fields_list):
        """One opportunity whose report was started: the wizard shows it."""
        values = super().default_get(fields_list)
        leads = self.new({"lead_ids": values.get("lead_ids") or []}).lead_ids
        if len(leads) == 1:
            report = leads._origin.loss_report_id
            if report:
                for fname in LOSS_REPORT_INPUT_FIELDS:
                    if fname in fields_list and report[fname]:
                        value = report[fname]
                        values[fname] = value.id if fname.endswith("_id") else value
        return values

    def _opportunities_to_lose(self):
        return self.lead_ids.filtered(
            lambda lead: lead.type == "opportunity" and lead.active
        )

    def _prepare_loss_report_vals(self):
        """Values of the loss report of each opportunity lost by the wizard."""
        self.ensure_one()
        vals = {
            "lost_reason_id": self.lost_reason_id.id,
            "customer_reason": self.customer_reason,
            "analysis": self.analysis,
            "prevention": self.prevention,
            "competitor_id": self.competitor_id.id,
            "recontact_date": self.recontact_date,
        }
        if not self.several_opportunities:
            vals["competitor_price"] = self.competitor_price
        return vals

    def action_lost_reason_apply(self):
        self.ensure_one()
        opportunities = self._opportunities_to_lose()
        if opportunities:
            vals = self._prepare_loss_report_vals()
            Report = self.env["crm.lead.loss.report"]
            missing = Report.new(vals)._missing_field_labels()
            if missing:
                raise UserError(
                    self.env._(
                        "Fill in the loss report (丢失客户报告表) to mark it lost. "
                        "Missing: %(missing)s.",
                        missing=", ".join(missing),
                    )
                )
            reports = opportunities.loss_report_id
            if reports:
                reports.write(vals)
            Report.create(
                [
                    {**vals, "lead_id": lead.id}
                    for lead in opportunities - reports.lead_id
                ]
            )
        return super().action_lost_reason_apply()
