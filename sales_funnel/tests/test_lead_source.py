from contextlib import contextmanager

from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged, users

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestLeadSource(FunnelCase):
    """Every opportunity has one of the four sources (商机来源), on every path
    that makes one: creation, import, the conversion of a lead, a write."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.campaign = cls.env["utm.campaign"].create({"title": "Smart Energy Expo"})
        cls.customer = cls.env["res.partner"].create(
            {"name": "宁波舟山港股份有限公司", "is_company": True}
        )
        cls.customer_contact = cls.env["res.partner"].create(
            {"name": "王经理", "parent_id": cls.customer.id}
        )
        cls.newcomer = cls.env["res.partner"].create(
            {"name": "常州金坛新材料有限公司", "is_company": True}
        )
        # The customer won with us before (loaded from the old CRM).
        cls.env["crm.lead"].with_user(cls.manager).create(
            {
                "name": "Port lighting 2025",
                "type": "opportunity",
                "partner_id": cls.customer.id,
                "user_id": cls.salesman.id,
                "stage_id": cls.won.id,
                "funnel_source": "prospecting",
                "gate_override_reason": "Won in the old CRM",
            }
        )

    @contextmanager
    def _refused(self, message):
        """A ValidationError saying ``message``; nothing of the call is kept."""
        with self.assertRaises(ValidationError) as refusal:
            yield
        self.assertIn(message, str(refusal.exception))

    def _opportunity(self, **vals):
        return (
            self.env["crm.lead"]
            .with_user(self.salesman)
            .create(
                {
                    "name": "Energy monitoring",
                    "type": "opportunity",
                    "user_id": self.salesman.id,
                    **vals,
                }
            )
        )

    def _lead(self, **vals):
        return (
            self.env["crm.lead"]
            .with_user(self.salesman)
            .create({"name": "Expo visitor", "type": "lead", **vals})
        )

    # ------------------------------------------------------------------
    # Creation
    # ------------------------------------------------------------------

    def test_creation_without_source_takes_the_facts(self):
        """A salesperson creating an opportunity sees the source its facts
        give: the campaign named, the referrer, a customer that won before
        (through any of its contacts), otherwise found by the salesperson."""
        self.assertEqual(
            self._opportunity(campaign_id=self.campaign.id).funnel_source, "campaign"
        )
        self.assertEqual(
            self._opportunity(referred="Huadong Power, Mr Wang").funnel_source,
            "referral",
        )
        self.assertEqual(
            self._opportunity(partner_id=self.customer_contact.id).funnel_source,
            "repeat",
        )
        self.assertEqual(
            self._opportunity(partner_id=self.newcomer.id).funnel_source,
            "prospecting",
        )
        # A lead of the pool found by no one has no source until qualified.
        self.assertFalse(self._lead().funnel_source)
        self.assertEqual(
            self._lead(campaign_id=self.campaign.id).funnel_source, "campaign"
        )

    def test_creation_with_an_empty_source_is_refused(self):
        Lead = self.env["crm.lead"].with_context(active_test=False)
        before = Lead.search_count([])
        with self._refused("needs its source"):
            self._opportunity(funnel_source=False)
        with self._refused("name the campaign"):
            self._opportunity(funnel_source="campaign")
        self.assertEqual(Lead.search_count([]), before)

    @users("sf_sales")
    def test_form_shows_the_source_and_needs_a_campaign(self):
        """In the form the guess is shown; a campaign source asks for the
        campaign before saving."""
        form = Form(
            self.env["crm.lead"].with_context(default_type="opportunity"),
            view="crm.crm_lead_view_form",
        )
        form.name = "Metro lighting"
        form.partner_id = self.customer
        self.assertEqual(form.funnel_source, "repeat")
        form.funnel_source = "campaign"
        with self._refused("name the campaign"):
            form.save()
        form.campaign_id = self.campaign
        deal = form.save()
        self.assertEqual(deal.funnel_source, "campaign")
        self.assertEqual(deal.campaign_id, self.campaign)

    # ------------------------------------------------------------------
    # Write
    # ------------------------------------------------------------------

    def test_write_cannot_remove_the_source(self):
        deal = self._opportunity(campaign_id=self.campaign.id)
        with self._refused("needs its source"):
            deal.with_user(self.salesman).write({"funnel_source": False})
        with self._refused("name the campaign"):
            deal.with_user(self.salesman).write({"campaign_id": False})
        self.assertEqual(deal.funnel_source, "campaign")
        self.assertEqual(deal.campaign_id, self.campaign)
        deal.with_user(self.salesman).write(
            {"funnel_source": "referral", "referred": "Mr Wang"}
        )
        self.assertEqual(deal.funnel_source, "referral")

    # ------------------------------------------------------------------
    # Import
    # ------------------------------------------------------------------

    def test_import_needs_a_source(self):
        Lead = self.env["crm.lead"].with_user(self.salesman)
        before = Lead.search_count([])
        result = Lead.load(
            ["name", "type", "funnel_source"],
            [
                ["Imported A", "opportunity", "Found by the Salesperson"],
                ["Imported B", "opportunity", ""],
            ],
        )
        self.assertTrue(result["messages"])
        self.assertIn("needs its source", result["messages"][0]["message"])
        self.assertFalse(result["ids"])
        self.assertEqual(Lead.search_count([]), before)
        result = Lead.load(
            ["name", "type", "funnel_source", "campaign_id"],
            [["Imported C", "opportunity", "Marketing Campaign", ""]],
        )
        self.assertIn("name the campaign", result["messages"][0]["message"])
        result = Lead.load(
            ["name", "type", "funnel_source", "campaign_id"],
            [
                [
                    "Imported D",
                    "opportunity",
                    "Marketing Campaign",
                    "Smart Energy Expo",
                ],
                ["Imported E", "opportunity", "Referred by an Existing Customer", ""],
            ],
        )
        self.assertFalse(result["messages"])
        deals = Lead.browse(result["ids"])
        self.assertEqual(deals.mapped("funnel_source"), ["campaign", "referral"])
        self.assertEqual(deals[0].campaign_id, self.campaign)

    # ------------------------------------------------------------------
    # Conversion of a lead of the pool
    # ------------------------------------------------------------------

    def _convert_wizard(self, lead, **values):
        wizard = Form(
            self.env["crm.lead2opportunity.partner"]
            .with_user(self.salesman)
            .with_context(
                active_model="crm.lead", active_id=lead.id, active_ids=lead.ids
            )
        )
        for name, value in values.items():
            setattr(wizard, name, value)
        return wizard

    def test_qualification_asks_for_the_source(self):
        """Qualifying a lead: the wizard proposes a source; the salesperson
        chooses the campaign; the opportunity enters Verification with it."""
        lead = self._lead(partner_id=self.newcomer.id)
        wizard = self._convert_wizard(lead, action="exist", partner_id=self.newcomer)
        self.assertEqual(wizard.funnel_source, "prospecting")
        wizard.funnel_source = "campaign"
        with self.assertRaises(AssertionError):
            wizard.save()  # the campaign is required
        wizard.campaign_id = self.campaign
        wizard.save().action_apply()
        self.assertEqual(lead.type, "opportunity")
        self.assertEqual(lead.stage_id, self.verification)
        self.assertEqual(lead.funnel_source, "campaign")
        self.assertEqual(lead.campaign_id, self.campaign)
        self.assertEqual(lead.stage_history_ids.to_stage_id, self.verification)

    def test_qualification_without_a_source_is_refused(self):
        lead = self._lead(partner_id=self.newcomer.id)
        wizard = self._convert_wizard(lead, action="exist", partner_id=self.newcomer)
        wizard.funnel_source = "referral"
        record = wizard.save()
        record.funnel_source = False
        with self._refused("needs its source"):
            record.action_apply()
        self.assertEqual(lead.type, "lead")
        # Server code converting a lead without a source is refused too.
        with self._refused("needs its source"):
            lead.with_user(self.salesman).convert_opportunity(self.newcomer)
        self.assertEqual(lead.type, "lead")

    def test_mass_qualification_keeps_the_leads_own_sources(self):
        from_expo = self._lead(campaign_id=self.campaign.id)
        unknown = self._lead(name="Phone call")
        wizard = Form(
            self.env["crm.lead2opportunity.partner.mass"]
            .with_user(self.salesman)
            .with_context(active_model="crm.lead", active_ids=(from_expo | unknown).ids)
        )
        wizard.funnel_source = "prospecting"
        wizard.action = "nothing"
        wizard.save().action_mass_convert()
        self.assertEqual((from_expo | unknown).mapped("type"), ["opportunity"] * 2)
        self.assertEqual(from_expo.funnel_source, "campaign")
        self.assertEqual(unknown.funnel_source, "prospecting")

    def test_merged_leads_keep_a_source(self):
        first = self._lead(name="Website enquiry", email_from="buyer@example.com")
        second = self._lead(
            name="Expo visitor", email_from="buyer@example.com", referred="Mr Wang"
        )
        merged = (first | second).with_user(self.salesman).merge_opportunity()
        self.assertEqual(merged.funnel_source, "referral")

    # ------------------------------------------------------------------
    # An installed database
    # ------------------------------------------------------------------

    def test_existing_opportunities_get_a_sensible_source(self):
        """The migration (and the installation on an existing CRM) gives the
        opportunities without a source the one their facts give; a lead only
        what it knows (a campaign, a referrer, an earlier customer)."""
        later = self._opportunity(partner_id=self.customer.id)
        expo = self._opportunity(campaign_id=self.campaign.id)
        referred = self._opportunity(referred="Mr Wang")
        found = self._opportunity(partner_id=self.partner.id)
        lead = self._lead()
        expo_lead = self._lead(campaign_id=self.campaign.id)
        deals = later | expo | referred | found
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET funnel_source = NULL WHERE id IN %s",
            [tuple((deals | lead | expo_lead).ids)],
        )
        # The customer's earlier deal was won last year.
        self.env.cr.execute(
            "UPDATE crm_lead SET date_closed = '2025-06-30' WHERE name = %s",
            ["Port lighting 2025"],
        )
        self.env.invalidate_all()
        self.env["crm.lead"]._fill_missing_funnel_sources()
        self.assertEqual(
            deals.mapped("funnel_source"),
            ["repeat", "campaign", "referral", "prospecting"],
        )
        self.assertFalse(lead.funnel_source)
        self.assertEqual(expo_lead.funnel_source, "campaign")
