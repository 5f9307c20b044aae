"""Installing sales_funnel on a CRM that already has a pipeline.

As a company already running Odoo would: a database with crm only (no demo
data), its pipeline (crm's New / Qualified / Proposition / Won) holding 44
leads and opportunities with the probabilities people and predictive scoring
gave them, then ``-i sales_funnel``. Checked with plain SQL: the stages are
mapped, every open opportunity's probability is its stage's win rate and its
weighted amount follows, each has its checklist and one history row, won deals
were neither handed off nor queued, and the funnel sums equal a recount.

The database is SALES_FUNNEL_EXISTING_DB (default: SALES_FUNNEL_SCRATCH_DB, or
sales_funnel_scratch, followed by ``_existing``); it is dropped at the end.
"""

import json
import os
import subprocess
import tempfile
from pathlib import Path

import psycopg2
import pytest

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = REPO / "var" / "data"
# crm's stage -> the funnel stage that replaces it.
MAPPING = {
    "crm.stage_lead1": "crm_stage_verification",
    "crm.stage_lead2": "crm_stage_development",
    "crm.stage_lead3": "crm_stage_proposal",
    "crm.stage_lead4": "crm_stage_won",
}

pytestmark = pytest.mark.slow

# Run in the database with crm only: a salesperson, then leads and
# opportunities in every stage with odd probabilities; prints {id: stage xmlid}.
SETUP = """
import json, sys
import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

db, addons, data_dir = sys.argv[1:4]
odoo.tools.config.parse_config(
    ["-d", db, "--addons-path", addons, "--data-dir", data_dir, "--log-level=warn"]
)
with Registry(db).cursor() as cr:
    env = api.Environment(cr, SUPERUSER_ID, {})
    seller = env["res.users"].with_context(no_reset_password=True).create({
        "name": "Existing Seller", "login": "existing_seller",
        "groups_id": [(6, 0, [env.ref("sales_team.group_sale_salesman").id])],
    })
    customer = env["res.partner"].create({"name": "Old Customer", "is_company": True})
    Lead = env["crm.lead"].with_user(seller)
    stages = {key: env.ref(f"crm.stage_lead{key}") for key in (1, 2, 3)}
    stage_of = {}
    for index in range(10):
        Lead.create({"name": f"Lead {index}", "type": "lead",
                     "expected_revenue": 1000 * (index + 1)})
    # 17 open opportunities: New, Qualified (90 %), Proposition (2.4 %, ...).
    plan = [(1, 5.0, 12000)] * 3 + [(1, 33.3, 8000)] * 3
    plan += [(2, 90.0, 45000)] * 3 + [(2, 12.5, 20000)] * 2
    plan += [(3, 90.0, 60000), (3, 2.4, 75000)] * 3
    for index, (stage, probability, amount) in enumerate(plan):
        lead = Lead.create({
            "name": f"Open {index}", "type": "opportunity",
            "partner_id": customer.id, "stage_id": stages[stage].id,
            "probability": probability, "expected_revenue": amount,
        })
        stage_of[lead.id] = f"crm.stage_lead{stage}"
    for index in range(9):
        lead = Lead.create({
            "name": f"Won {index}", "type": "opportunity",
            "partner_id": customer.id, "stage_id": stages[3].id,
            "probability": 70, "expected_revenue": 30000 + index,
        })
        lead.action_set_won()
        stage_of[lead.id] = "crm.stage_lead4"
    for index in range(8):
        lead = Lead.create({
            "name": f"Lost {index}", "type": "opportunity",
            "partner_id": customer.id, "stage_id": stages[1 + index % 3].id,
            "probability": 20, "expected_revenue": 5000,
        })
        lead.action_set_lost()
    print(json.dumps(stage_of))
"""


