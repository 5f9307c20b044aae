"""The load test's reading of Odoo's log: a concurrency error that Odoo
retried is a retry, one it gave up on (or never retried) surfaced."""

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
HEAD = "2026-12-01 10:00:0{n},000 {pid} {level} lt_load {logger}: {message}"
BAD_QUERY = (
    'bad query: UPDATE "crm_lead" SET "active" = false WHERE id IN (42)\n'
    "ERROR: could not serialize access due to concurrent update"
)
RETRIED = "SERIALIZATION_FAILURE, 4 tries left, try again in 0.8123 sec..."
GAVE_UP = "SERIALIZATION_FAILURE, maximum number of tries reached!"


@pytest.fixture(scope="module")
def check():
    spec = importlib.util.spec_from_file_location(
        "replica_check", REPO / "bench" / "replica" / "check.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def verdicts(check, tmp_path, records):
    log = tmp_path / "odoo.log"
    log.write_text(
        "\n".join(
            HEAD.format(n=n, pid=pid, level=level, logger=logger, message=message)
            for n, (pid, level, logger, message) in enumerate(records)
        )
        + "\n"
    )
    results, retries = check.check_log(log)
    return (
        results["no deadlock or serialization error surfaced"][0],
        results["no ERROR in Odoo's log"][0],
        retries,
    )


def test_retried_serialization_failure_is_not_an_error(check, tmp_path):
    assert verdicts(
        check,
        tmp_path,
        [
            (7, "ERROR", "odoo.sql_db", BAD_QUERY),
            (8, "INFO", "werkzeug", "GET /web HTTP/1.1 200"),
            (7, "INFO", "odoo.service.model", RETRIED),
        ],
    ) == (True, True, 1)


def test_serialization_failure_given_up_surfaces(check, tmp_path):
    surfaced_ok, log_ok, _retries = verdicts(
        check,
        tmp_path,
        [
            (7, "ERROR", "odoo.sql_db", BAD_QUERY),
            (7, "INFO", "odoo.service.model", GAVE_UP),
        ],
    )
    assert (surfaced_ok, log_ok) == (False, False)


def test_serialization_failure_without_retry_surfaces(check, tmp_path):
    # another process's retry does not answer for this one
    surfaced_ok, log_ok, _retries = verdicts(
        check,
        tmp_path,
        [
            (7, "ERROR", "odoo.sql_db", BAD_QUERY),
            (9, "INFO", "odoo.service.model", RETRIED),
        ],
    )
    assert (surfaced_ok, log_ok) == (False, False)


def test_other_errors_still_count(check, tmp_path):
    surfaced_ok, log_ok, _retries = verdicts(
        check,
        tmp_path,
        [(7, "ERROR", "odoo.http", "Exception during request handling.")],
    )
    assert (surfaced_ok, log_ok) == (True, False)


GUARD_QUERY = (
    'bad query: INSERT INTO "crm_lead_loss_report" ("lead_id") VALUES (999590)\n'
    "ERROR: duplicate key value violates unique constraint "
    '"crm_lead_loss_report_open_uniq"\n'
    "DETAIL:  Key (lead_id)=(999590) already exists."
)


def test_a_guard_turned_into_a_retry_is_not_an_error(check, tmp_path):
    # Two requests wrote a loss report for one deal at once: the second's
    # insert hit the index, the addon raised a concurrency failure, Odoo
    # retried the request (which then refused it by name).
    assert verdicts(
        check,
        tmp_path,
        [
            (7, "ERROR", "odoo.sql_db", GUARD_QUERY),
            (7, "INFO", "odoo.service.model", RETRIED),
        ],
    ) == (True, True, 1)
    # Without the retry it is an error of the log (not a serialization one).
    assert verdicts(check, tmp_path, [(7, "ERROR", "odoo.sql_db", GUARD_QUERY)]) == (
        True,
        False,
        0,
    )
