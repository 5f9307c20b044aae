from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import AnalyticsCase

# The stored dates of "stuck", recounted from the sources.
RECOUNT = """
    SELECT l.id,
           CASE WHEN l.active AND l.type = 'opportunity'
                     AND NOT COALESCE(s.is_won, FALSE) AND s.max_days_in_stage > 0
                THEN l.date_last_stage_update + s.max_days_in_stage * interval '1 day'
           END,
           (SELECT max(a.date_deadline) FROM mail_activity a
             WHERE a.res_model = 'crm.lead' AND a.res_id = l.id AND a.active),
           l.stuck_since, l.planned_until
      FROM crm_lead l JOIN crm_stage s ON s.id = l.stage_id
"""


@tagged("post_install", "-at_install")
class TestStuckDates(AnalyticsCase):
    """ "Stuck since" and "planned until" are stored (the Stuck filter is an
    index range at a million opportunities): they stay exact on every path."""

    def setUp(self):
        super().setUp()
        self.verification.max_days_in_stage = 30
        self.development.max_days_in_stage = 20
        self.deal = self._create("Deal", "2026-10-01 08:00:00")

    def assertExact(self):
        self.env.flush_all()
        self.env.cr.execute(RECOUNT)
        rows = self.env.cr.fetchall()
        self.assertTrue(rows)
        for lead_id, since, planned, stored_since, stored_planned in rows:
            self.assertEqual(
                (stored_since, stored_planned), (since, planned), f"lead {lead_id}"
            )

    def _stuck_ids(self):
        return (
            self.env["crm.lead"]
            .with_user(self.salesman)
            .search([("is_stuck", "=", True)])
        )

    def test_create_write_and_stage_change(self):
        self.assertEqual(self.deal.stuck_since, self._day("2026-10-31 08:00:00"))
        self.assertExact()
        self._move(self.deal, self.development, "2026-10-10 09:00:00")
        self.assertEqual(self.deal.stuck_since, self._day("2026-10-30 09:00:00"))
        self.assertExact()
        self._write(
            self.deal,
            {"date_last_stage_update": "2026-10-12 09:00:00"},
            "2026-10-12 09:00:00",
        )
        self.assertEqual(self.deal.stuck_since, self._day("2026-11-01 09:00:00"))
        self.assertExact()
        with self._at("2026-11-01 08:59:00"):
            self.assertFalse(self._stuck_ids())
        with self._at("2026-11-01 09:01:00"):
            self.assertEqual(self._stuck_ids(), self.deal)
            self.assertTrue(self.deal.is_stuck)

    def test_loss_restore_and_won(self):
        self._lose(self.deal, "2026-10-05 08:00:00")
        self.assertFalse(self.deal.stuck_since)
        self.assertExact()
        self._restore(self.deal, "2026-10-06 08:00:00")
        self.assertTrue(self.deal.stuck_since)
        self.assertExact()
        self._walk(
            self.deal,
            [
                (self.development, "2026-10-07 08:00:00"),
                (self.proposal, "2026-10-08 08:00:00"),
                (self.closing, "2026-10-09 08:00:00"),
            ],
        )
        self._win(self.deal, "2026-10-10 08:00:00")
        self.assertFalse(self.deal.stuck_since)
        self.assertExact()

    def test_stage_maximum_changed(self):
        other = self._create("Other", "2026-10-02 08:00:00")
        self.verification.max_days_in_stage = 0
        self.assertFalse(self.deal.stuck_since or other.stuck_since)
        self.assertExact()
        self.verification.max_days_in_stage = 5
        self.assertEqual(other.stuck_since, self._day("2026-10-07 08:00:00"))
        self.assertExact()
        with self._at("2026-10-08 00:00:00"):
            self.assertEqual(self._stuck_ids(), self.deal | other)

    def test_lead_converted_and_imported(self):
        lead = self._create("Raw", "2026-10-01 08:00:00", type="lead")
        self.assertFalse(lead.stuck_since)
        self._write(
            lead,
            {"type": "opportunity", "funnel_source": "prospecting"},
            "2026-10-02 08:00:00",
        )
        self.assertTrue(lead.stuck_since)
        self.assertExact()
        with self._at("2026-10-03 08:00:00"):
            result = (
                self.env["crm.lead"]
                .with_user(self.manager)
                .load(
                    ["name", "type", "stage_id/id", "user_id/id"],
                    [
                        [
                            "Imported",
                            "opportunity",
                            "sales_funnel.crm_stage_verification",
                            "",
                        ]
                    ],
                )
            )
        self.assertFalse(result["messages"], result["messages"])
        imported = self.env["crm.lead"].browse(result["ids"])
        self.assertEqual(imported.stuck_since, self._day("2026-11-02 08:00:00"))
        self.assertExact()
        imported.unlink()
        self.assertExact()

    def test_activities_plan_until_done(self):
        today = fields.Date.context_today(self.deal)
        with self._at("2026-11-05 08:00:00"):
            self.assertEqual(self._stuck_ids(), self.deal)
        activity = self.deal.activity_schedule(
            "mail.mail_activity_data_todo", date_deadline=today + timedelta(days=3)
        )
        second = self.deal.activity_schedule(
            "mail.mail_activity_data_todo", date_deadline=today + timedelta(days=9)
        )
        self.assertEqual(self.deal.planned_until, today + timedelta(days=9))
        self.assertExact()
        second.date_deadline = today + timedelta(days=1)
        self.assertEqual(self.deal.planned_until, today + timedelta(days=3))
        self.assertExact()
        second.action_feedback("Called")
        self.assertEqual(self.deal.planned_until, today + timedelta(days=3))
        self.assertExact()
        self.assertFalse(self._stuck_ids())
        activity.unlink()
        self.assertFalse(self.deal.planned_until)
        self.assertExact()
        self.assertEqual(self._stuck_ids(), self.deal)