def _odoo(python, addons, *args, timeout=900):
    result = subprocess.run(
        [
            python,
            "-m",
            "odoo",
            "--addons-path",
            addons,
            "--data-dir",
            str(DATA_DIR),
            "--log-level=warn",
            "--stop-after-init",
            *args,
        ],
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


def _drop(commands, name):
    commands.db_drop(name)


@pytest.fixture(scope="module")
def existing(python, commands):
    """(cursor, {opportunity id: its crm stage xmlid}) after the installation."""
    scratch = os.environ.get("SALES_FUNNEL_SCRATCH_DB", "sales_funnel_scratch")
    name = os.environ.get("SALES_FUNNEL_EXISTING_DB", f"{scratch}_existing")
    addons = commands.addons_path(REPO)
    _drop(commands, name)
    try:
        _odoo(python, addons, "-d", name, "-i", "crm", "--without-demo=all")
        setup = subprocess.run(
            [python, "-c", SETUP, name, addons, str(DATA_DIR)],
            cwd=tempfile.gettempdir(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert setup.returncode == 0, setup.stdout + setup.stderr
        stage_of = {
            int(lead_id): xmlid
            for lead_id, xmlid in json.loads(setup.stdout.splitlines()[-1]).items()
        }
        _odoo(python, addons, "-d", name, "-i", "sales_funnel", "--without-demo=all")
        conn = psycopg2.connect(dbname=name)
        try:
            yield conn.cursor(), stage_of
        finally:
            conn.close()
    finally:
        _drop(commands, name)


def _funnel_stages(cr):
    cr.execute(
        "SELECT name, res_id FROM ir_model_data"
        " WHERE module = 'sales_funnel' AND model = 'crm.stage'"
    )
    return dict(cr.fetchall())


def test_stages_are_mapped(existing):
    cr, stage_of = existing
    funnel = _funnel_stages(cr)
    cr.execute("SELECT id, stage_id FROM crm_lead WHERE id IN %s", [tuple(stage_of)])
    for lead_id, stage_id in cr.fetchall():
        assert stage_id == funnel[MAPPING[stage_of[lead_id]]], lead_id
    cr.execute(
        "SELECT count(*) FROM ir_model_data WHERE module = 'crm'"
        " AND model = 'crm.stage'"
    )
    assert cr.fetchone()[0] == 0, "crm's own stages are left over"


def test_open_opportunities_follow_their_stage(existing):
    cr, stage_of = existing
    cr.execute(
        """
        SELECT lead.id, lead.probability, lead.automated_probability,
               lead.expected_revenue, lead.prorated_revenue, stage.win_rate,
               round(COALESCE(lead.expected_revenue, 0)
                     * stage.win_rate::numeric / 100, 2)
          FROM crm_lead lead JOIN crm_stage stage ON stage.id = lead.stage_id
         WHERE lead.active AND NOT COALESCE(stage.is_won, false)
        """
    )
    rows = cr.fetchall()
    assert len([row for row in rows if row[0] in stage_of]) == 17
    for lead_id, probability, automated, _amount, prorated, rate, weighted in rows:
        assert (probability, automated, prorated) == (rate, rate, weighted), lead_id
    # The 60,000 deal at 90 % in Proposition now weighs 30,000, not 54,000.
    assert {row[4] for row in rows if row[3] == 60000} == {30000}


def test_checklists_and_one_history_row(existing):
    cr, stage_of = existing
    cr.execute(
        """
        SELECT lead.id, COALESCE(stage.is_won, false),
               (SELECT count(*) FROM crm_lead_criterion line
                 WHERE line.lead_id = lead.id AND line.in_current_stage),
               (SELECT count(*) FROM crm_stage_criterion criterion
                 WHERE criterion.stage_id = lead.stage_id AND criterion.active),
               (SELECT array_agg(ROW(history.event, history.win_rate,
                                     history.weighted_revenue)::text)
                  FROM crm_lead_stage_history history
                 WHERE history.lead_id = lead.id),
               ROW('create', lead.probability, lead.prorated_revenue)::text
          FROM crm_lead lead JOIN crm_stage stage ON stage.id = lead.stage_id
         WHERE lead.id IN %s
        """,
        [tuple(stage_of)],
    )
    rows = cr.fetchall()
    assert len(rows) == 26
    for lead_id, won, lines, criteria, history, expected in rows:
        if not won:
            assert lines == criteria > 0, lead_id
        # One opening row, at the opportunity's (new) probability.
        assert history == [expected], lead_id


def test_won_deals_are_not_handed_off(existing):
    cr, stage_of = existing
    won = tuple(lead for lead, xmlid in stage_of.items() if xmlid.endswith("4"))
    cr.execute(
        "SELECT handoff_status, COALESCE(handoff_queued, false) FROM crm_lead"
        " WHERE id IN %s",
        [won],
    )
    assert set(cr.fetchall()) == {("0", False)}
    cr.execute("SELECT count(*) FROM sale_order")
    assert cr.fetchone()[0] == 0
    cr.execute("SELECT count(*) FROM crm_lead_handoff_attempt")
    assert cr.fetchone()[0] == 0
    cr.execute(
        "SELECT count(*) FROM ir_cron_trigger trigger"
        " JOIN ir_model_data data ON data.res_id = trigger.cron_id"
        " AND data.model = 'ir.cron' AND data.module = 'sales_funnel'"
        " AND data.name = 'ir_cron_sales_funnel_handoff'"
    )
    assert cr.fetchone()[0] == 0, "the hand-off job was triggered"


def test_funnel_sums_equal_a_recount(existing):
    cr, _stage_of = existing
    # The trigger-kept sums (the Funnel Forecast and the dashboard) ...
    cr.execute(
        """
        SELECT d.stage_id, d.won, sum(d.cnt), sum(d.amount),
               round(sum(d.amount) * stage.win_rate::numeric / 100, 2)
          FROM crm_funnel_delta d JOIN crm_stage stage ON stage.id = d.stage_id
         GROUP BY d.stage_id, d.won, stage.win_rate
        HAVING sum(d.cnt) <> 0
        """
    )
    summary = {row[:2]: row[2:] for row in cr.fetchall()}
    # ... are what the opportunities add up to, weighted as on the kanban.
    cr.execute(
        """
        SELECT lead.stage_id, COALESCE(stage.is_won, false), count(*),
               sum(COALESCE(lead.expected_revenue, 0)),
               sum(lead.prorated_revenue)
          FROM crm_lead lead JOIN crm_stage stage ON stage.id = lead.stage_id
         WHERE lead.active AND lead.type = 'opportunity'
         GROUP BY 1, 2
        """
    )
    recount = {row[:2]: row[2:] for row in cr.fetchall()}
    assert summary == recount


def test_nothing_of_the_demo(existing):
    """Installed without demo data: no demo model, no demo helper."""
    cr, _stage_of = existing
    cr.execute(
        "SELECT name FROM ir_model_data WHERE module = 'sales_funnel'"
        " AND ((model = 'ir.model' AND name LIKE %s)"
        "      OR (model = 'ir.actions.server' AND name LIKE %s))",
        ["%demo%", "action_demo_%"],
    )
    assert cr.fetchall() == []
