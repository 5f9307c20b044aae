#!/usr/bin/env python3
"""What must hold after the load test (loadtest.py runs it; or by hand:
``python3 bench/replica/check.py --db lr_small``, the cluster still up).

- no request failed (Locust's failures), and no deadlock or serialization
  error surfaced in Odoo's log (Odoo retries those: the retries are counted,
  only one that gave up is an error); no ERROR or traceback in the log;
- the funnel sums (crm_funnel_delta), the kanban's, the dashboard's grades
  and the lead conversion equal a full recount from crm_lead, the stage flow
  (crm_stage_flow_delta) and the pipeline as of a date (its sums, and those
  by expected closing month) a full recount from the history;
- no deal has two orders or two contracts;
- the worker processes stayed under Odoo's default memory limits (virtual
  size under limit_memory_soft, as Odoo measures it);
- the replica answered read-only transactions and replayed the primary.
"""

import argparse
import csv
import json
import re
import sys
from pathlib import Path

import psycopg2

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cluster  # noqa: E402

LIMIT_MEMORY_SOFT_MB = 2048  # Odoo 18's default (--limit-memory-soft)
LIMIT_MEMORY_HARD_MB = 2560
SURFACED = re.compile(
    r"deadlock detected|could not serialize|SerializationFailure|"
    r"concurrent update|LockNotAvailable|lock_not_available",
    re.I,
)
# odoo/service/model.py retrying(): "SERIALIZATION_FAILURE, 4 tries left,
# try again in 0.8 sec..." (INFO); "…, maximum number of tries reached!" when
# it gives up and the request fails.
RETRY = re.compile(
    r"(SERIALIZATION_FAILURE|DEADLOCK_DETECTED|LOCK_NOT_AVAILABLE), "
    r"\d+ tries left, try again"
)
GAVE_UP = re.compile(r"maximum number of tries reached")
# A guard of the addon that turns a lost race into a retry of the request
# (crm.lead.loss.report.create: a second open report for the deal).
RETRIED_GUARD = re.compile(
    r'violates unique constraint "crm_lead_loss_report_open_uniq"'
)
# "2026-12-01 10:00:00,123 4242 ERROR db logger: message"
RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (\d+) (\w+) ")


def sums_mismatches(cr, delta, recount_source):
    """Rows of the kept sums and of the recount that differ (both ways)."""
    group, sums = delta.group, delta.sums
    # Rounded: the history's day counts are floats, summed in another order.
    totals = ", ".join(f"round(sum({name})::numeric, 4) AS {name}" for name in sums)
    nonzero = " OR ".join(f"sum({name}) <> 0" for name in sums)
    kept = (
        f"SELECT {group}, {totals} FROM {delta.table} GROUP BY {group} HAVING {nonzero}"
    )
    recount = (
        f"SELECT {group}, {totals} FROM ({recount_source}) AS rows"
        f" GROUP BY {group} HAVING {nonzero}"
    )
    cr.execute(
        f"SELECT count(*) FROM (({kept}) EXCEPT ({recount})) a"
        f" UNION ALL SELECT count(*) FROM (({recount}) EXCEPT ({kept})) b"
        f" UNION ALL SELECT count(*) FROM ({recount}) c"
    )
    only_kept, only_recount, groups = (row[0] for row in cr.fetchall())
    return only_kept + only_recount, groups


# The kept spans' columns in the order of the recount (crm_funnel_pipeline_sums._spans).
SPAN_COLUMNS = (
    "lead_id, date_from, date_to, company_id, team_id, owner_id, user_id,"
    " stage_id, state, amount, weighted, win_rate, date_stage, deadline_month"
)


def pipeline_mismatches(cr):
    """The kept spans of Pipeline as of a date against a recount from the
    history and the tracked values, and their movements against the kept
    sums of every level, of both tables (the second by deadline month):
    (rows that differ, spans, groups)."""
    from odoo.addons.sales_funnel.report import crm_funnel_pipeline_sums as kept

    recount = kept._spans(among="IS NOT NULL")
    cr.execute(
        f"""
        DROP TABLE IF EXISTS check_spans;
        CREATE TEMP TABLE check_spans ON COMMIT DROP AS {recount};
        SELECT (SELECT count(*) FROM (TABLE check_spans EXCEPT ALL
                                      SELECT {SPAN_COLUMNS} FROM {kept.SPAN}) a)
             + (SELECT count(*) FROM (SELECT {SPAN_COLUMNS} FROM {kept.SPAN}
                                      EXCEPT ALL TABLE check_spans) b),
               (SELECT count(*) FROM check_spans)
        """
    )
    spans_differ, spans = cr.fetchone()
    sums_differ = groups = 0
    for delta, levels in (
        (kept.DELTAS, kept._LEVELS),
        (kept.DEADLINE_DELTAS, kept._DEADLINE_LEVELS),
    ):
        moves = kept._level_moves(kept._moves(kept.SPAN, 1), levels)
        one_differ, one_groups = sums_mismatches(cr, delta, moves)
        sums_differ, groups = sums_differ + one_differ, groups + one_groups
    return spans_differ, spans, sums_differ, groups


