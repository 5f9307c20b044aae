from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestStuck(FunnelCase):
    """停留时间过长: too long in a stage, and nobody has planned the next step."""

    def _age(self, lead, days):
        lead.date_last_stage_update = fields.Datetime.now() - timedelta(days=days)

    def _stuck(self):
        return self.env["crm.lead"].search(
            [("is_stuck", "=", True), ("id", "in", self.lead.ids)]
        )

    def test_stuck_after_the_stage_maximum(self):
        self.verification.max_days_in_stage = 30
        self._age(self.lead, 29)
        self.assertFalse(self.lead.is_stuck)
        self.assertFalse(self._stuck())
        self._age(self.lead, 31)
        self.assertTrue(self.lead.is_stuck)
        self.assertEqual(self._stuck(), self.lead)
        self.assertNotIn(
            self.lead,
            self.env["crm.lead"].search([("is_stuck", "=", False)]),
        )

    def test_planned_activity_until_overdue(self):
        self.verification.max_days_in_stage = 30
        self._age(self.lead, 40)
        today = fields.Date.context_today(self.lead)
        activity = self.lead.activity_schedule(
            "mail.mail_activity_data_todo", date_deadline=today + timedelta(days=3)
        )
        self.assertFalse(self.lead.is_stuck)
        activity.date_deadline = today - timedelta(days=1)
        self.lead.invalidate_recordset(["is_stuck"])
        self.assertTrue(self.lead.is_stuck)

    def test_no_limit_won_and_lost_are_never_stuck(self):
        self.verification.max_days_in_stage = 0
        self._age(self.lead, 400)
        self.assertFalse(self.lead.is_stuck)
        self.verification.max_days_in_stage = 10
        self._lose(self.lead)
        self.assertFalse(self.lead.with_context(active_test=False).is_stuck)

    def test_cron_reminds_the_owner_once(self):
        self.verification.max_days_in_stage = 30
        self._age(self.lead, 35)
        self.env["crm.lead"]._cron_remind_stuck_opportunities()
        reminder = self.lead.activity_ids
        self.assertEqual(len(reminder), 1)
        self.assertEqual(reminder.user_id, self.salesman)
        self.assertIn(self.verification.name, reminder.summary)
        # Planned now, so no longer stuck: a second run adds nothing.
        self.assertFalse(self.lead.is_stuck)
        self.env["crm.lead"]._cron_remind_stuck_opportunities()
        self.assertEqual(len(self.lead.activity_ids), 1)
