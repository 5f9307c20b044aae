"""The benchmark runs on main: ``bench/smoke.py`` at 2,000 opportunities.

The generator must fill every required column of the tables it writes (a new
required field once broke it) and every measurement of ``bench/run.py`` must
run (no error, no ``n/a``). The figures are not judged.

Under bin/test the smoke runs on bin/test's own database (``--odoo-database``:
sales_funnel installed without demo data by its first step), in a transaction
that is rolled back. Without it, it installs sales_funnel on a scratch database
(SALES_FUNNEL_BENCH_DB, default sales_funnel_bench_smoke) and drops it.
"""

import os

import pytest

pytestmark = pytest.mark.slow


def _option(config, name):
    try:
        return config.getoption(name)
    except ValueError:  # pytest-odoo not loaded
        return None


def test_bench_smoke_runs_every_measurement(request, python, run):
    database = _option(request.config, "--odoo-database")
    config = _option(request.config, "--odoo-config")
    cmd = [python, "bench/smoke.py", "--size", "2000"]
    if config:
        cmd += ["-c", config]
    if database:
        cmd += ["--db", database]
    else:
        cmd += [
            "--db",
            os.environ.get("SALES_FUNNEL_BENCH_DB", "sales_funnel_bench_smoke"),
            "--create",
        ]
    result = run(cmd, timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "bench smoke OK" in result.stdout, output
    assert "n/a" not in result.stdout, output
