#!/usr/bin/env python3
"""The load test, start to finish: replica and workers up, Locust, the checks,
everything stopped.

    # small (the repository test): a copy of an installed database + 2,000 deals
    python3 bench/replica/loadtest.py --source-db sales_funnel_test --db lr_small \
        --leads 2000 --users 6 --run-time 40s --workers 2

    # on the 1,000,000 benchmark database, against the single-process server too
    python3 bench/replica/loadtest.py --source-db bn_1m --db lr_1m \
        --users 30 --run-time 5m --workers 4
    python3 bench/replica/loadtest.py --source-db bn_1m --db lr_1m \
        --users 30 --run-time 5m --workers 0

Prints Locust's requests per second, median and 95th percentile per kind of
request, then the checks (check.py); exits 1 when a check fails. Locust runs
from a virtual environment of its own (``--venv``, made on first use from
bench/replica/requirements.txt): its gevent must not replace Odoo's.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import check  # noqa: E402
import cluster  # noqa: E402

DEFAULT_VENV = Path.home() / ".cache" / "sales_funnel" / "locust-venv"


def locust_executable(venv):
    locust = Path(venv) / "bin" / "locust"
    if not locust.exists():
        cluster.log(f"installing Locust in {venv}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [
                str(Path(venv) / "bin" / "pip"),
                "install",
                "--quiet",
                "-r",
                str(HERE / "requirements.txt"),
            ],
            check=True,
            stdin=subprocess.DEVNULL,
        )
    return locust


def _children(pid):
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def _memory_mb(pid):
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _sep, value = line.partition(":")
            if key in ("VmSize", "VmRSS", "VmHWM"):
                values[key] = int(value.split()[0]) / 1024
    except OSError:
        return None
    return values


class MemorySampler(threading.Thread):
    """Samples the Odoo processes' memory (the master and its workers)."""

    def __init__(self, pid, interval=1.0):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples = []
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            for pid in [self.pid, *_children(self.pid)]:
                memory = _memory_mb(pid)
                if memory:
                    self.samples.append(
                        {
                            "pid": pid,
                            "vms_mb": memory.get("VmSize", 0),
                            "rss_mb": max(
                                memory.get("VmRSS", 0), memory.get("VmHWM", 0)
                            ),
                        }
                    )
            self.done.wait(self.interval)


def print_stats(stats_csv):
    print(
        f"{'request':44} {'count':>7} {'fail':>5} {'req/s':>7} {'median':>7} {'p95':>7}"
    )
    with open(stats_csv, newline="") as handle:
        for row in csv.DictReader(handle):
            name = (
                row["Name"] if row["Type"] != "REFUSED" else f"refused: {row['Name']}"
            )
            print(
                f"{name[:44]:44} {row['Request Count']:>7} {row['Failure Count']:>5}"
                f" {float(row['Requests/s']):7.1f} {row['50%']:>7} {row['95%']:>7}"
            )


