import importlib.util
from datetime import timedelta
from pathlib import Path
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged
from odoo.tools import SQL

from .. import jobs
from .common import ForecastCase, FunnelCase, HandoffCase
from .test_selfcheck import FRIDAY, SelfcheckCase


def progress_of(env, xml_id):
    """A progress record of the job, as Odoo's cron runner makes for a batch."""
    return env["ir.cron.progress"].create({"cron_id": env.ref(xml_id).id})


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

    def test_an_old_releases_open_to_do_counts_after_the_upgrade(self):
        # Before 18.0.1.1.0 the job gave a stock to-do; one is still open,
        # and the deal is stuck (the to-do went overdue).
        self._age(self.lead, 35)
        old = self.lead.activity_schedule(
            "mail.mail_activity_data_todo",
            summary="Stuck in Verification for 31 days: move it on or plan the "
            "next step",
            user_id=self.salesman.id,
            date_deadline=fields.Date.today() - timedelta(days=3),
        )
        other = self.lead.activity_schedule(
            "mail.mail_activity_data_todo",
            summary="Send the brochure",
            date_deadline=fields.Date.today() - timedelta(days=3),
        )
        self.assertTrue(self.lead.is_stuck)
        path = Path(__file__).parents[1] / "migrations/18.0.1.3.0"
        spec = importlib.util.spec_from_file_location(
            "old_stuck_reminders", path / "post-old-stuck-reminders.py"
        )
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.migrate(self.env.cr, "18.0.1.2.0")
        old.invalidate_recordset(["activity_type_id"])
        self.assertEqual(old.activity_type_id, self.reminder_type)
        self.assertEqual(
            other.activity_type_id, self.env.ref("mail.mail_activity_data_todo")
        )
        # The job sees the deal reminded: no second reminder on top.
        self._run()
        self.assertEqual(self._reminders(self.lead), old | other)

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

    def test_called_directly_it_runs_every_batch(self):
        leads = self._stuck_deals(5)
        self.assertEqual(len(self._run(batch=2)), 5)
        self.assertEqual(len(self._reminders(leads)), 5)


