"""The four sources of an opportunity (商机来源): what fed it into the funnel.

Every opportunity has one, whatever the channel that makes it one (creation,
import, the conversion of a lead, a write): the marketing department judges
its activities by what each source feeds into the funnel (the Source
Effectiveness report). A campaign source names its campaign (``campaign_id``,
Odoo's UTM campaign).

On creation without a source, the facts give it: a campaign → campaign; a
referrer (``referred``) → referral; a customer that already won with us →
repeat purchase; otherwise an opportunity was found by its salesperson (a lead
of the pool keeps no source until it is qualified). An empty source given
explicitly (a form, an import column, a write) is refused.
"""

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from .. import funnel_terms as terms

FUNNEL_SOURCES = [
    ("repeat", "Existing Customer Buying Again"),
    ("referral", "Referred by an Existing Customer"),
    ("campaign", "Marketing Campaign"),
    ("prospecting", "Found by the Salesperson"),
]


class CrmLead(models.Model):
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    funnel_source = fields.Selection(
        FUNNEL_SOURCES,
        index=True,
        tracking=True,
        copy=True,
        help="Where the opportunity came from: an existing customer buying again "
        "(老客户重复消费), a new customer referred by an existing one "
        "(老客户介绍的新客户), a new customer from a marketing campaign "
        "(市场活动激发的新客户, with its campaign) or a new customer found by the "
        "salesperson (销售人员开发的新客户). Required on every opportunity.",
    )

    def init(self):
        res = super().init()
        # The Source Effectiveness report filters and groups by campaign.
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS crm_lead_sales_funnel_campaign_idx"
            " ON crm_lead (campaign_id) WHERE campaign_id IS NOT NULL"
        )
        return res

    @api.constrains("type", "funnel_source", "campaign_id")
    def _check_funnel_source(self):
        for lead in self:
            if lead.type == "opportunity" and not lead.funnel_source:
                raise ValidationError(
                    self.env._(
                        "The opportunity “%(name)s” needs its source: an existing "
                        "customer buying again, a new customer referred by an "
                        "existing one, a new customer from a marketing campaign or "
                        "a new customer found by the salesperson.",
                        name=lead.name,
                    )
                )
            if lead.funnel_source == "campaign" and not lead.campaign_id:
                raise ValidationError(
                    self.env._(
                        "“%(name)s” comes from a marketing campaign: name the "
                        "campaign.",
                        name=lead.name,
                    )
                )

    @api.onchange("partner_id", "campaign_id", "referred")
    def _onchange_funnel_source(self):
        # The fallback (found by the salesperson) gives way to what the facts
        # say; a source chosen otherwise stays.
        if self.funnel_source in (False, "prospecting") or (
            self.funnel_source == "campaign" and not self.campaign_id
        ):
            self.funnel_source = self._guess_funnel_sources(
                [
                    {
                        "type": self.type,
                        "partner_id": self.partner_id.id,
                        "campaign_id": self.campaign_id.id,
                        "referred": self.referred,
                    }
                ]
            )[0]

    # ------------------------------------------------------------------
    # Step of create: the source the facts give
    # ------------------------------------------------------------------

    @api.model
    def _fill_funnel_sources(self, vals_list):
        """Creation: give the records created without a ``funnel_source`` key
        the source their facts give (an explicit empty one stays empty and is
        refused on opportunities). One query for the whole batch."""
        missing = [vals for vals in vals_list if "funnel_source" not in vals]
        if not missing:
            return vals_list
        default_type = self.default_get(["type"]).get("type")
        facts = [
            {
                "type": vals.get("type", default_type),
                "partner_id": vals.get("partner_id"),
                "campaign_id": vals.get("campaign_id")
                or self.env.context.get("default_campaign_id"),
                "referred": vals.get("referred"),
            }
            for vals in missing
        ]
        guesses = self._guess_funnel_sources(facts)
        for vals, source in zip(missing, guesses, strict=True):
            if source:
                vals["funnel_source"] = source
        return vals_list

    @api.model
    def _guess_funnel_sources(self, facts):
        """The source each of ``facts`` (dicts: type, partner_id, campaign_id,
        referred) gives, or False: a lead found by no one yet has none."""
        partner_ids = {fact["partner_id"] for fact in facts if fact["partner_id"]}
        customers = set()
        if partner_ids:
            partners = self.env["res.partner"].browse(partner_ids)
            commercial = partners.commercial_partner_id
            won = self.sudo()._read_group(
                [
                    ("partner_id", "child_of", commercial.ids),
                    *terms.FUNNEL_OPPORTUNITY_DOMAIN,
                    ("stage_id.is_won", "=", True),
                ],
                ["partner_id"],
            )
            won_commercial = {partner.commercial_partner_id for (partner,) in won}
            customers = {
                partner.id
                for partner in partners
                if partner.commercial_partner_id in won_commercial
            }
        sources = []
        for fact in facts:
            if fact["campaign_id"]:
                sources.append("campaign")
            elif fact["referred"]:
                sources.append("referral")
            elif fact["partner_id"] in customers:
                sources.append("repeat")
            elif fact["type"] == "opportunity":
                sources.append("prospecting")
            else:
                sources.append(False)
        return sources

    @api.model
    def _fill_missing_funnel_sources(self):
        """Give every opportunity without a source (an installed database, a
        pipeline adopted on installation) the source its facts give, in one
        UPDATE: a campaign → campaign; a referrer → referral; a customer that
        had won an earlier deal → repeat purchase; otherwise found by the
        salesperson. Leads of the pool get the first three only. Returns the
        number of records changed."""
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead lead
                   SET funnel_source = CASE
                        WHEN lead.campaign_id IS NOT NULL THEN 'campaign'
                        WHEN COALESCE(lead.referred, '') <> '' THEN 'referral'
                        WHEN EXISTS (
                            SELECT 1
                              FROM crm_lead earlier
                              JOIN res_partner customer
                                ON customer.id = earlier.partner_id
                              JOIN crm_stage stage
                                ON stage.id = earlier.stage_id
                              JOIN res_partner partner
                                ON partner.id = lead.partner_id
                             WHERE earlier.id <> lead.id
                               AND %(won)s
                               AND customer.commercial_partner_id
                                   = partner.commercial_partner_id
                               AND COALESCE(earlier.date_closed,
                                            earlier.create_date)
                                   < lead.create_date
                        ) THEN 'repeat'
                        WHEN lead.type = 'opportunity' THEN 'prospecting'
                       END
                 WHERE lead.funnel_source IS NULL
                   AND (lead.type = 'opportunity'
                        OR lead.campaign_id IS NOT NULL
                        OR COALESCE(lead.referred, '') <> ''
                        OR lead.partner_id IS NOT NULL)
                """,
                won=terms.won_opportunity("earlier", "stage"),
            )
        )
        changed = self.env.cr.rowcount
        if changed:
            self.invalidate_model(["funnel_source"])
        return changed

    def _merge_get_fields(self):
        # Merging leads keeps the first source found (the most advanced first).
        return [*super()._merge_get_fields(), "funnel_source"]
