"""The addon's scheduled jobs work in batches.

Odoo 18's cron runner calls a job again while it reports work remaining
(``ir.cron._notify_progress``), up to ten times a run, committing after each
call, then puts it first in line again: a job killed by the time limit keeps
what its earlier batches did, and the next run goes on from there. Each job
of the addon is one ``step`` (a batch) that returns ``(done, remaining)``;
``run_batches`` reports the progress under the runner, and runs the steps
until nothing remains when the job is called directly (the shell, a test).
"""

# Steps of a direct call at most (a job that could not finish in that many
# batches goes on at its next run, as under the runner).
MAX_DIRECT_STEPS = 10_000


def run_batches(env, step):
    """Run ``step()`` (→ ``(done, remaining)``) as the cron runner expects:
    one batch, its progress reported. Called outside the runner, the steps go
    on until nothing remains or a step does nothing. Returns the total done."""
    if env.context.get("ir_cron_progress_id"):
        done, remaining = step()
        env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done
    total = 0
    for _i in range(MAX_DIRECT_STEPS):
        done, remaining = step()
        total += done
        if not (done and remaining):
            break
    return total
