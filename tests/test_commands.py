"""The two commands refuse to run without Odoo 18.0, in one clear line.

The commands honour SALES_FUNNEL_PYTHON; here it points at a wrapper that runs
python with ``-S -I`` (no site-packages, no .pth files, no PYTHONPATH), so
``import odoo`` fails exactly as on a machine without Odoo.
"""

import stat
import sys

import pytest

COMMANDS = ["bin/test", "bin/serve-demo"]


def _wrapper(tmp_path, flags, pythonpath=None):
    script = tmp_path / "fake-python"
    env = f'PYTHONPATH="{pythonpath}" ' if pythonpath else ""
    script.write_text(f'#!/bin/sh\n{env}exec "{sys.executable}" {flags} "$@"\n')
    script.chmod(0o755)
    return script


def _lines(result):
    return [line for line in (result.stdout + result.stderr).splitlines() if line]


@pytest.mark.parametrize("command", COMMANDS)
def test_command_without_odoo(command, tmp_path, run):
    fake = _wrapper(tmp_path, "-S -I")
    check = run([fake, "-c", "import odoo"])
    assert check.returncode != 0, "the wrapper should hide Odoo"

    result = run([command], env={"SALES_FUNNEL_PYTHON": str(fake)}, timeout=60)

    assert result.returncode != 0
    lines = _lines(result)
    assert len(lines) == 1, lines
    assert "Odoo 18.0 is not importable" in lines[0]
    assert "install Odoo 18.0 Community first" in lines[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_command_with_other_odoo_version(command, tmp_path, run):
    fake_odoo = tmp_path / "site" / "odoo"
    fake_odoo.mkdir(parents=True)
    (fake_odoo / "__init__.py").write_text("SUPERUSER_ID = 1\n")
    (fake_odoo / "release.py").write_text("version_info = (17, 0, 0, 'final', 0, '')\n")
    fake = _wrapper(tmp_path, "-S -s", pythonpath=fake_odoo.parent)

    result = run([command], env={"SALES_FUNNEL_PYTHON": str(fake)}, timeout=60)

    assert result.returncode != 0
    lines = _lines(result)
    assert len(lines) == 1, lines
    assert "Odoo 17" in lines[0] and "needs Odoo 18.0" in lines[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_command_missing_python(command, tmp_path, run):
    missing = tmp_path / "no-such-python"
    result = run([command], env={"SALES_FUNNEL_PYTHON": str(missing)}, timeout=60)
    assert result.returncode != 0
    assert len(_lines(result)) == 1


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help_and_bad_option(command, run):
    result = run([command, "--help"], timeout=30)
    assert result.returncode == 0
    assert "Usage: " + command in result.stdout

    result = run([command, "--no-such-option"], timeout=30)
    assert result.returncode != 0
    lines = _lines(result)
    assert len(lines) == 1 and "unknown option" in lines[0], lines


def test_serve_demo_help_mentions_init_only(run):
    assert "--init-only" in run(["bin/serve-demo", "--help"]).stdout


def test_commands_are_executable(repo):
    for path in ["bin/test", "bin/serve-demo", ".ci/run"]:
        mode = (repo / path).stat().st_mode
        assert mode & stat.S_IXUSR, f"{path} is not executable"
        assert (repo / path).read_text().startswith("#!/usr/bin/env bash\n")


def test_ci_entry_point(repo):
    text = (repo / ".ci" / "run").read_text()
    assert "set -euo pipefail" in text
    assert "exec bin/test" in text
