"""bin/test's verdict on Odoo test logs: failures, errors, skips, 0 tests."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

HEAD = "2025-01-01 10:00:00,000 4242 {level} sf_test {logger}: {message}"
TESTS = "odoo.addons.sales_funnel.tests.test_gate"


def line(level, logger, message):
    return HEAD.format(level=level, logger=logger, message=message)


def summary(failed=0, errors=0, tests=12, level="INFO"):
    return line(
        level,
        "odoo.tests.result",
        f"{failed} failed, {errors} error(s) of {tests} tests when loading database"
        " 'sf_test'",
    )


CLEAN = [
    line("INFO", "odoo.modules.loading", "skipping reset_modules_state, no table"),
    line("INFO", TESTS, "Starting TestGate.test_forward_refused ..."),
    line("WARNING", "odoo.models", "something harmless"),
    summary(),
]


@pytest.fixture
def verdict(commands):
    return lambda tmp_path, lines, rc=0: _verdict(commands, tmp_path, lines, rc)


def _verdict(commands, tmp_path, lines, rc=0):
    log = tmp_path / "odoo.log"
    log.write_text("\n".join(lines) + "\n")
    ok, out = commands.check_log(log, rc=rc)
    return (0 if ok else 1), "\n".join(out)


def test_clean_log_passes(tmp_path, verdict):
    status, out = verdict(tmp_path, CLEAN)
    assert status == 0, out
    assert "Odoo test run OK: 0 failed, 0 error(s) of 12 tests" in out


@pytest.mark.parametrize(
    "extra, expected",
    [
        ([summary(failed=1, level="ERROR")], "1 failed, 0 error(s) of 12 tests"),
        ([line("ERROR", TESTS, "FAIL: TestGate.test_x\nTraceback (most")], "error"),
        (
            [line("INFO", TESTS, "skipped TestUi.test_tour : Chrome not found")],
            "1 test(s) skipped",
        ),
        (
            [line("WARNING", TESTS, "websocket-client module is not installed")],
            "skipped",
        ),
        ([summary(tests=0, level="WARNING")], "0 tests ran"),
        (["Traceback (most recent call last):", '  File "x.py"'], "traceback"),
    ],
)
def test_problems_fail(tmp_path, verdict, extra, expected):
    lines = CLEAN[:-1] + extra + ([] if "tests when" in extra[-1] else CLEAN[-1:])
    status, out = verdict(tmp_path, lines)
    assert status == 1, out
    assert "Odoo test run FAILED" in out and expected in out


def test_missing_summary_fails(tmp_path, verdict):
    status, out = verdict(tmp_path, CLEAN[:-1])
    assert status == 1
    assert "no test summary" in out


def test_exit_status_fails(tmp_path, verdict):
    status, out = verdict(tmp_path, CLEAN, rc=1)
    assert status == 1
    assert "exited with status 1" in out


def test_addons_path_has_repo_and_odoo(commands):
    paths = commands.addons_path(REPO).split(",")
    assert paths[0] == str(REPO)
    import odoo.addons.base  # noqa: F401  (Odoo's own addons must be listed)

    base_dir = odoo.addons.base.__path__[0].rsplit("/", 1)[0]
    assert base_dir in paths
