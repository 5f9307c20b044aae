"""The addon's scheduled jobs work in batches, within a time budget shared by
all of them in one cycle of the cron runner.

Odoo 18's cron runner calls a job again while it reports work remaining
(``ir.cron._notify_progress``), up to ten times a run, committing after each
call, then puts it first in line again: a job killed by the time limit keeps
what its earlier batches did, and the next run goes on from there. Each job
of the addon is one ``step`` (a batch) that returns ``(done, remaining)``;
``run_batches`` reports the progress under the runner, and runs the steps
until nothing remains when the job is called directly (the shell, a test).

Why a budget per cycle rather than per job: a multi-worker Odoo's cron worker
pings its watchdog, sleeps (up to ``SLEEP_INTERVAL`` + 9 s = 69 s, unless a
trigger's notification wakes it), then runs every due job of a database one
after another (``ir.cron._process_jobs``); the master kills it when the next
ping does not come within ``limit_time_real_cron`` (by default
``limit_time_real``: 120 s). The sleep and all the jobs of the cycle share
that time limit, so after a full sleep the jobs have about 50 s together. The
addon's jobs therefore share ``CYCLE_BUDGET_SECONDS`` per cycle (counted from
the cycle's first job, ``ir.cron._process_job``): once it is spent, a job
starts no more batch, reports nothing remaining (the runner stops calling it)
and triggers itself again; the trigger's notification wakes the worker at
once for the next cycle, after its watchdog was reset. A batch is never cut:
the longest batch of a job must stay well under the rest of the limit
(the self-check job: one salesperson a batch).

Jobs with a backlog share the cycle: a job goes on with another batch only
within its slice of the budget (``JOB_SLICE_SECONDS``), then comes back at the
next cycle, so that one job with a large backlog (a first run at a million
deals) leaves time in the cycle to the jobs after it. When the budget is
spent all the same, the jobs cut short take turns: a job that had to wait in a
cycle goes before those that did not wait as long.
"""

import threading
import time
import weakref
from contextlib import contextmanager

from odoo.tools import SQL

CYCLE_BUDGET_SECONDS = 20

# A job's share of a cycle before it lets the next job have the rest: a
# quarter of the budget, so that four jobs with a backlog all move on in each
# cycle (a batch under a loaded server takes a few seconds).
JOB_SLICE_SECONDS = 5

# Steps of a direct call at most (a job that could not finish in that many
# batches goes on at its next run, as under the runner).
MAX_DIRECT_STEPS = 10_000

# The cron cycle of this thread (a cron worker, or a cron thread of a
# threaded server): its cursor, when it began, the jobs that waited for a
# turn.
_cycle = threading.local()


def _clock():
    return time.monotonic()


@contextmanager
def runner_job(cron_cr):
    """Around each job the runner runs (``ir.cron._process_job``): the
    runner's cursor is the same for all the jobs of one cycle."""
    current = getattr(_cycle, "cursor", None)
    if current is None or current() is not cron_cr:
        _cycle.cursor = weakref.ref(cron_cr)
        _cycle.started = _clock()
        # {cron id: cycles waited} of the jobs that got no batch in the
        # previous cycle of this database, and of those that get none in this
        waits = _cycle.__dict__.setdefault("waits", {})
        _cycle.waiting = waits.get(cron_cr.dbname, {})
        _cycle.waited = waits[cron_cr.dbname] = {}
    _cycle.job_started = _clock()
    _cycle.in_job = True
    try:
        yield
    finally:
        _cycle.in_job = False


def _in_cycle(env):
    """Whether the cron runner runs this call now (its context has "lastcall";
    a test's, the benchmark's or a direct call's has not; Odoo's "Run
    Manually" has, but runs one batch outside the runner's cycle)."""
    return "lastcall" in env.context and getattr(_cycle, "in_job", False)


def _has_turn(cron_id, going_on=False):
    """Budget left, and no job of the addon waited longer than this one; for
    another batch of the same job (``going_on``), its slice not spent."""
    now = _clock()
    if now - _cycle.started >= CYCLE_BUDGET_SECONDS:
        return False
    if going_on and now - _cycle.job_started >= JOB_SLICE_SECONDS:
        return False
    waited = _cycle.waiting.get(cron_id, 0)
    return all(
        cycles <= waited for other, cycles in _cycle.waiting.items() if other != cron_id
    )


def _come_back(env, cron, waited=False):
    """Trigger the job again, to go on at the worker's next cycle, and wake
    the worker. The trigger is dated by the database's clock of this
    transaction, which began after the runner acquired the job: the runner,
    rescheduling the job, deletes the triggers dated before it acquired it
    (``_reschedule_later``), and ``fields.Datetime.now()`` drops the
    fraction of the second."""
    now = env.execute_query(SQL("SELECT now() AT TIME ZONE 'UTC'"))[0][0]
    cron._trigger(at=now)
    env.cr.postcommit.add(cron._notifydb)
    if waited:  # this cycle gave it no batch
        _cycle.waited[cron.id] = _cycle.waiting.get(cron.id, 0) + 1


def run_batches(env, step):
    """Run ``step()`` (→ ``(done, remaining)``) as the cron runner expects:
    one batch, its progress reported, within the cycle's budget. Called outside
    the runner, the steps go on until nothing remains or a step does nothing.
    Returns the total done."""
    progress_id = env.context.get("ir_cron_progress_id")
    if progress_id:
        cron = None
        if _in_cycle(env):
            cron = env["ir.cron.progress"].browse(progress_id).cron_id
            if not _has_turn(cron.id):
                _come_back(env, cron, waited=True)
                env["ir.cron"]._notify_progress(done=0, remaining=0)
                return 0
        done, remaining = step()
        if remaining and cron and not _has_turn(cron.id, going_on=True):
            _come_back(env, cron)
            remaining = 0
        env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done
    total = 0
    for _i in range(MAX_DIRECT_STEPS):
        done, remaining = step()
        total += done
        if not (done and remaining):
            break
    return total


def run_once(env, work):
    """A job of one short piece of work (a compaction of kept sums): run
    within the cycle's budget like a batch, else at the next cycle."""

    def step():
        work()
        return 1, 0

    return run_batches(env, step)
