"""The scheduled jobs at the benchmark's size: one batch as the cron runner
calls it (what must finish within Odoo's time limits before its commit), and
the stuck reminder's whole first run. Each run is rolled back to a savepoint,
so every run does the same work."""

import time

from harness import measure

STUCK_SQL = """
    SELECT count(*)
      FROM crm_lead l JOIN crm_stage s ON s.id = l.stage_id
     WHERE l.active AND l.type = 'opportunity' AND NOT s.is_won
       AND l.probability < 100 AND s.max_days_in_stage > 0
       AND l.date_last_stage_update < now() - make_interval(days => s.max_days_in_stage)
       AND NOT EXISTS (SELECT 1 FROM mail_activity a
                        WHERE a.res_model = 'crm.lead' AND a.res_id = l.id
                          AND a.date_deadline >= current_date)
"""


def sql_stuck(bench):
    bench.sql(STUCK_SQL)


def _job(bench, xml_id, call):
    """Time ``call(env)`` as the cron runner runs it (with a progress record),
    rolled back afterwards; (elapsed, queries)."""
    cr = bench.cr
    cr.execute("SAVEPOINT bench_job")
    try:
        env = bench.admin
        cron = env.ref(xml_id)
        progress = env["ir.cron.progress"].create({"cron_id": cron.id})
        env = env(context=dict(env.context, ir_cron_progress_id=progress.id))
        count = cr.sql_log_count
        start = time.perf_counter()
        call(env)
        env.flush_all()
        return time.perf_counter() - start, cr.sql_log_count - count
    finally:
        cr.execute("ROLLBACK TO SAVEPOINT bench_job")
        bench.invalidate()


@measure(
    "job: stuck reminders, one batch (25)",
    baseline=sql_stuck,
    baseline_name="SQL count of the stuck",
)
def stuck_batch(bench):
    return _job(
        bench,
        "sales_funnel.ir_cron_remind_stuck_opportunities",
        lambda env: env["crm.lead"]._cron_remind_stuck_opportunities(),
    )


@measure("job: stuck reminders, whole first run (≤ 20 a salesperson)", runs=1)
def stuck_first_run(bench):
    def whole(env):
        env = env(
            context={k: v for k, v in env.context.items() if k != "ir_cron_progress_id"}
        )
        env["crm.lead"]._cron_remind_stuck_opportunities()

    return _job(bench, "sales_funnel.ir_cron_remind_stuck_opportunities", whole)


@measure("job: hand-off queue, one batch (100)")
def handoff_batch(bench):
    return _job(
        bench,
        "sales_funnel.ir_cron_sales_funnel_handoff",
        lambda env: env["crm.lead"]._cron_handoff(),
    )


@measure("job: regrade opportunities, one batch (200)")
def regrade_batch(bench):
    return _job(
        bench,
        "sales_funnel.ir_cron_regrade_opportunities",
        lambda env: env["crm.lead"]._cron_regrade_opportunities(),
    )


@measure("job: forecast snapshots of a company", runs=1)
def snapshots_company(bench):
    def take(env):
        from odoo import fields

        env["crm.forecast.snapshot"].sudo()._take_snapshots(
            env.company, fields.Date.today()
        )

    return _job(bench, "sales_funnel.ir_cron_forecast_snapshots", take)


@measure("job: weekly self-checks, one batch (as the runner calls it)", runs=1)
def selfchecks_batch(bench):
    def prepare(env):
        from odoo import fields

        # Today is the company's self-check day (rolled back with the run).
        env.company.sales_funnel_selfcheck_weekday = str(fields.Date.today().weekday())
        env["crm.funnel.selfcheck"]._cron_prepare_selfchecks()

    return _job(bench, "sales_funnel.ir_cron_prepare_selfchecks", prepare)


@measure("job: compact the forecast sums")
def compact_summary(bench):
    return _job(
        bench,
        "sales_funnel.ir_cron_funnel_summary_compact",
        lambda env: env["crm.funnel.summary"]._cron_compact(),
    )


@measure("job: compact the stage flow")
def compact_flow(bench):
    return _job(
        bench,
        "sales_funnel.ir_cron_stage_flow_compact",
        lambda env: env["crm.stage.flow"]._cron_compact(),
    )


@measure("job: compact the pipeline-as-of sums")
def compact_pipeline(bench):
    return _job(
        bench,
        "sales_funnel.ir_cron_pipeline_sums_compact",
        lambda env: env["crm.funnel.pipeline.report"]._cron_compact(),
    )


@measure("job: compact the kanban sums")
def compact_kanban(bench):
    return _job(
        bench,
        "sales_funnel.ir_cron_kanban_sums_compact",
        lambda env: env["crm.lead"]._cron_compact_kanban_sums(),
    )
