from ast import literal_eval

from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestLeadPool(FunnelCase):
    """The lead pool (线索池): pre-sales staff claim leads, see how long the
    unworked ones have waited, and disqualify them with a reason."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.ref("base.group_user").write(
            {"implied_ids": [(4, cls.env.ref("crm.group_use_lead").id)]}
        )

    def _pool_lead(self, name, when, **vals):
        with self._at(when):
            lead = self.env["crm.lead"].create(
                {"name": name, "type": "lead", "user_id": False, **vals}
            )
            self.env.flush_all()
        return lead

    def test_claim(self):
        lead = self._pool_lead("Website enquiry", "2026-03-01 09:00:00")
        self.assertFalse(lead.user_id)
        lead.with_user(self.salesman).action_claim()
        self.assertEqual(lead.user_id, self.salesman)
        self.assertTrue(lead.date_open)
        # Claimed by someone else: refused, the lead stays with its owner.
        with self.assertRaises(UserError) as refusal:
            lead.with_user(self.salesman2).action_claim()
        self.assertIn("already claimed by Li Na", str(refusal.exception))
        self.assertEqual(lead.user_id, self.salesman)
        # An opportunity is not in the pool.
        with self.assertRaises(UserError) as refusal:
            self.lead.with_user(self.salesman).action_claim()
        self.assertIn("Only leads of the pool", str(refusal.exception))

    def test_unworked_age_and_filter(self):
        old = self._pool_lead("Expo visitor", "2026-03-01 09:00:00")
        recent = self._pool_lead("Phone call", "2026-03-08 09:00:00")
        claimed = self._pool_lead("Referral", "2026-03-01 09:00:00")
        with self._at("2026-03-02 09:00:00"):
            claimed.with_user(self.salesman).action_claim()
        Lead = self.env["crm.lead"].with_user(self.salesman)
        with self._at("2026-03-10 10:00:00"):
            self.env.invalidate_all()
            self.assertEqual(old.unworked_days, 9)
            self.assertEqual(recent.unworked_days, 2)
            self.assertEqual(claimed.unworked_days, 0)
            pool = old | recent | claimed
            in_pool = [("id", "in", pool.ids)]
            self.assertEqual(Lead.search([*in_pool, ("unworked_days", ">", 7)]), old)
            self.assertEqual(
                Lead.search([*in_pool, ("unworked_days", ">=", 2)]), old | recent
            )
            self.assertEqual(Lead.search([*in_pool, ("unworked_days", ">", 9)]), Lead)
            self.assertEqual(Lead.search([*in_pool, ("unworked_days", "<", 3)]), recent)
            self.assertEqual(Lead.search([*in_pool, ("unworked_days", "=", 9)]), old)

    def test_unworked_filter_uses_the_index(self):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT indexdef FROM pg_indexes"
            " WHERE indexname = 'crm_lead_sales_funnel_unworked_idx'"
        )
        self.assertIn("date_open IS NULL", self.env.cr.fetchone()[0])

    def test_disqualify_needs_a_reason(self):
        lead = self._pool_lead("Student project", "2026-03-01 09:00:00")
        wizard = Form(
            self.env["crm.lead.lost"]
            .with_user(self.salesman)
            .with_context(active_model="crm.lead", default_lead_ids=lead.ids)
        )
        self.assertTrue(wizard.disqualifies_leads)
        with self.assertRaises(AssertionError):
            wizard.save()  # the reason is required on screen
        lost = (
            self.env["crm.lead.lost"]
            .with_user(self.salesman)
            .create({"lead_ids": lead.ids})
        )
        with self.assertRaises(UserError) as refusal:
            lost.action_lost_reason_apply()
        self.assertIn("disqualified", str(refusal.exception))
        self.assertTrue(lead.active)
        reason = self.env.ref("sales_funnel.crm_lost_reason_pool_no_need")
        lost.lost_reason_id = reason
        lost.action_lost_reason_apply()
        self.assertFalse(lead.active)
        self.assertEqual(lead.lost_reason_id, reason)
        # No loss report for a lead that never entered the funnel.
        self.assertFalse(lead.loss_report_ids)

    def test_pool_action_opens_the_leads(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_funnel.crm_lead_pool_action"
        )
        lead = self._pool_lead("Website enquiry", "2026-03-01 09:00:00")
        found = (
            self.env["crm.lead"]
            .with_user(self.salesman)
            .search(literal_eval(action["domain"]))
        )
        self.assertIn(lead, found)
        self.assertNotIn(self.lead, found)