class FakeClock:
    """The jobs' clock (``jobs._clock``), moved on by the batches."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@tagged("post_install", "-at_install")
class TestJobsShareTheCycleBudget(HandoffCase):
    """Run by Odoo's cron runner (``_process_job``, "lastcall" in the context),
    the addon's jobs share one time budget per cycle of the cron worker: past
    it, a job starts no more batch and triggers itself; the next cycle goes on
    where it stopped, the job that waited first; nothing is lost or done
    twice."""

    BATCH_SECONDS = 4

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.verification.max_days_in_stage = 30
        cls.stuck_cron = cls.env.ref("sales_funnel.ir_cron_remind_stuck_opportunities")
        cls.handoff_cron = cls.env.ref("sales_funnel.ir_cron_sales_funnel_handoff")
        # Small batches, to see them.
        cls.stuck_cron.code = "model._cron_remind_stuck_opportunities(batch=2)"
        cls.handoff_cron.code = "model._cron_handoff(limit=1)"

    def setUp(self):
        super().setUp()
        self.clock = FakeClock()
        # The cycles of an earlier test are none of this one's.
        jobs._cycle.__dict__.clear()
        self.addCleanup(jobs._cycle.__dict__.clear)
        self.startPatcher(patch.object(jobs, "_clock", self.clock))
        self.startPatcher(patch.object(jobs, "CYCLE_BUDGET_SECONDS", 10))
        # Each batch of either job takes BATCH_SECONDS of the clock.
        Lead = self.registry["crm.lead"]
        for name in ("_remind_stuck_batch", "_run_handoff"):
            self.startPatcher(patch.object(Lead, name, self._slow(getattr(Lead, name))))

    def _slow(self, method):
        clock, seconds = self.clock, self.BATCH_SECONDS

        def slow(records, *args, **kwargs):
            clock.now += seconds
            return method(records, *args, **kwargs)

        return slow

    def _ready(self):
        self.env.flush_all()
        ready = self.registry["ir.cron"]._get_all_ready_jobs(self.env.cr)
        return {job["id"] for job in ready} & {
            self.stuck_cron.id,
            self.handoff_cron.id,
        }

    def _cycle(self, crons=None):
        """One cycle of the cron worker over our two jobs (or ``crons``), as
        ``ir.cron._process_jobs`` runs it: one cursor, the ready jobs in
        turn, each job's batches committed."""
        self.env.flush_all()
        IrCron = self.registry["ir.cron"]
        ran = []
        self.registry.enter_test_mode(self.env.cr)
        try:
            with self.registry.cursor() as cron_cr:
                for cron in crons or self.stuck_cron | self.handoff_cron:
                    job = IrCron._acquire_one_job(cron_cr, cron.id)
                    if job:
                        ran.append(cron)
                        IrCron._process_job(self.registry.db_name, cron_cr, job)
        finally:
            self.registry.leave_test_mode()
        self.env.invalidate_all()
        return ran

    def _reminders(self, leads):
        return self.env["mail.activity"].search(
            [("res_model", "=", "crm.lead"), ("res_id", "in", leads.ids)]
        )

    def _backlogs(self):
        """Seven stuck deals (four batches of the reminder) and two won deals
        to hand off (two batches), both jobs due."""
        stuck = self.env["crm.lead"]
        for n in range(7):
            lead = self._new_lead(f"Stuck deal {n}", self.salesman)
            lead.date_last_stage_update = fields.Datetime.now() - timedelta(days=40 + n)
            stuck |= lead
        second = self._new_deal("Second substation")
        for deal in self.deal | second:
            self._win(deal)
        (self.stuck_cron | self.handoff_cron).nextcall = "2020-01-01 00:00:00"
        return stuck, second

    def test_jobs_with_a_backlog_share_each_cycle(self):
        stuck, second = self._backlogs()
        # Cycle 1: the stuck reminder's two batches spend its slice (8 s of
        # 5): it comes back with deals left, and the hand-off after it still
        # has budget for one order.
        self.assertEqual(self._cycle(), [self.stuck_cron, self.handoff_cron])
        self.assertEqual(len(self._reminders(stuck)), 4)
        self.assertEqual(len(self._orders(self.deal) | self._orders(second)), 1)
        self.assertEqual(self._ready(), {self.stuck_cron.id, self.handoff_cron.id})
        # Cycle 2: both end.
        self.clock.now += 60
        self._cycle()
        self.assertEqual(len(self._reminders(stuck)), 7)
        self.assertEqual(len(self._orders(self.deal)), 1)
        self.assertEqual(len(self._orders(second)), 1)

    def test_the_budget_is_shared_and_the_jobs_take_turns(self):
        # A slice as long as the budget: the first job spends the cycle.
        self.startPatcher(patch.object(jobs, "JOB_SLICE_SECONDS", 10))
        stuck, second = self._backlogs()
        self.assertTrue(all((self.deal | second).mapped("handoff_queued")))
        # Both due (the database's now() is the test transaction's start).
        self.assertEqual(self._ready(), {self.stuck_cron.id, self.handoff_cron.id})

        # Cycle 1: the stuck reminder's three batches of two spend the budget
        # (12 s of 10): it stops with one deal left and comes back; the
        # hand-off, after it, gets no batch and comes back too.
        self.assertEqual(self._cycle(), [self.stuck_cron, self.handoff_cron])
        self.assertEqual(len(self._reminders(stuck)), 6)
        self.assertFalse(self._orders(self.deal) | self._orders(second))
        self.assertEqual(self._ready(), {self.stuck_cron.id, self.handoff_cron.id})
        self.assertEqual(self._last_progress(self.handoff_cron), (0, 0))

        # Cycle 2: the hand-off waited, the stuck reminder lets it go first
        # (it would have had budget for a batch) and waits in turn.
        self.clock.now += 60
        self.assertEqual(self._cycle(), [self.stuck_cron, self.handoff_cron])
        self.assertEqual(self._last_progress(self.stuck_cron), (0, 0))
        self.assertEqual(len(self._reminders(stuck)), 6)
        self.assertEqual(len(self._orders(self.deal)), 1)
        self.assertEqual(len(self._orders(second)), 1)
        self.assertIn(self.stuck_cron.id, self._ready())

        # Cycle 3: the stuck reminder ends.
        self.clock.now += 60
        self.assertIn(self.stuck_cron, self._cycle())
        reminders = self._reminders(stuck)
        self.assertEqual(sorted(reminders.mapped("res_id")), sorted(stuck.ids))

        # Nothing done twice: one reminder a deal, one order a won deal, and
        # a job run again (a trigger the frozen transaction time of the test
        # keeps) finds nothing more to do.
        self.clock.now += 60
        self._cycle()
        self.assertEqual(self._reminders(stuck), reminders)
        self.assertEqual(len(self._orders(self.deal)), 1)
        self.assertEqual(len(self._orders(second)), 1)

    def test_a_compaction_waits_for_the_next_cycle_when_the_budget_is_spent(self):
        self.startPatcher(patch.object(jobs, "JOB_SLICE_SECONDS", 10))
        compact = self.env.ref("sales_funnel.ir_cron_funnel_summary_compact")
        for n in range(7):
            lead = self._new_lead(f"Stuck deal {n}", self.salesman)
            lead.date_last_stage_update = fields.Datetime.now() - timedelta(days=40 + n)
        self.env.flush_all()

        def delta_rows():
            return self.env.execute_query(SQL("SELECT count(*) FROM crm_funnel_delta"))[
                0
            ][0]

        before = delta_rows()
        (self.stuck_cron | compact).nextcall = "2020-01-01 00:00:00"
        # The stuck reminder spends the cycle's budget: the compaction folds
        # nothing and comes back.
        self.assertEqual(
            self._cycle(self.stuck_cron | compact), [self.stuck_cron, compact]
        )
        self.assertEqual(delta_rows(), before)
        self.assertEqual(self._last_progress(compact), (0, 0))
        self.env.flush_all()
        ready = self.registry["ir.cron"]._get_all_ready_jobs(self.env.cr)
        self.assertIn(compact.id, {job["id"] for job in ready})
        # Next cycle, it waited: it goes first and folds the deltas.
        self.clock.now += 60
        self.assertIn(compact, self._cycle(compact | self.stuck_cron))
        self.assertEqual(self._last_progress(compact), (1, 0))
        self.assertLess(delta_rows(), before)

    def test_run_manually_is_not_cut_short(self):
        # Odoo's "Run Manually" runs one batch with "lastcall" in its context,
        # outside the runner's cycles: however spent the budget, it is done.
        stuck = self.env["crm.lead"]
        for n in range(5):
            lead = self._new_lead(f"Stuck deal {n}", self.salesman)
            lead.date_last_stage_update = fields.Datetime.now() - timedelta(days=40)
            stuck |= lead
        self.stuck_cron.nextcall = "2020-01-01 00:00:00"
        with patch.object(jobs, "CYCLE_BUDGET_SECONDS", 0):
            self.assertIn(self.stuck_cron, self._cycle())
            self.assertEqual(self._last_progress(self.stuck_cron), (0, 0))
            self.assertFalse(self._reminders(stuck))
            self.stuck_cron.method_direct_trigger()
        self.assertEqual(self._last_progress(self.stuck_cron), (2, 3))
        self.assertEqual(len(self._reminders(stuck)), 2)

    def _last_progress(self, cron):
        progress = self.env["ir.cron.progress"].search(
            [("cron_id", "=", cron.id)], order="id desc", limit=1
        )
        return progress.done, progress.remaining


