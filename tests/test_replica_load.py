"""The load test in short (bench/replica/loadtest.py): a copy of bin/test's
database with 2,000 generated opportunities on a primary cluster of its own, a
streaming replica, Odoo with two workers reading from it, six Locust users
(salespeople, a manager, a secretary) for 40 s. Fails on any failed request,
a deadlock or serialization error that surfaced, a funnel sum or stage flow
that differs from a recount, a deal with two orders or contracts, a worker
over Odoo's memory limits. Everything listens on 127.0.0.1 only and is
stopped and removed at the end.
"""

import os
import shutil
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _option(config, name):
    try:
        return config.getoption(name)
    except ValueError:  # pytest-odoo not loaded
        return None


def _free_ports(count):
    sockets = []
    try:
        for _i in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _free_pg_port():
    """A port for the primary whose next one (the replica's) is free too."""
    for port in range(55432, 55532, 2):
        if all(
            socket.socket().connect_ex(("127.0.0.1", candidate)) != 0
            for candidate in (port, port + 1)
        ):
            return port
    raise AssertionError("no free port pair for the clusters")


def test_load_on_workers_and_a_replica(request, python, run):
    source = _option(request.config, "--odoo-database") or os.environ.get(
        "SALES_FUNNEL_TEST_DB"
    )
    if not source:
        pytest.fail("needs a database with sales_funnel installed (bin/test gives it)")
    if not shutil.which("runuser") or os.geteuid() != 0:
        pytest.fail("the clusters are made as the postgres system user: run as root")
    http_port, gevent_port = _free_ports(2)
    database = f"{source}_load"[:60]
    cmd = [
        python,
        "bench/replica/loadtest.py",
        "--source-db",
        source,
        # bin/test's data_dir (var/test.conf): the source database's filestore.
        "--source-data-dir",
        str(REPO / "var" / "data"),
        "--db",
        database,
        "--leads",
        "2000",
        "--users",
        "6",
        "--run-time",
        "40s",
        # and each screen once in headless Chromium (bench/browser.py)
        "--browser-runs",
        "1",
        "--workers",
        "2",
        "--http-port",
        http_port,
        "--gevent-port",
        gevent_port,
        "--pg-port",
        _free_pg_port(),
    ]
    result = run(cmd, timeout=900)
    output = result.stdout + result.stderr
    # The checks' verdicts first: Locust's and Odoo's logs are long.
    verdicts = "\n".join(
        line
        for line in result.stdout.splitlines()
        if line.startswith(("PASS ", "FAIL ", "load test"))
    )
    message = verdicts + "\n\n" + output[-4000:]
    assert result.returncode == 0, message
    assert "load test OK" in result.stdout, message
    assert "FAIL " not in result.stdout, message
