"""The benchmark's harness: registration, timing, memory, printing, command line.

A measurement is a function ``func(bench)`` registered with :func:`measure`
(the groups of ``measurements/``). :func:`run_all` runs each one ``runs``
times after one warm-up run, with the record cache emptied before each run as
a new request finds it, and its baseline the same way, in a savepoint rolled
back after the pair; :func:`print_row` prints one line per measurement. A
function may return ``(elapsed, queries)`` when it times only part of its work
(the stage change times the write, not the preparation).
"""

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import odoo
from odoo import api, fields
from odoo.modules.registry import Registry


@dataclass
class Result:
    name: str
    times: list = field(default_factory=list)
    queries: int | None = None
    baseline: "Result | None" = None
    note: str = ""
    peak_mb: float | None = None
    start_mb: float | None = None


@dataclass
class Measurement:
    name: str
    func: Callable
    baseline: Callable | None = None
    baseline_name: str = ""
    runs: int | None = None  # None: --runs
    memory: bool = False  # also the peak RSS of the process


MEASUREMENTS: list[Measurement] = []


def measure(name, baseline=None, baseline_name="", runs=None, memory=False):
    """Register a measurement ``func(bench) -> None`` (and its baseline)."""

    def decorator(func):
        MEASUREMENTS.append(
            Measurement(name, func, baseline, baseline_name, runs, memory)
        )
        return func

    return decorator


class Bench:
    """What measurements need: environments, the data's key records."""

    def __init__(self, cr, as_user):
        self.cr = cr
        self.admin = api.Environment(cr, 2, {"lang": "en_US", "tz": "UTC"})
        user = self.admin["res.users"].search([("login", "=", as_user)])
        if not user:
            raise SystemExit(f"no user {as_user!r}: run bench/generate.py first")
        self.user = self.admin(user=user.id)
        stages = self.admin["crm.stage"].search([("team_id", "=", False)])
        self.open_stages = stages.filtered(lambda s: not s.is_won)
        self.as_of = fields.Date.subtract(fields.Date.today(), days=90)

    def invalidate(self):
        self.admin.invalidate_all()

    def sql(self, query, params=None):
        self.cr.execute(query, params or {})
        return self.cr.fetchall()


# ----------------------------------------------------------------------
# Memory (Linux: /proc/self)
# ----------------------------------------------------------------------


def reset_peak_rss():
    """Reset the process's peak RSS (Linux: VmHWM := VmRSS)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _status_mb(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb():
    return _status_mb("VmHWM:")


def rss_mb():
    return _status_mb("VmRSS:")


# ----------------------------------------------------------------------
# Timing
# ----------------------------------------------------------------------


def timed(bench, func, runs, memory=False):
    result = Result(getattr(func, "__name__", "baseline"))
    for index in range(runs + 1):  # the first run warms up
        bench.invalidate()
        if memory:
            start_rss = rss_mb()
            reset_peak_rss()
        count = bench.cr.sql_log_count
        start = time.perf_counter()
        out = func(bench)
        elapsed = time.perf_counter() - start
        queries = bench.cr.sql_log_count - count
        if memory:
            peak = peak_rss_mb()
        if isinstance(out, tuple):  # (elapsed, queries) measured by the function
            elapsed, queries = out
        if index:
            result.times.append(elapsed)
            result.queries = queries
            if memory:
                result.peak_mb = max(result.peak_mb or 0, peak)
                result.start_mb = start_rss
    return result


def run_all(bench, runs, only=None, memory=False):
    """Run (and print) the registered measurements; return their results."""
    results = []
    for item in MEASUREMENTS:
        if only and not any(word in item.name for word in only):
            continue
        count = item.runs or runs
        track = memory or item.memory
        bench.cr.execute("SAVEPOINT bench_measurement")
        try:
            result = timed(bench, item.func, count, memory=track)
            result.name = item.name
            if item.baseline:
                result.baseline = timed(bench, item.baseline, count, memory=track)
                result.baseline.name = item.baseline_name
        except Exception as error:  # noqa: BLE001 (one row fails, not the run)
            result = Result(item.name, note=f"error: {error!r}"[:200])
        finally:
            bench.cr.execute("ROLLBACK TO SAVEPOINT bench_measurement")
            bench.invalidate()
        results.append(result)
        print_row(result)
    return results


# ----------------------------------------------------------------------
# Printing
# ----------------------------------------------------------------------

HEADER = (
    f"{'measurement':46} {'median':>9} {'min':>9} {'max':>9} {'q':>5}  "
    f"{'baseline':30} {'median':>9} {'q':>5} {'ratio':>6}"
)


def fmt_ms(values):
    return f"{statistics.median(values) * 1000:9.1f}" if values else " " * 9


def print_row(result):
    if result.note:
        print(f"{result.name:46} {result.note}", flush=True)
        return
    times = result.times
    queries = "" if result.queries is None else str(result.queries)
    line = (
        f"{result.name:46} {fmt_ms(times)} {min(times) * 1000:9.1f} "
        f"{max(times) * 1000:9.1f} {queries:>5}"
    )
    base = result.baseline
    if base:
        ratio = statistics.median(times) / statistics.median(base.times)
        base_q = "" if base.queries is None else str(base.queries)
        line += f"  {base.name:30} {fmt_ms(base.times)} {base_q:>5} {ratio:6.2f}"
    if result.peak_mb is not None:
        line += f"  peak RSS {result.peak_mb:.0f} MB (from {result.start_mb:.0f})"
        if base and base.peak_mb is not None:
            line += f"; baseline {base.peak_mb:.0f} MB (from {base.start_mb:.0f})"
    print(line, flush=True)


# ----------------------------------------------------------------------
# Command line (bench/run.py)
# ----------------------------------------------------------------------


def main(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--dbname", "-d", required=True)
    parser.add_argument("--config", "-c", help="Odoo configuration file")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--as-user", default="bench_sp_01", help="login of the salesperson"
    )
    parser.add_argument(
        "--only", nargs="*", help="run the measurements whose name contains a word"
    )
    args = parser.parse_args()
    odoo_args = ["-c", args.config] if args.config else []
    odoo.tools.config.parse_config([*odoo_args, "-d", args.dbname])
    registry = Registry(args.dbname)
    with registry.cursor() as cr:
        bench = Bench(cr, args.as_user)
        n_opps = bench.sql("SELECT count(*) FROM crm_lead WHERE type='opportunity'")
        n_hist = bench.sql("SELECT count(*) FROM crm_lead_stage_history")
        version = bench.sql("SHOW server_version")[0][0]
        print(
            f"database {args.dbname}: {n_opps[0][0]:,} opportunities, "
            f"{n_hist[0][0]:,} history rows; PostgreSQL {version}; "
            f"{args.runs} warm runs (median/min/max in ms, q = SQL queries); "
            f"salesperson {args.as_user}"
        )
        print(HEADER)
        run_all(bench, args.runs, args.only)
        cr.rollback()
    return 0
