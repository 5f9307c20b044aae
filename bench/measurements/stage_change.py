"""One stage change through the real gate, timed and counted in SQL queries.

An opportunity of the salesperson in the first stage moves to the second one
(its required criteria ticked first, in SQL), in a savepoint rolled back after
each run: ``write`` + flush + the pre-commit tracking; the kanban drop is the
web client's ``web_save`` with the card's specification.
"""

import time

from harness import measure
from webclient import Kanban


class StageChange:
    """One opportunity of the salesperson in the first stage, moved to the
    second one, in a savepoint rolled back after each run."""

    def __init__(self, bench, extra_criteria=0):
        self.bench = bench
        self.extra = extra_criteria
        env = bench.user
        first, second = bench.open_stages[:2]
        self.target = second
        bench.cr.execute(
            """
            SELECT id FROM crm_lead
             WHERE user_id = %s AND stage_id = %s AND active
             ORDER BY id LIMIT 1
            """,
            [env.uid, first.id],
        )
        self.lead_id = bench.cr.fetchone()[0]

    def prepare(self):
        """Inside the savepoint: every required criterion of the stage ticked."""
        cr, env = self.bench.cr, self.bench.admin
        lead = env["crm.lead"].browse(self.lead_id)
        lead._ensure_checklist()
        env.flush_all()
        if self.extra:
            cr.execute(
                """
                WITH new AS (
                    INSERT INTO crm_stage_criterion (name, stage_id, sequence,
                                                     required, active,
                                                     evidence_type)
                    SELECT jsonb_build_object('en_US', 'Bench criterion ' || g),
                           %(stage)s, 100 + g, TRUE, TRUE, 'none'
                      FROM generate_series(1, %(n)s) g
                    RETURNING id, stage_id
                )
                INSERT INTO crm_lead_criterion (lead_id, criterion_id, stage_id,
                                                active, in_current_stage, done)
                SELECT %(lead)s, new.id, new.stage_id, TRUE, TRUE, TRUE FROM new
                """,
                {"stage": lead.stage_id.id, "n": self.extra, "lead": lead.id},
            )
        cr.execute(
            "UPDATE crm_lead_criterion SET done = TRUE WHERE lead_id = %s",
            [self.lead_id],
        )
        self.bench.invalidate()

    def run(self, action):
        """Time and count the queries of ``action(lead)`` (+ flush, precommit)."""
        cr = self.bench.cr
        cr.execute("SAVEPOINT bench_stage_change")
        try:
            self.prepare()
            lead = self.bench.user["crm.lead"].browse(self.lead_id)
            count = cr.sql_log_count
            start = time.perf_counter()
            action(lead)
            lead.env.flush_all()
            cr.precommit.run()
            elapsed = time.perf_counter() - start
            queries = cr.sql_log_count - count
            if lead.stage_id != self.target:
                raise RuntimeError("the stage change did not happen")
        finally:
            self.bench.invalidate()
            cr.precommit.clear()
            cr.postcommit.clear()
            cr.execute("ROLLBACK TO SAVEPOINT bench_stage_change")
        return elapsed, queries


def stage_write(lead, target):
    lead.write({"stage_id": target.id})


def stock_write(lead, target):
    from odoo.addons.sales_funnel.models.crm_lead import CrmLead

    # The write of the modules below sales_funnel (crm, mail...): no gate,
    # no history, no checklist; the rest of the addon (computes) still runs.
    super(CrmLead, lead).write({"stage_id": target.id})


def kanban_drop(lead, target):
    spec = Kanban.get(lead.env, stock=False)[0]
    lead.web_save({"stage_id": target.id}, spec)


def stage_change(extra=0, action=stage_write):
    def run(bench):
        change = StageChange(bench, extra)
        return change.run(lambda lead: action(lead, change.target))

    return run


measure(
    "stage change: write (gate+history+tracking)",
    baseline=stage_change(action=stock_write),
    baseline_name="write w/o sales_funnel.write",
)(stage_change())
measure(
    "stage change: kanban drop (web_save + card)",
    baseline=stage_change(action=stock_write),
    baseline_name="write w/o sales_funnel.write",
)(stage_change(action=kanban_drop))
measure(
    "stage change: write, +50 required criteria",
    baseline=stage_change(),
    baseline_name="same, stage's own criteria",
)(stage_change(extra=50))
