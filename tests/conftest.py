"""Fixtures of the repository-level checks (plain pytest, no Odoo test case)."""

import importlib.util
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def commands():
    """tools/commands.py, the module behind bin/serve-demo and bin/test."""
    spec = importlib.util.spec_from_file_location(
        "sales_funnel_commands", REPO / "tools" / "commands.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session", autouse=True)
def load_registry():
    """Override pytest-odoo's autouse fixture: these checks need no registry.

    So ``pytest tests`` also runs without ``--odoo-database``.
    """
    yield


@pytest.fixture(scope="session")
def repo():
    return REPO


@pytest.fixture(scope="session")
def python():
    """The interpreter that imports Odoo (the one bin/test was given)."""
    return os.environ.get("SALES_FUNNEL_PYTHON", "python3")


def run_command(cmd, env=None, timeout=120):
    """Run a command from the repository root, stdin closed, output captured."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [str(part) for part in cmd],
        cwd=REPO,
        env=full_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def run():
    """Run a command from the repository root, stdin closed, output captured."""
    return run_command


@pytest.fixture(scope="session")
def new_machine_postgres(commands):
    """A PostgreSQL cluster of its own that has never seen the current user.

    As on a fresh Debian install: PostgreSQL runs, but there is no role for
    whoever runs the commands. Made with Debian's pg_createcluster on a free
    port (root, or passwordless sudo), stopped and removed afterwards. Yields
    the environment that points libpq (and so the commands) at it.
    """
    import shutil

    if not shutil.which("pg_createcluster"):
        pytest.fail("Debian's postgresql-common is needed (apt-get install postgresql)")
    versions = sorted(
        (p.name for p in Path("/usr/lib/postgresql").iterdir() if p.name[0].isdigit()),
        key=float,
    )
    version, name = versions[-1], f"sf_scratch_{os.getpid()}"
    port = str(commands.free_port())
    create = commands.as_root(["pg_createcluster", version, name, "-p", port])
    subprocess.run(create, check=True, capture_output=True, stdin=subprocess.DEVNULL)
    try:
        subprocess.run(
            commands.as_root(["pg_ctlcluster", version, name, "start"]),
            check=True,
            capture_output=True,
            stdin=subprocess.DEVNULL,
        )
        env = {"PGPORT": port, "PGHOST": "/var/run/postgresql"}
        yield env
    finally:
        subprocess.run(
            commands.as_root(["pg_dropcluster", "--stop", version, name]),
            check=False,
            capture_output=True,
            stdin=subprocess.DEVNULL,
        )


def _role_exists(env, role):
    """Whether ``role`` exists on the cluster of ``env`` (asked as postgres)."""
    import shutil

    query = f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'"
    cmd = ["psql", "-tAc", query, "postgres"]
    runner = ["runuser", "-u", "postgres", "--"] if shutil.which("runuser") else []
    result = subprocess.run(
        runner + cmd,
        env=dict(os.environ, **env),
        capture_output=True,
        text=True,
        check=True,
        stdin=subprocess.DEVNULL,
        cwd="/",
    )
    return result.stdout.strip() == "1"


@pytest.fixture(scope="session")
def demo_db(new_machine_postgres):
    """The README's commands on a PostgreSQL that has never seen the user.

    ``bin/test --setup-only`` then (role dropped again) ``bin/serve-demo
    --init-only`` on a scratch database: each must create the role and go
    on. Yields (database name, libpq environment, {command: its result}).
    """
    import getpass

    env = new_machine_postgres
    role = os.environ.get("PGUSER") or getpass.getuser()
    name = os.environ.get("SALES_FUNNEL_SCRATCH_DB", "sales_funnel_scratch")
    results = {}
    assert not _role_exists(env, role), "the scratch cluster should not know us"
    results["bin/test"] = run_command(
        ["bin/test", "--setup-only"], env=env, timeout=1800
    )
    results["role after bin/test"] = _role_exists(env, role)
    subprocess.run(
        ["runuser", "-u", "postgres", "--", "dropuser", role],
        env=dict(os.environ, **env),
        check=True,
        stdin=subprocess.DEVNULL,
        cwd="/",
    )
    results["bin/serve-demo"] = run_command(
        ["bin/serve-demo", "--init-only", "--db", name], env=env, timeout=1800
    )
    return name, env, results