@tagged("post_install", "-at_install")
class TestHandoffJob(HandoffCase):
    def test_handoff_in_batches(self):
        second = self._new_deal("Second substation")
        self._win(self.deal)
        self._win(second)
        self.assertTrue(self.deal.handoff_queued and second.handoff_queued)
        Lead = self.env["crm.lead"]
        xml_id = "sales_funnel.ir_cron_sales_funnel_handoff"
        progress = progress_of(self.env, xml_id)
        Lead.with_context(ir_cron_progress_id=progress.id)._cron_handoff(limit=1)
        self.assertEqual((progress.done, progress.remaining), (1, 1))
        self.assertEqual(len(self._orders(self.deal)), 1)
        self.assertFalse(self._orders(second))
        progress = progress_of(self.env, xml_id)
        Lead.with_context(ir_cron_progress_id=progress.id)._cron_handoff(limit=1)
        self.assertEqual((progress.done, progress.remaining), (1, 0))
        # Run again: nothing queued, no second order.
        Lead._cron_handoff()
        self.assertEqual(len(self._orders(self.deal)), 1)
        self.assertEqual(len(self._orders(second)), 1)


@tagged("post_install", "-at_install")
class TestSnapshotJob(ForecastCase):
    def test_one_company_a_batch(self):
        self.company.sales_funnel_snapshot_day = 1
        other = self.env["res.company"].create(
            {"name": "华南分公司", "sales_funnel_snapshot_day": 1}
        )
        Snapshot = self.env["crm.forecast.snapshot"]
        xml_id = "sales_funnel.ir_cron_forecast_snapshots"
        with self._at("2031-11-01 08:00:00"):
            progress = progress_of(self.env, xml_id)
            Snapshot.with_context(
                ir_cron_progress_id=progress.id
            )._cron_forecast_snapshots()
            self.assertEqual((progress.done, progress.remaining), (1, 1))
            self.assertEqual(
                len(Snapshot.search([("snapshot_date", "=", "2031-11-01")]).company_id),
                1,
            )
            progress = progress_of(self.env, xml_id)
            Snapshot.with_context(
                ir_cron_progress_id=progress.id
            )._cron_forecast_snapshots()
            self.assertEqual((progress.done, progress.remaining), (1, 0))
            taken = Snapshot.search([("snapshot_date", "=", "2031-11-01")])
            self.assertEqual(taken.company_id, self.company | other)
            # A second run takes nothing more.
            Snapshot._cron_forecast_snapshots()
            self.assertEqual(
                Snapshot.search([("snapshot_date", "=", "2031-11-01")]), taken
            )


