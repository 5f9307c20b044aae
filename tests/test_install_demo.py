"""A scratch install with demo data works: ``bin/serve-demo --init-only``.

On a PostgreSQL cluster of its own that has never seen the user (see the
``demo_db`` fixture), creates the database named by SALES_FUNNEL_SCRATCH_DB
(default sales_funnel_scratch) and checks the funnel, its demo opportunities,
their history and the zh_CN language with plain SQL.
"""

from pathlib import Path

import psycopg2
import pytest

REPO = Path(__file__).resolve().parent.parent
STAGES = ["verification", "development", "proposal", "closing", "won"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scratch_db(demo_db):
    name, env, results = demo_db
    result = results["bin/serve-demo"]
    assert result.returncode == 0, result.stdout + result.stderr
    assert "admin / admin" in result.stdout
    conn = psycopg2.connect(dbname=name, port=env["PGPORT"], host=env["PGHOST"])
    try:
        yield conn.cursor()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def stage_ids(scratch_db):
    scratch_db.execute(
        "SELECT name, res_id FROM ir_model_data"
        " WHERE module = 'sales_funnel' AND model = 'crm.stage' AND name IN %s",
        [tuple(f"crm_stage_{stage}" for stage in STAGES)],
    )
    ids = {name.removeprefix("crm_stage_"): res_id for name, res_id in scratch_db}
    assert sorted(ids) == sorted(STAGES), "funnel stages are missing"
    return ids


def test_funnel_stages_in_order(scratch_db, stage_ids):
    scratch_db.execute(
        "SELECT id, win_rate FROM crm_stage WHERE id IN %s ORDER BY sequence, id",
        [tuple(stage_ids.values())],
    )
    rows = scratch_db.fetchall()
    assert [row[0] for row in rows] == [stage_ids[stage] for stage in STAGES]
    assert [row[1] for row in rows] == [10, 30, 50, 80, 100]


def test_demo_opportunities_fill_the_funnel(scratch_db, stage_ids):
    scratch_db.execute(
        "SELECT stage_id, active, count(*) FROM crm_lead"
        " WHERE type = 'opportunity' AND stage_id IN %s GROUP BY stage_id, active",
        [tuple(stage_ids.values())],
    )
    counts = {(stage, active): count for stage, active, count in scratch_db}
    total = sum(counts.values())
    assert total >= 40, f"only {total} opportunities in the funnel stages"
    open_stages = {
        stage for (stage, active) in counts if active and stage != stage_ids["won"]
    }
    assert len(open_stages) >= 3, "open opportunities should span several stages"
    won = sum(n for (stage, active), n in counts.items() if stage == stage_ids["won"])
    lost = sum(n for (_stage, active), n in counts.items() if not active)
    assert won >= 1, "no won opportunity"
    assert lost >= 1, "no lost opportunity"


def test_every_open_opportunity_has_history(scratch_db, stage_ids):
    scratch_db.execute(
        "SELECT lead.id FROM crm_lead lead"
        " WHERE lead.type = 'opportunity' AND lead.active AND lead.stage_id IN %s"
        " AND NOT EXISTS (SELECT 1 FROM crm_lead_stage_history history"
        "                  WHERE history.lead_id = lead.id)",
        [tuple(stage_ids.values())],
    )
    without = [row[0] for row in scratch_db]
    assert not without, f"opportunities without stage history: {without}"


def test_chinese_is_installed(scratch_db, stage_ids):
    scratch_db.execute("SELECT active FROM res_lang WHERE code = 'zh_CN'")
    assert scratch_db.fetchone() == (True,)
    scratch_db.execute(
        "SELECT name->>'zh_CN' FROM crm_stage WHERE id = %s",
        [stage_ids["verification"]],
    )
    assert scratch_db.fetchone()[0] == "验证"


def test_demo_won_deals_in_every_integration_status(scratch_db, stage_ids):
    scratch_db.execute(
        "SELECT DISTINCT handoff_status FROM crm_lead"
        " WHERE stage_id = %s AND active AND handoff_status IS NOT NULL",
        [stage_ids["won"]],
    )
    statuses = {row[0] for row in scratch_db}
    assert statuses == {"-1", "0", "1", "2", "3"}, statuses
    # Every handed-off deal has exactly one order; failed ones have none.
    scratch_db.execute(
        "SELECT lead.handoff_status, count(o.id) FROM crm_lead lead"
        " LEFT JOIN sale_order o ON o.sales_funnel_handoff_lead_id = lead.id"
        " WHERE lead.stage_id = %s GROUP BY lead.id, lead.handoff_status",
        [stage_ids["won"]],
    )
    for status, orders in scratch_db:
        assert orders == (1 if status in ("1", "2", "3") else 0), (status, orders)


def test_demo_company_is_chinese_and_sells_in_cny(scratch_db, stage_ids):
    scratch_db.execute(
        "SELECT company.name, currency.name, country.code"
        "  FROM res_company company"
        "  JOIN res_currency currency ON currency.id = company.currency_id"
        "  JOIN res_partner partner ON partner.id = company.partner_id"
        "  JOIN res_country country ON country.id = partner.country_id"
        " WHERE company.id = (SELECT res_id FROM ir_model_data"
        "                      WHERE module = 'base' AND name = 'main_company')"
    )
    name, currency, country = scratch_db.fetchone()
    assert any("\u4e00" <= char <= "\u9fff" for char in name), name
    assert "Co., Ltd." in name  # the English name beside the Chinese one
    assert (currency, country) == ("CNY", "CN")
    # The won deals' orders are in yuan too.
    scratch_db.execute(
        "SELECT DISTINCT currency.name FROM sale_order o"
        "  JOIN res_currency currency ON currency.id = o.currency_id"
        " WHERE o.sales_funnel_handoff_lead_id IS NOT NULL"
    )
    assert {row[0] for row in scratch_db} == {"CNY"}


def test_demo_story_is_told(scratch_db, stage_ids):
    """The demo's story, written as data: moves back, manager overrides, won and
    lost deals over months, targets, submitted and evaluated forecasts."""
    scratch_db.execute(
        "SELECT event, count(*) FROM crm_lead_stage_history GROUP BY event"
    )
    events = dict(scratch_db.fetchall())
    assert events.get("backward", 0) >= 1, events
    assert events.get("won", 0) >= 12 and events.get("lost", 0) >= 9, events
    scratch_db.execute("SELECT count(*) FROM crm_stage_gate_override")
    assert scratch_db.fetchone()[0] >= 3
    # Back-dated: the story spans months, not the minute of the installation.
    scratch_db.execute(
        "SELECT min(date) < now() AT TIME ZONE 'UTC' - interval '90 days'"
        "  FROM crm_lead_stage_history"
    )
    assert scratch_db.fetchone()[0]
    scratch_db.execute("SELECT count(*) FROM crm_sales_target")
    assert scratch_db.fetchone()[0] >= 28
    scratch_db.execute(
        "SELECT count(*) FROM crm_forecast_submission WHERE state = 'submitted'"
    )
    assert scratch_db.fetchone()[0] >= 7
    scratch_db.execute(
        "SELECT count(*) FROM crm_forecast_snapshot WHERE state = 'evaluated'"
    )
    assert scratch_db.fetchone()[0] >= 1


def test_demo_ticks_have_their_evidence(scratch_db, stage_ids):
    """Every ticked criterion that asks for a document links it: interview
    reports, Basic Facts Cards, problem records, trial reports, contracts."""
    scratch_db.execute(
        """
        SELECT criterion.evidence_type, count(*),
               count(*) FILTER (WHERE line.evidence_ref IS NULL)
          FROM crm_lead_criterion line
          JOIN crm_stage_criterion criterion ON criterion.id = line.criterion_id
         WHERE line.done AND criterion.evidence_type != 'none'
         GROUP BY criterion.evidence_type
        """
    )
    ticks = {kind: (count, unlinked) for kind, count, unlinked in scratch_db}
    assert set(ticks) == {
        "interview",
        "card_section",
        "problem",
        "trial",
        "attachment",
    }, ticks
    assert all(unlinked == 0 for _count, unlinked in ticks.values()), ticks
    scratch_db.execute("SELECT count(*), avg(completeness) FROM crm_lead_fact_card")
    cards, completeness = scratch_db.fetchone()
    assert cards >= 40 and 0 < completeness < 100, (cards, completeness)


def test_no_demo_model(scratch_db):
    """The demo is data: the addon registers no model for it."""
    scratch_db.execute(
        "SELECT name FROM ir_model_data"
        " WHERE module = 'sales_funnel' AND model = 'ir.model' AND name LIKE %s",
        ["%demo%"],
    )
    assert scratch_db.fetchall() == []
