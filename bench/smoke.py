#!/usr/bin/env python3
"""Smoke run of the benchmark: generate a small data set, run every measurement once.

Usage (a database where sales_funnel is installed, e.g. bin/test's after its
first step):

    python3 bench/smoke.py -c var/test.conf --db sales_funnel_test --size 2000

or, on a database it creates (installs sales_funnel without demo data first,
drops it at the end):

    python3 bench/smoke.py --db h_smoke --create --size 2000

It runs :func:`generate.generate` (``--size`` opportunities) and every
measurement of ``run.py`` (``measurements/``) once (one warm-up run, one
measured run, the same for the baseline) in ONE transaction that is rolled
back: the database is left as it was found (``--keep`` commits the data
instead). The exit status is 1 when the generator fails, or when a measurement
fails (a measurement that no longer runs on main) or does not run; the figures
themselves are not judged. Takes about 20 s at 2,000 opportunities on 2 cores
(without the installation of ``--create``).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))


def _commands():
    """tools/commands.py, the module behind bin/test and bin/serve-demo."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "sales_funnel_commands", REPO / "tools" / "commands.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def addons_path():
    """The addons path of bin/test and bin/serve-demo."""
    return _commands().addons_path(REPO)


def odoo_args(args):
    if args.config:
        return ["-c", args.config]
    return ["--addons-path", addons_path()]


def create_database(args):
    """Drop ``--db`` and install sales_funnel on it, without demo data."""
    started = time.time()
    drop_database(args)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "odoo",
            *odoo_args(args),
            "-d",
            args.db,
            "-i",
            "sales_funnel",
            "--without-demo=all",
            "--stop-after-init",
            "--log-level=warn",
        ],
        # Not the repository: python -m puts the working directory on sys.path.
        cwd=tempfile.gettempdir(),
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if result.returncode:
        raise SystemExit(f"installing sales_funnel on {args.db} failed")
    print(f"installed sales_funnel on {args.db} in {time.time() - started:.0f} s")


def drop_database(args):
    """Drop ``--db`` and its filestore (under the configuration's data_dir)."""
    import shutil

    import odoo

    _commands().db_drop(args.db)
    shutil.rmtree(
        os.path.join(odoo.tools.config["data_dir"], "filestore", args.db),
        ignore_errors=True,
    )


def smoke(args):
    """Generate and measure in one transaction; return the failures."""
    import generate
    import measurements  # noqa: F401 (registers the measurements)
    from harness import HEADER, MEASUREMENTS, Bench, run_all

    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry

    registry = Registry(args.db)
    failures = []
    with registry.cursor() as cr:
        cr.execute(
            "SELECT state FROM ir_module_module WHERE name = 'sales_funnel'",
        )
        state = (cr.fetchone() or ["absent"])[0]
        if state != "installed":
            return [f"sales_funnel is not installed on {args.db} ({state})"]
        started = time.time()
        env = api.Environment(cr, SUPERUSER_ID, {})
        try:
            generate.generate(env, args.size, commit=False)
        except (Exception, SystemExit) as error:  # noqa: BLE001 (reported)
            traceback.print_exc()
            cr.rollback()
            return [f"generator: {error}"]
        print(f"generated {args.size} opportunities in {time.time() - started:.1f} s")
        started = time.time()
        bench = Bench(cr, "bench_sp_01")
        print(HEADER)
        results = run_all(bench, 1)
        print(f"measured in {time.time() - started:.1f} s")
        names = {result.name for result in results}
        failures += [
            f"{result.name}: {result.note}" for result in results if result.note
        ]
        failures += [
            f"{item.name}: did not run"
            for item in MEASUREMENTS
            if item.name not in names
        ]
        if args.keep and not failures:
            cr.commit()
        else:
            cr.rollback()
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db", "-d", required=True, help="database with sales_funnel installed"
    )
    parser.add_argument(
        "--size", "-n", type=int, default=2000, help="opportunities to generate"
    )
    parser.add_argument(
        "--config",
        "-c",
        help="Odoo configuration file (default: the addons path of bin/test)",
    )
    parser.add_argument(
        "--create",
        action="store_true",
        help="(re)create --db first with sales_funnel installed without demo "
        "data, and drop it at the end",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="commit the generated data (and keep the --create database)",
    )
    args = parser.parse_args()
    started = time.time()
    import odoo

    odoo.tools.config.parse_config(
        [*odoo_args(args), "-d", args.db, "--log-level=warn"]
    )
    if args.create:
        create_database(args)
    smoke_started = time.time()
    try:
        failures = smoke(args)
    finally:
        if args.create and not args.keep:
            import odoo.sql_db

            odoo.sql_db.close_all()
            drop_database(args)
    elapsed = time.time() - smoke_started
    if failures:
        print(f"bench smoke FAILED on {args.db} ({elapsed:.0f} s):", file=sys.stderr)
        for failure in failures:
            print(f"  {failure}", file=sys.stderr)
        return 1
    print(
        f"bench smoke OK on {args.db}: {args.size} opportunities, every measurement "
        f"ran ({elapsed:.0f} s; {time.time() - started:.0f} s in all)"
    )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PGAPPNAME", "sales_funnel_bench_smoke")
    sys.exit(main())