@tagged("post_install", "-at_install")
class TestSelfcheckReminderJob(SelfcheckCase):
    def test_reminders_in_batches(self):
        self._funnel()
        self._create(
            "G", "2031-03-10 08:00:00", user=self.salesman2, team_id=self.team.id
        )
        self._prepare()
        late = self.Selfcheck.search([("state", "=", "draft")])
        self.assertGreater(len(late), 1)
        xml_id = "sales_funnel.ir_cron_remind_selfchecks"
        with (
            self._at("2031-03-18 07:00:00"),
            patch(
                "odoo.addons.sales_funnel.models.crm_funnel_selfcheck.SELFCHECK_REMINDER_BATCH",
                1,
            ),
        ):
            progress = progress_of(self.env, xml_id)
            reminded = self.Selfcheck.with_context(
                ir_cron_progress_id=progress.id
            )._cron_remind_selfchecks()
            self.assertEqual(len(reminded), 1)
            self.assertEqual((progress.done, progress.remaining), (1, len(late) - 1))
            self.assertEqual(self.Selfcheck._cron_remind_selfchecks(), late - reminded)
            self.assertFalse(self.Selfcheck._cron_remind_selfchecks())

    def test_preparation_in_batches(self):
        self._funnel()
        self._create(
            "G", "2031-03-10 08:00:00", user=self.salesman2, team_id=self.team.id
        )
        xml_id = "sales_funnel.ir_cron_prepare_selfchecks"
        module = "odoo.addons.sales_funnel.models.crm_funnel_selfcheck"
        with self._at(FRIDAY), patch(f"{module}.SELFCHECK_PREPARE_BATCH", 1):
            progress = progress_of(self.env, xml_id)
            first = self.Selfcheck.with_context(
                ir_cron_progress_id=progress.id
            )._cron_prepare_selfchecks()
            self.assertEqual(len(first), 1)
            self.assertEqual((progress.done, progress.remaining), (1, 1))
            second = self.Selfcheck._cron_prepare_selfchecks()
            self.assertEqual(len(second), 1)
            self.assertEqual((first | second).user_id, self.salesman | self.salesman2)
            self.assertFalse(self.Selfcheck._cron_prepare_selfchecks())
