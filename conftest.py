"""pytest hooks for the whole repository (sales_funnel/tests and tests/).

- Browser tests (Odoo ``HttpCase``: tours) need Odoo's HTTP server, which
  pytest-odoo only starts with ``--odoo-http``; without it they are
  *deselected* (and marked ``tour``) instead of being reported as skipped.
  bin/test runs them in Odoo's own test runner.
- With ``SALES_FUNNEL_FAIL_ON_SKIP=1`` (set by bin/test) a skipped test makes
  the run fail: a test that did not run is not a passing test.
- bin/test passes the verdict of its Odoo test run in
  ``SALES_FUNNEL_ODOO_STAGE``; it is repeated just above pytest's closing line.
"""

import os
import sys

import pytest


def _is_http_case(item):
    cls = getattr(item, "cls", None)
    if cls is None:
        return False
    # Test classes of an addon import odoo.tests; do not import it otherwise
    # (outside test mode Odoo logs an error when it is imported).
    odoo_tests = sys.modules.get("odoo.tests")
    http_case = getattr(odoo_tests, "HttpCase", None)
    return http_case is not None and issubclass(cls, http_case)


def pytest_collection_modifyitems(config, items):
    http_cases = [item for item in items if _is_http_case(item)]
    for item in http_cases:
        item.add_marker(pytest.mark.tour)
    try:
        with_http = config.getoption("--odoo-http")
    except ValueError:  # pytest-odoo not loaded
        with_http = False
    if http_cases and not with_http:
        config.hook.pytest_deselected(items=http_cases)
        items[:] = [item for item in items if item not in http_cases]


def _fail_on_skip():
    return os.environ.get("SALES_FUNNEL_FAIL_ON_SKIP") == "1"


def pytest_sessionfinish(session, exitstatus):
    if not _fail_on_skip() or exitstatus != pytest.ExitCode.OK:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and reporter.stats.get("skipped"):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skipped = terminalreporter.stats.get("skipped")
    if skipped and _fail_on_skip():
        terminalreporter.write_sep(
            "=",
            f"{len(skipped)} skipped test(s): this run FAILS (no test may skip)",
            red=True,
        )
    stage = os.environ.get("SALES_FUNNEL_ODOO_STAGE")
    if stage:
        failed = os.environ.get("SALES_FUNNEL_ODOO_STAGE_FAILED") == "1"
        terminalreporter.write_sep(
            "=", stage.removeprefix("sales_funnel: "), red=failed, green=not failed
        )
