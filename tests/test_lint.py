"""ruff and pylint-odoo (OCA checks) stay clean on the whole repository."""

import sys


def test_ruff(run):
    result = run([sys.executable, "-m", "ruff", "check", "--no-cache", "."])
    assert result.returncode == 0, result.stdout + result.stderr


def test_pylint_odoo(run):
    result = run(
        [sys.executable, "-m", "pylint", "--rcfile=.pylintrc", "sales_funnel"],
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_rst_is_built_from_the_fragments(run):
    result = run([sys.executable, "tools/readme_rst.py", "--check"])
    assert result.returncode == 0, result.stdout + result.stderr
