"""The addon's scheduled jobs work in batches.

Odoo 18's cron runner calls a job again while it reports work remaining
(``ir.cron._notify_progress``), up to ten times a run, committing after each
call, then puts it first in line again: a job killed by the time limit keeps
what its earlier batches did, and the next run goes on from there. Each job
of the addon is one ``step`` (a batch) that returns ``(done, remaining)``;
``run_batches`` reports the progress under the runner, and runs the steps
until nothing remains when the job is called directly (the shell, a test).

A multi-worker Odoo's cron worker runs every due job of a database within one
time limit (``limit_time_real_cron``, by default ``limit_time_real``: 120 s),
so ten batches of each job must not add up past it. A run of a job therefore
has a budget of ``RUN_BUDGET_SECONDS``: past it, the job reports nothing
remaining (the runner stops calling it) and triggers itself again
(``ir.cron._trigger``), to go on at the worker's next cycle, after its
watchdog was reset.
"""

import time

RUN_BUDGET_SECONDS = 10

# When each run of a job began: {(database, cron id, lastcall): monotonic time}.
# The batches of one run share the ``lastcall`` of the runner's context.
_RUN_STARTS = {}

# Steps of a direct call at most (a job that could not finish in that many
# batches goes on at its next run, as under the runner).
MAX_DIRECT_STEPS = 10_000


def run_batches(env, step):
    """Run ``step()`` (→ ``(done, remaining)``) as the cron runner expects:
    one batch, its progress reported. Called outside the runner, the steps go
    on until nothing remains or a step does nothing. Returns the total done."""
    progress_id = env.context.get("ir_cron_progress_id")
    if progress_id:
        # the runner's context has "lastcall"; a test or the benchmark's doesn't
        started = _run_start(env, progress_id) if "lastcall" in env.context else None
        done, remaining = step()
        if remaining and started and time.monotonic() - started > RUN_BUDGET_SECONDS:
            env["ir.cron.progress"].browse(progress_id).cron_id._trigger()
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


def _run_start(env, progress_id):
    cron = env["ir.cron.progress"].browse(progress_id).cron_id
    key = (env.cr.dbname, cron.id, env.context.get("lastcall"))
    now = time.monotonic()
    for stale in [k for k, t in _RUN_STARTS.items() if now - t > 3600]:
        del _RUN_STARTS[stale]
    return _RUN_STARTS.setdefault(key, now)
