"""Fixtures of the repository-level checks (plain pytest, no Odoo test case)."""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


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


@pytest.fixture
def run():
    """Run a command from the repository root, stdin closed, output captured."""

    def _run(cmd, env=None, timeout=120):
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

    return _run
