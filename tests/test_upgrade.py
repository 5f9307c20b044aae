"""Upgrading a database that runs the previous release of sales_funnel.

A company that installed 18.0.1.0.0 (the release before the reshaping of
issue 9: renamed models, crons and methods, the demo model gone) runs
``-u sales_funnel`` with this code. The previous release is read from git
(``git archive``) into a temporary directory, installed on a database that
then gets a funnel in use (opportunities moved through the gate, a won deal,
a configured order endpoint), and upgraded. Checked with plain SQL and by
running every scheduled job of the addon: nothing lost, no model left in the
``sales_funnel.*`` namespace, every job still runs.

The database is SALES_FUNNEL_UPGRADE_DB (default: SALES_FUNNEL_SCRATCH_DB, or
sales_funnel_scratch, followed by ``_upgrade``); it is dropped at the end.
"""

import ast
import os
import subprocess
import tarfile
import tempfile
from pathlib import Path

import psycopg2
import pytest

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = REPO / "var" / "data"
# The last commit of release 18.0.1.0.0 on main.
PREVIOUS_RELEASE = "721e271"

pytestmark = pytest.mark.slow

# Run on the database with the previous release: a funnel in use.
IN_USE = """
import sys
import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

db, addons, data_dir = sys.argv[1:4]
odoo.tools.config.parse_config(
    ["-d", db, "--addons-path", addons, "--data-dir", data_dir, "--log-level=warn"]
)
with Registry(db).cursor() as cr:
    env = api.Environment(cr, SUPERUSER_ID, {})
    env.company.sales_funnel_order_endpoint_url = "http://127.0.0.1:9/orders"
    customer = env["res.partner"].create(
        {"name": "老客户 Old Customer", "is_company": True}
    )
    stages = [env.ref(f"sales_funnel.crm_stage_{name}") for name in
              ("verification", "development", "proposal", "closing")]
    for index in range(6):
        lead = env["crm.lead"].create({
            "name": f"Deal {index}", "type": "opportunity", "partner_id": customer.id,
            "expected_revenue": 10000 * (index + 1), "stage_id": stages[0].id,
        })
        for stage in stages[1:1 + index % 4]:
            lead.current_criterion_ids.filtered("required").write({"done": True})
            lead.stage_id = stage
    # One deal walks the whole funnel and is won (its hand-off is queued).
    won = lead.copy({"name": "Won deal", "stage_id": stages[0].id})
    for stage in stages[1:]:
        won.current_criterion_ids.filtered("required").write({"done": True})
        won.stage_id = stage
    won.current_criterion_ids.filtered("required").write({"done": True})
    won.action_set_won()
"""

# Run on the upgraded database: every scheduled job of the addon, for real.
RUN_JOBS = """
import sys
import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

db, addons, data_dir = sys.argv[1:4]
odoo.tools.config.parse_config(
    ["-d", db, "--addons-path", addons, "--data-dir", data_dir, "--log-level=warn"]
)
with Registry(db).cursor() as cr:
    env = api.Environment(cr, SUPERUSER_ID, {})
    crons = env["ir.cron"].with_context(active_test=False).search([])
    ours = crons.filtered(
        lambda cron: cron.get_external_id()[cron.id].startswith("sales_funnel.")
    )
    assert ours, "no scheduled job of sales_funnel"
    for cron in ours:
        cron.ir_actions_server_id.run()
        print("ran", cron.cron_name)
"""


def _run(cmd, timeout=900):
    result = subprocess.run(
        [str(part) for part in cmd],
        # Not the repository: python -m puts the working directory on sys.path.
        cwd=tempfile.gettempdir(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _odoo(python, addons, *args):
    result = _run(
        [
            python,
            "-m",
            "odoo",
            "--addons-path",
            addons,
            "--data-dir",
            DATA_DIR,
            "--log-level=warn",
            "--stop-after-init",
            "--http-port=0",
            *args,
        ]
    )
    errors = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if " ERROR " in line or " CRITICAL " in line or "Traceback" in line
    ]
    assert not errors, "\n".join(errors)
    return result


def _previous_release(target):
    """The addon as released, extracted from git into ``target``."""
    archive = Path(target) / "previous.tar"
    with open(archive, "wb") as out:
        subprocess.run(
            ["git", "archive", PREVIOUS_RELEASE, "sales_funnel"],
            cwd=REPO,
            stdout=out,
            check=True,
            stdin=subprocess.DEVNULL,
        )
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    return target


def _snapshot(cr):
    figures = {}
    for table in (
        "crm_lead",
        "crm_lead_stage_history",
        "crm_lead_criterion",
        "crm_lead_handoff_attempt",
        "sale_order",
    ):
        cr.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (fixed names)
        figures[table] = cr.fetchone()[0]
    cr.execute("SELECT sales_funnel_order_endpoint_url FROM res_company ORDER BY id")
    figures["endpoint"] = cr.fetchall()
    cr.execute(
        "SELECT id, stage_id, probability, handoff_status FROM crm_lead ORDER BY id"
    )
    figures["leads"] = cr.fetchall()
    return figures


@pytest.fixture(scope="module")
def upgraded(python, commands):
    """(figures before, figures after, cursor on the upgraded database)."""
    scratch = os.environ.get("SALES_FUNNEL_SCRATCH_DB", "sales_funnel_scratch")
    name = os.environ.get("SALES_FUNNEL_UPGRADE_DB", f"{scratch}_upgrade")
    commands.db_drop(name)
    with tempfile.TemporaryDirectory(prefix="sales_funnel_previous_") as old:
        old_addons = commands.addons_path(_previous_release(old))
        addons = commands.addons_path(REPO)
        try:
            _odoo(python, old_addons, "-d", name, "-i", "sales_funnel")
            _run([python, "-c", IN_USE, name, old_addons, DATA_DIR])
            conn = psycopg2.connect(dbname=name)
            conn.autocommit = True
            before = _snapshot(conn.cursor())
            _odoo(python, addons, "-d", name, "-u", "sales_funnel")
            after = _snapshot(conn.cursor())
            jobs = _run([python, "-c", RUN_JOBS, name, addons, DATA_DIR])
            yield before, after, conn.cursor(), jobs.stdout
            conn.close()
        finally:
            commands.db_drop(name)


def test_nothing_is_lost(upgraded):
    before, after, _cr, _jobs = upgraded
    assert before["crm_lead_stage_history"] > 6, "the funnel was not in use"
    assert before == after


def test_version_and_namespace(upgraded):
    _before, _after, cr, _jobs = upgraded
    cr.execute(
        "SELECT latest_version FROM ir_module_module WHERE name = 'sales_funnel'"
    )
    # the version of the manifest: the upgrade ran every migration up to it
    manifest = ast.literal_eval((REPO / "sales_funnel" / "__manifest__.py").read_text())
    assert cr.fetchone()[0] == manifest["version"]
    cr.execute("SELECT model FROM ir_model WHERE model LIKE 'sales\\_funnel.%%'")
    assert cr.fetchall() == []


def test_every_job_runs(upgraded):
    _before, _after, _cr, jobs = upgraded
    assert jobs.count("ran ") >= 4, jobs
