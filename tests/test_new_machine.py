"""The README's two commands on a machine that has never run them.

The ``demo_db`` fixture (conftest) gives both commands a PostgreSQL cluster of
their own with no role for the user, as on a fresh Debian install; the demo
served from it must survive Odoo's own reload.
"""

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("command", ["bin/test", "bin/serve-demo"])
def test_command_creates_the_missing_role_and_goes_on(demo_db, command):
    _name, _env, results = demo_db
    result = results[command]
    assert result.returncode == 0, result.stdout + result.stderr
    assert "creating PostgreSQL superuser role" in result.stdout
    if command == "bin/test":
        assert results["role after bin/test"]
        assert "set-up done" in result.stdout
    else:
        assert "is ready" in result.stdout


@pytest.mark.parametrize("command", ["bin/test", "bin/serve-demo"])
def test_unreachable_postgres_is_one_clear_line(command, commands, run):
    port = commands.free_port()  # nothing listens there
    result = run(
        [command, "--setup-only"],
        env={"PGHOST": "127.0.0.1", "PGPORT": str(port)},
        timeout=600,
    )
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("sales_funnel: PostgreSQL at PGHOST=127.0.0.1")


def test_served_demo_survives_a_reload(demo_db, commands):
    """SIGHUP (or a thread past its real-time limit) makes Odoo re-execute
    itself: the server must come back, not die on an ImportError."""
    name, env, _results = demo_db
    port = commands.free_port()
    server = subprocess.Popen(
        ["bin/serve-demo", "--db", name, "--port", str(port)],
        cwd=REPO,
        env=dict(os.environ, **env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = []
    reader = threading.Thread(target=lambda: output.extend(server.stdout))
    reader.start()
    try:
        assert commands.wait_http(port, pid=server.pid, timeout=900), "".join(output)
        server.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 120
        while "Initiating server reload" not in "".join(output):
            assert server.poll() is None, "".join(output)
            assert time.monotonic() < deadline, "no reload logged:\n" + "".join(output)
            time.sleep(0.5)
        # The same process (Odoo re-executes itself in place) answers again.
        assert commands.wait_http(port, pid=server.pid, timeout=300), "".join(output)
        assert server.poll() is None
        text = "".join(output)
        assert "ImportError" not in text, text
        assert text.count("HTTP service (werkzeug) running") >= 2, text
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
        reader.join(timeout=10)