def start_browser(args):
    """bench/browser.py against the server of the load test, while the
    simulated users work: the screens as a user waits for them under load."""
    cluster.log("timing the screens in headless Chromium, under the load")
    return subprocess.Popen(
        [
            sys.executable,
            str(HERE.parent / "browser.py"),
            "--url",
            f"http://{cluster.HOST}:{args.http_port}",
            "--db",
            args.db,
            "--runs",
            str(args.browser_runs),
            "--warm-up",
            "0" if args.browser_runs == 1 else "1",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def browser_result(process):
    """(ok, detail) of the browser timings, printed."""
    stdout, stderr = process.communicate()
    print(stdout + stderr[-2000:], flush=True)
    # "<screen> FAILED: <why>", then what the page said, indented.
    failed = [
        line.strip()
        for line in stdout.splitlines()
        if " FAILED" in line or line.startswith("    ")
    ]
    if process.returncode == 0:
        return True, "all drawn"
    # Or it stopped before the screens: its exception, without the traceback.
    raised = [line for line in stderr.splitlines() if line and line[0] not in " \t"]
    return False, "not drawn: " + "; ".join(failed or raised[-3:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source-db", required=True)
    parser.add_argument(
        "--source-data-dir",
        help="Odoo's data_dir of the source database (its filestore; "
        "default: cluster.py's)",
    )
    parser.add_argument("--db", required=True)
    parser.add_argument(
        "--copy", choices=["auto", "physical", "logical"], default="auto"
    )
    parser.add_argument("--leads", type=int, default=0)
    parser.add_argument("--users", type=int, default=6)
    parser.add_argument("--spawn-rate", type=float, default=3)
    parser.add_argument("--run-time", default="40s")
    parser.add_argument("--salespeople", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--http-port", type=int, default=8285)
    parser.add_argument("--gevent-port", type=int)
    parser.add_argument("--pg-port", type=int, default=55432)
    parser.add_argument("--venv", default=str(DEFAULT_VENV))
    parser.add_argument("--keep", action="store_true", help="leave it running")
    parser.add_argument(
        "--browser-runs",
        type=int,
        default=0,
        help="time the screens in headless Chromium during the load"
        " (bench/browser.py) with this many runs; a screen not drawn fails",
    )
    args = parser.parse_args()

    locust = locust_executable(args.venv)
    start = [
        "start",
        "--source-db",
        args.source_db,
        "--db",
        args.db,
        "--copy",
        args.copy,
        "--leads",
        str(args.leads),
        "--workers",
        str(args.workers),
        "--http-port",
        str(args.http_port),
        "--pg-port",
        str(args.pg_port),
    ]
    if args.gevent_port:
        start += ["--gevent-port", str(args.gevent_port)]
    if args.source_data_dir:
        start += ["--source-data-dir", args.source_data_dir]
    preloaded = threading.Thread(target=check.preload, daemon=True)
    preloaded.start()
    cluster.main(start)
    base = cluster.base_dir(argparse.Namespace(base=None, db=args.db))
    state = cluster.load_state(base)
    ok = False
    browser = None
    try:
        sampler = MemorySampler(state["odoo_pid"])
        sampler.start()
        prefix = base / "locust"
        env = dict(
            os.environ,
            LOADTEST_DB=args.db,
            LOADTEST_SALESPEOPLE=str(args.salespeople),
        )
        started = time.time()
        browser = start_browser(args) if args.browser_runs else None
        subprocess.run(
            [
                str(locust),
                "-f",
                str(HERE / "locustfile.py"),
                "--headless",
                "--host",
                f"http://{cluster.HOST}:{args.http_port}",
                "-u",
                str(args.users),
                "-r",
                str(args.spawn_rate),
                "-t",
                args.run_time,
                "--csv",
                str(prefix),
                "--only-summary",
                "--stop-timeout",
                "15",
                "--exit-code-on-error",
                "0",
                "--loglevel",
                "WARNING",
            ],
            env=env,
            check=True,
            stdin=subprocess.DEVNULL,
            cwd=str(HERE),
        )
        sampler.done.set()
        sampler.join()
        (base / "memory.json").write_text(json.dumps(sampler.samples))
        # Let the replica replay the last writes, and the cron finish its batch.
        time.sleep(2)
        mode = (
            f"{args.workers} workers, read replica" if args.workers else "one process"
        )
        print(
            f"\nLocust: {args.users} users for {args.run_time} against Odoo ({mode}),"
            f" database {args.db} ({time.time() - started:.0f} s)"
        )
        stats_csv = f"{prefix}_stats.csv"
        print_stats(stats_csv)
        print()
        screens = browser_result(browser) if browser else None
        cluster.log("checking")
        preloaded.join()
        results = check.run_checks(state, stats_csv, sampler.samples)
        if screens is not None:
            results["every screen drawn in the browser"] = screens
        ok = check.report(results)
    finally:
        if browser and browser.poll() is None:
            browser.kill()
        if not args.keep:
            cluster.main(["stop", "--db", args.db])
    print("load test OK" if ok else "load test FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