def lead_sums_mismatches(cr):
    """The other sums kept from crm_lead (the kanban's columns, the
    dashboard's grades, the lead conversion) against a recount from it:
    (groups that differ, groups)."""
    from odoo.addons.sales_funnel.report import (
        crm_funnel_grade_sums,
        crm_lead_conversion_sums,
        crm_lead_kanban_sums,
    )

    kept = [
        (crm_lead_kanban_sums.DELTAS, crm_lead_kanban_sums._lead_rows(1, "crm_lead")),
        (crm_funnel_grade_sums.DELTAS, crm_funnel_grade_sums._open_rows(1, "crm_lead")),
    ] + [
        (delta, crm_lead_conversion_sums._ROWS_OF[delta](1, "crm_lead"))
        for delta in crm_lead_conversion_sums._KEPT
    ]
    differ = groups = 0
    for delta, rows in kept:
        one_differ, one_groups = sums_mismatches(cr, delta, rows)
        differ, groups = differ + one_differ, groups + one_groups
    return differ, groups


def check_sums(cr):
    from odoo.addons.sales_funnel.report import crm_funnel_summary, crm_stage_flow

    funnel, funnel_groups = sums_mismatches(
        cr, crm_funnel_summary.DELTAS, crm_funnel_summary._lead_rows(1, "crm_lead")
    )
    lead_sums, lead_groups = lead_sums_mismatches(cr)
    flow, flow_groups = sums_mismatches(
        cr,
        crm_stage_flow.DELTAS,
        crm_stage_flow._flow_rows(1, crm_stage_flow._HISTORY),
    )
    spans_differ, spans, pipeline_differ, pipeline_groups = pipeline_mismatches(cr)
    return {
        "pipeline as of a date = recount from the history": (
            spans_differ == 0 and pipeline_differ == 0,
            f"{spans_differ} span(s) differ of {spans}, {pipeline_differ} group(s)"
            f" of the kept sums differ of {pipeline_groups}",
        ),
        "funnel sums = recount from crm_lead": (
            funnel == 0,
            f"{funnel} group(s) differ of {funnel_groups}",
        ),
        "kanban, grade and lead-conversion sums = recount from crm_lead": (
            lead_sums == 0,
            f"{lead_sums} group(s) differ of {lead_groups}",
        ),
        "stage flow = recount from the history": (
            flow == 0,
            f"{flow} group(s) differ of {flow_groups}",
        ),
    }


def check_documents(cr):
    cr.execute(
        """SELECT count(*) FROM (
               SELECT sales_funnel_handoff_lead_id FROM sale_order
                WHERE sales_funnel_handoff_lead_id IS NOT NULL AND state <> 'cancel'
                GROUP BY 1 HAVING count(*) > 1) o"""
    )
    orders = cr.fetchone()[0]
    cr.execute(
        """SELECT count(*) FROM (
               SELECT sales_funnel_handoff_lead_id FROM contract_contract
                WHERE sales_funnel_handoff_lead_id IS NOT NULL AND active
                GROUP BY 1 HAVING count(*) > 1) c"""
    )
    contracts = cr.fetchone()[0]
    cr.execute(
        "SELECT count(*) FROM sale_order WHERE sales_funnel_handoff_lead_id IS NOT NULL"
    )
    handed = cr.fetchone()[0]
    cr.execute(
        "SELECT status, count(*) FROM crm_lead_handoff_attempt GROUP BY 1 ORDER BY 1"
    )
    attempts = ", ".join(
        f"{count} with status {status}" for status, count in cr.fetchall()
    )
    return {
        "no deal with two orders or two contracts": (
            orders == 0 and contracts == 0,
            f"{orders} deal(s) with two orders, {contracts} with two contracts;"
            f" {handed} hand-off order(s) in all; attempts: {attempts or 'none'}",
        )
    }


def log_records(text):
    """(pid, level, text) of each record; a record's continuation lines
    (the SQL error under "bad query", a traceback) belong to it."""
    records = []
    for line in text.splitlines():
        head = RECORD.match(line)
        if head:
            records.append([head.group(1), head.group(2), line])
        elif records:
            records[-1][2] += "\n" + line
        else:
            records.append(["", "", line])
    return records


