from odoo import api, fields, models

from ..models.crm_lead_source import FUNNEL_SOURCES


class CrmLead2opportunityPartner(models.TransientModel):
    """Qualifying a lead of the pool asks for its source (商机来源): the
    opportunity it becomes enters the funnel with it."""

    _inherit = "crm.lead2opportunity.partner"

    funnel_source = fields.Selection(
        FUNNEL_SOURCES,
        compute="_compute_funnel_source",
        readonly=False,
        store=True,
        help="Where the opportunity came from; a marketing campaign names its "
        "campaign.",
    )
    campaign_id = fields.Many2one(
        "utm.campaign",
        compute="_compute_funnel_source",
        readonly=False,
        store=True,
    )

    @api.depends("lead_id")
    def _compute_funnel_source(self):
        for convert in self:
            lead = convert.lead_id
            convert.campaign_id = lead.campaign_id
            convert.funnel_source = (
                lead.funnel_source
                or lead._guess_funnel_sources(
                    [
                        {
                            "type": "opportunity",
                            "partner_id": lead.partner_id.id,
                            "campaign_id": lead.campaign_id.id,
                            "referred": lead.referred,
                        }
                    ]
                )[0]
            )

    def _convert_and_allocate(self, leads, user_ids, team_id=False):
        """The leads become opportunities with the wizard's source; a mass
        conversion keeps the source a lead already has."""
        leads_to_source = leads.filtered(lambda lead: lead.type == "lead")
        if self._name != "crm.lead2opportunity.partner":
            leads_to_source = leads_to_source.filtered(
                lambda lead: not lead.funnel_source
            )
        if leads_to_source:
            leads_to_source.write(self._prepare_funnel_source_vals())
        return super()._convert_and_allocate(leads, user_ids, team_id=team_id)

    def _prepare_funnel_source_vals(self):
        self.ensure_one()
        vals = {"funnel_source": self.funnel_source}
        if self.campaign_id:
            vals["campaign_id"] = self.campaign_id.id
        return vals
