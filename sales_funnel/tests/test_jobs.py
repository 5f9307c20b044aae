from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestStuckReminderJob(FunnelCase):
    """The daily stuck reminder at any size: batches with committed progress,
    one open reminder per deal, a cap per owner."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.verification.max_days_in_stage = 30
        cls.Lead = cls.env["crm.lead"]
        cls.reminder_type = cls.env.ref(
            "sales_funnel.mail_activity_type_stuck_reminder"
        )

    def _age(self, lead, days):
        lead.date_last_stage_update = fields.Datetime.now() - timedelta(days=days)

    def _reminders(self, leads):
        return self.env["mail.activity"].search(
            [("res_model", "=", "crm.lead"), ("res_id", "in", leads.ids)]
        )

    def _stuck_deals(self, count, user=None, first_age=40):
        leads = self.Lead
        for n in range(count):
            lead = self._new_lead(f"Stuck deal {n}", user or self.salesman)
            self._age(lead, first_age + count - n)  # the first is the oldest
            leads |= lead
        return leads

    def _progress(self):
        cron = self.env.ref("sales_funnel.ir_cron_remind_stuck_opportunities")
        return self.env["ir.cron.progress"].create({"cron_id": cron.id})

    def _run(self, progress=None, **kwargs):
        Lead = self.Lead
        if progress:
            Lead = Lead.with_context(ir_cron_progress_id=progress.id)
        return Lead._cron_remind_stuck_opportunities(**kwargs)

    def test_an_overdue_reminder_gets_no_second_one(self):
        self._age(self.lead, 35)
        self._run()
        reminder = self._reminders(self.lead)
        self.assertEqual(len(reminder), 1)
        self.assertEqual(reminder.user_id, self.salesman)
        self.assertIn(self.verification.name, reminder.summary)
        # Nobody touched it: overdue a week later, the deal is stuck again,
        # but its owner already has the reminder on it.
        with self._at(fields.Datetime.now() + timedelta(days=7)):
            self.lead.invalidate_recordset(["is_stuck"])
            self.assertTrue(self.lead.is_stuck)
            self._run()
            self._run()
        self.assertEqual(self._reminders(self.lead), reminder)
        # Done, and the deal still stuck a month later: a new reminder.
        reminder.action_feedback(feedback="Called them")
        with self._at(fields.Datetime.now() + timedelta(days=40)):
            self._run()
            self.assertEqual(len(self._reminders(self.lead)), 1)

    def test_first_run_sends_each_owner_at_most_the_cap(self):
        self.env["ir.config_parameter"].set_param(
            "sales_funnel.stuck_reminders_per_owner", "2"
        )
        mine = self._stuck_deals(4)
        theirs = self._stuck_deals(3, user=self.salesman2)
        self._run()
        # The two oldest of each salesperson, not a flood.
        self.assertEqual(self._reminders(mine).mapped("res_id"), mine[:2].ids)
        self.assertEqual(len(self._reminders(theirs)), 2)
        self._run()
        self.assertEqual(len(self._reminders(mine | theirs)), 4)
        # One worked off (the next step planned): the next oldest comes.
        oldest = mine[:1]
        self._reminders(oldest).action_feedback(feedback="Meeting planned")
        oldest.activity_schedule(
            "mail.mail_activity_data_meeting",
            date_deadline=fields.Date.add(fields.Date.today(), days=5),
        )
        self._run()
        reminded = self._reminders(mine).filtered(
            lambda activity: activity.activity_type_id == self.reminder_type
        )
        self.assertEqual(sorted(reminded.mapped("res_id")), sorted(mine[1:3].ids))

    def test_batches_report_their_progress(self):
        self._stuck_deals(5)
        progress = self._progress()
        created = self._run(progress, batch=2)
        self.assertEqual(len(created), 2)
        self.assertEqual((progress.done, progress.remaining), (2, 3))
        progress = self._progress()
        self._run(progress, batch=2)
        self.assertEqual((progress.done, progress.remaining), (2, 1))
        progress = self._progress()
        self._run(progress, batch=2)
        self.assertEqual((progress.done, progress.remaining), (1, 0))
        progress = self._progress()
        self.assertFalse(self._run(progress, batch=2))
        self.assertEqual((progress.done, progress.remaining), (0, 0))