def check_log(log_path):
    """Odoo logs the failed statement of a concurrency error at ERROR ("bad
    query") before retrying the request: such a record followed by that
    process's retry line is a retry, not an error (so is a guard's unique
    violation the addon turns into a retry, RETRIED_GUARD). One without its
    retry, or a retry that gave up, surfaced."""
    errors, surfaced, retries = [], 0, 0
    pending = {}  # pid -> concurrency errors awaiting their retry line
    text = Path(log_path).read_text(errors="replace")
    for pid, level, record in log_records(text):
        if RETRY.search(record):
            retries += 1
            if pending.get(pid):
                pending[pid].pop(0)
            continue
        if GAVE_UP.search(record):
            surfaced += 1
            errors.append(record[:300])
            continue
        if level in ("ERROR", "CRITICAL") or record.startswith("Traceback"):
            if "bad query" in record and (
                SURFACED.search(record) or RETRIED_GUARD.search(record)
            ):
                pending.setdefault(pid, []).append(record[:300])
                continue
            errors.append(record[:300])
            if SURFACED.search(record):
                surfaced += 1
        elif level == "WARNING" and SURFACED.search(record):
            surfaced += 1
            errors.append(record[:300])
    for unanswered in pending.values():
        surfaced += sum(1 for record in unanswered if SURFACED.search(record))
        errors.extend(unanswered)
    return {
        "no deadlock or serialization error surfaced": (
            surfaced == 0,
            f"{surfaced} surfaced; {retries} retried by Odoo",
        ),
        "no ERROR in Odoo's log": (not errors, "; ".join(errors[:3]) or "none"),
    }, retries


def check_locust(stats_csv):
    requests = failures = refused = 0
    with open(stats_csv, newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] == "Aggregated":
                continue
            if row["Type"] == "REFUSED":
                refused += int(row["Request Count"])
                continue
            requests += int(row["Request Count"])
            failures += int(row["Failure Count"])
    return {
        "no request failed": (
            failures == 0 and requests > 0,
            f"{failures} failed of {requests} ({refused} refused by the gate or a"
            " missing document)",
        )
    }


def check_memory(samples):
    vms = max((s["vms_mb"] for s in samples), default=0)
    rss = max((s["rss_mb"] for s in samples), default=0)
    return {
        "workers under Odoo's memory limits": (
            vms < LIMIT_MEMORY_SOFT_MB,
            f"largest worker: {vms:.0f} MB virtual (soft limit {LIMIT_MEMORY_SOFT_MB}),"
            f" {rss:.0f} MB resident",
        )
    }


def check_replica(state):
    port = state.get("replica_port")
    if not port:
        return {}
    with (
        psycopg2.connect(
            host=cluster.HOST, port=port, user="postgres", dbname=state["db"]
        ) as conn,
        conn.cursor() as cr,
    ):
        cr.execute("SELECT pg_is_in_recovery()")
        standby = cr.fetchone()[0]
        cr.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database"
            " WHERE datname = current_database()"
        )
        transactions = cr.fetchone()[0]
    with (
        psycopg2.connect(
            host=cluster.HOST, port=state["pg_port"], user="postgres", dbname="postgres"
        ) as conn,
        conn.cursor() as cr,
    ):
        cr.execute("SELECT state, replay_lag FROM pg_stat_replication")
        replication = cr.fetchall()
    return {
        "the replica served reads": (
            standby and transactions > 0 and bool(replication),
            f"hot standby: {standby}, {transactions} transaction(s) on it,"
            f" replication {replication[0][0] if replication else 'absent'}",
        )
    }


def preload():
    """Import what the checks read with (Odoo, the addon: seconds of imports);
    loadtest.py does it while the database is copied."""
    import odoo

    commands = cluster._commands()
    odoo.tools.config.parse_config(
        ["--addons-path", commands.addons_path(cluster.REPO)]
    )
    from odoo.addons.sales_funnel.report import (  # noqa: F401
        crm_funnel_grade_sums,
        crm_funnel_pipeline_sums,
        crm_funnel_summary,
        crm_lead_conversion_sums,
        crm_lead_kanban_sums,
        crm_stage_flow,
    )


def run_checks(state, stats_csv=None, memory=()):
    preload()
    results = {}
    if stats_csv:
        results.update(check_locust(stats_csv))
    log_results, _retries = check_log(Path(state["base"]) / "odoo.log")
    results.update(log_results)
    with (
        psycopg2.connect(
            host=cluster.HOST,
            port=state["pg_port"],
            user=state.get("db_user", "postgres"),
            dbname=state["db"],
        ) as conn,
        conn.cursor() as cr,
    ):
        results.update(check_sums(cr))
        results.update(check_documents(cr))
    if memory:
        results.update(check_memory(memory))
    results.update(check_replica(state))
    return results


def report(results):
    ok = True
    for name, (passed, detail) in results.items():
        ok &= bool(passed)
        print(f"{'PASS' if passed else 'FAIL'}  {name}: {detail}")
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--base")
    parser.add_argument("--stats-csv")
    args = parser.parse_args()
    state = cluster.load_state(cluster.base_dir(args))
    if not state:
        raise SystemExit("no cluster state: start it with cluster.py")
    memory = []
    memory_file = Path(state["base"]) / "memory.json"
    if memory_file.exists():
        memory = json.loads(memory_file.read_text())
    sys.exit(0 if report(run_checks(state, args.stats_csv, memory)) else 1)


if __name__ == "__main__":
    main()
