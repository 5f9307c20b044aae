"""A scratch install with demo data works: ``bin/serve-demo --init-only``.

On a PostgreSQL cluster of its own that has never seen the user (see the
``demo_db`` fixture), creates the database named by SALES_FUNNEL_SCRATCH_DB
(default sales_funnel_scratch) and checks the funnel, its demo opportunities,
their history and the zh_CN language with plain SQL.
"""

import json
import os
import subprocess
import sys
import tempfile
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


def test_demo_pipeline_is_only_the_funnel(scratch_db, stage_ids):
    """Odoo's default stages are re-labelled and removed, even though the demo
    made self-checks and lead-pool history in them before the adoption ran."""
    scratch_db.execute("SELECT id FROM crm_stage")
    assert sorted(row[0] for row in scratch_db.fetchall()) == sorted(stage_ids.values())


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


# Whether a ticked checklist line's linked document is the evidence its
# criterion asks for, on the same opportunity (crm.lead's _evidence_<type>).
EVIDENCE_HOLDS = """
    WITH ticks AS (
        SELECT line.id, line.lead_id, criterion.evidence_type AS kind,
               criterion.evidence_card_section AS section,
               criterion.evidence_role AS role,
               split_part(line.evidence_ref, ',', 1) AS model,
               nullif(split_part(line.evidence_ref, ',', 2), '')::int AS res_id
          FROM crm_lead_criterion line
          JOIN crm_stage_criterion criterion ON criterion.id = line.criterion_id
         WHERE line.done AND criterion.evidence_type != 'none'
    ), cards AS (
        SELECT card.id, card.lead_id,
               regexp_replace(coalesce(card.organisation, ''),
                              '<[^>]*>|&nbsp;', '', 'g') ~ '\\S' AS organisation,
               coalesce(trim(card.value_point_1), '') != ''
                   AND coalesce(trim(card.value_point_2), '') != '' AS value_points,
               coalesce(card.has_budget, false) AND card.budget_amount > 0 AS budget,
               coalesce(trim(card.funds_source), '') != '' AS funds,
               card.buying_stage IS NOT NULL AS buying_stage,
               ARRAY(SELECT DISTINCT role.role::text FROM crm_lead_buying_role role
                      WHERE role.card_id = card.id AND role.partner_id IS NOT NULL)
                   AS roles
          FROM crm_lead_fact_card card
    )
    SELECT ticks.kind, coalesce(ticks.section, ticks.role, ''),
           CASE ticks.kind
           WHEN 'interview' THEN ticks.model = 'crm.lead.interview' AND EXISTS (
               SELECT 1 FROM crm_lead_interview interview
                WHERE interview.id = ticks.res_id
                  AND interview.lead_id = ticks.lead_id
                  AND interview.state = 'done'
                  AND (ticks.role IS NULL OR EXISTS (
                      SELECT 1 FROM crm_lead_interview_participant participant
                        JOIN crm_lead_buying_role role
                          ON role.partner_id = participant.partner_id
                         AND role.lead_id = ticks.lead_id
                         AND role.role = ticks.role
                       WHERE participant.interview_id = interview.id)))
           WHEN 'card_section' THEN ticks.model = 'crm.lead.fact.card' AND EXISTS (
               SELECT 1 FROM cards card
                WHERE card.id = ticks.res_id AND card.lead_id = ticks.lead_id
                  AND CASE ticks.section
                      WHEN 'organisation' THEN card.organisation
                      WHEN 'buying_roles' THEN card.roles
                          @> ARRAY['user', 'influencer', 'decision_maker', 'buyer']
                      WHEN 'basics' THEN card.organisation AND card.roles
                          @> ARRAY['user', 'influencer', 'decision_maker', 'buyer']
                      WHEN 'decision_maker' THEN 'decision_maker' = ANY(card.roles)
                      WHEN 'coach' THEN 'coach' = ANY(card.roles)
                      WHEN 'buyer' THEN 'buyer' = ANY(card.roles)
                      WHEN 'value_points' THEN card.value_points
                      WHEN 'budget' THEN card.budget
                      WHEN 'funds' THEN card.funds
                      WHEN 'buying_stage' THEN card.buying_stage
                      ELSE false
                  END)
           WHEN 'problem' THEN ticks.model = 'crm.lead.problem' AND EXISTS (
               SELECT 1 FROM crm_lead_problem problem
                WHERE problem.id = ticks.res_id AND problem.lead_id = ticks.lead_id)
           WHEN 'trial' THEN ticks.model = 'crm.lead.trial.report' AND EXISTS (
               SELECT 1 FROM crm_lead_trial_report trial
                WHERE trial.id = ticks.res_id AND trial.lead_id = ticks.lead_id
                  AND trial.accepted)
           WHEN 'attachment' THEN ticks.model = 'ir.attachment' AND EXISTS (
               SELECT 1 FROM ir_attachment attachment
                WHERE attachment.id = ticks.res_id
                  AND attachment.res_model = 'crm.lead'
                  AND attachment.res_id = ticks.lead_id)
           ELSE false
           END IS TRUE,
           count(*)
      FROM ticks
     GROUP BY 1, 2, 3
"""


def test_demo_ticks_have_their_evidence(scratch_db, stage_ids):
    """Done when: on the demo, no criterion that names a document is ticked
    without it. Every such tick links its document (interview report, Basic
    Facts Card, problem record, trial report, contract), of the same deal, and
    the document answers the criterion: the report is submitted (with the
    buying role it asks for), the card's section is filled in, the trial report
    accepted, the contract attached to the deal."""
    scratch_db.execute(EVIDENCE_HOLDS)
    rows = scratch_db.fetchall()
    ticks = {}
    for kind, _section, _holds, count in rows:
        ticks[kind] = ticks.get(kind, 0) + count
    assert set(ticks) == {
        "interview",
        "card_section",
        "problem",
        "trial",
        "attachment",
    }, ticks
    without = [(kind, section, n) for kind, section, holds, n in rows if not holds]
    assert not without, f"ticked without their evidence: {without}"
    scratch_db.execute("SELECT count(*), avg(completeness) FROM crm_lead_fact_card")
    cards, completeness = scratch_db.fetchone()
    assert cards >= 40 and 0 < completeness < 100, (cards, completeness)


def test_demo_lost_deals_have_their_loss_report(scratch_db, stage_ids):
    """Done when: no deal is lost without a complete loss report. Every lost
    opportunity of the demo (the addon's and the CRM's own) has its report,
    stamped with the stage it was lost at, whose category is the deal's Lost
    Reason; the loss analysis has reasons, stages and competitors to show."""
    scratch_db.execute(
        """
        SELECT lead.id, lead.name, report.id IS NOT NULL,
               report.lost_reason_id = lead.lost_reason_id,
               report.stage_id IS NOT NULL AND report.date_lost IS NOT NULL,
               coalesce(trim(report.customer_reason), '') != ''
                   AND coalesce(trim(report.analysis), '') != ''
                   AND coalesce(trim(report.prevention), '') != ''
                   AND (NOT coalesce(reason.sales_funnel_competitor_required, false)
                        OR report.competitor_id IS NOT NULL)
          FROM crm_lead lead
          LEFT JOIN crm_lead_loss_report report
            ON report.lead_id = lead.id AND report.date_restored IS NULL
          LEFT JOIN crm_lost_reason reason ON reason.id = report.lost_reason_id
         WHERE lead.type = 'opportunity' AND NOT lead.active
        """
    )
    rows = scratch_db.fetchall()
    assert len(rows) >= 9, rows
    incomplete = [row[:2] for row in rows if not all(row[2:])]
    assert not incomplete, f"lost without a complete loss report: {incomplete}"
    scratch_db.execute(
        "SELECT count(DISTINCT lost_reason_id), count(DISTINCT stage_id),"
        "       count(DISTINCT competitor_id)"
        "  FROM crm_lead_loss_report WHERE date_restored IS NULL"
    )
    reasons, stages, competitors = scratch_db.fetchone()
    assert reasons >= 3 and stages >= 2 and competitors >= 1, (
        reasons,
        stages,
        competitors,
    )


def test_no_demo_model(scratch_db):
    """The demo is data: the addon registers no model for it."""
    scratch_db.execute(
        "SELECT name FROM ir_model_data"
        " WHERE module = 'sales_funnel' AND model = 'ir.model' AND name LIKE %s",
        ["%demo%"],
    )
    assert scratch_db.fetchall() == []


def test_demo_brings_in_the_solutions_engineer(scratch_db):
    """Collaboration at stage entry: the solutions engineer joined his team after
    the story, so only the deal Li Na moved into Development since gave him an
    activity; Technical Support has none yet."""
    scratch_db.execute(
        "SELECT users.login, count(activity.id) FROM res_users users"
        "  LEFT JOIN mail_activity activity ON activity.user_id = users.id"
        " WHERE users.login IN ('zhou.jie', 'zheng.lin') GROUP BY users.login"
    )
    assert dict(scratch_db.fetchall()) == {"zhou.jie": 1, "zheng.lin": 0}


def test_demo_has_a_past_handover(scratch_db):
    """Ma Jun's hand-over: his deals, call and target split by customer between
    two colleagues three weeks ago, his account archived."""
    scratch_db.execute(
        "SELECT handover.mode, users.active,"
        "       handover.date < now() AT TIME ZONE 'UTC' - interval '14 days',"
        "       handover.user_archived_date IS NOT NULL,"
        "       array_agg(DISTINCT line.kind ORDER BY line.kind),"
        "       array_agg(DISTINCT colleague.login ORDER BY colleague.login)"
        "  FROM crm_salesperson_handover handover"
        "  JOIN res_users users ON users.id = handover.user_id"
        "  JOIN crm_salesperson_handover_line line ON line.handover_id = handover.id"
        "  JOIN res_users colleague ON colleague.id = line.to_user_id"
        " WHERE users.login = 'ma.jun'"
        " GROUP BY handover.id, users.active"
    )
    assert scratch_db.fetchall() == [
        (
            "customer",
            False,
            True,
            True,
            ["activity", "opportunity", "target"],
            ["liu.yang", "wang.lei"],
        )
    ]
    scratch_db.execute(
        "SELECT count(*) FROM crm_lead lead JOIN res_users users"
        "    ON users.id = lead.user_id WHERE users.login = 'ma.jun' AND lead.active"
    )
    assert scratch_db.fetchone()[0] == 0


# Funnel Health (as the sales director) and each salesperson's dashboard, read
# by Odoo itself on the demo database: {login: {weak, need, message}}.
INSPECTION_AND_NEED = """
import json
import sys
import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

db, addons = sys.argv[1:3]
odoo.tools.config.parse_config(["-d", db, "--addons-path", addons, "--log-level=warn"])
with Registry(db).cursor() as cr:
    env = api.Environment(cr, SUPERUSER_ID, {})
    admin = env.ref("base.user_admin")
    wizard = env["crm.funnel.health.wizard"].with_user(admin).create({})
    people = env["crm.funnel.selfcheck"].search([]).user_id
    result = {}
    for row in wizard._health_data():
        user = env["res.users"].browse(row["user_id"])
        if user in people:
            result.setdefault(user.login, {})["weak"] = row["weak_inspection"]
    for user in people:
        data = env["crm.funnel.dashboard"].with_user(user).get_data(user_id=user.id)
        result.setdefault(user.login, {}).update(
            need=data["need"]["state"],
            message=data["need"]["message"],
            needed=sum(stage["needed"] for stage in data["need"]["stages"]),
        )
    print(json.dumps(result))
"""


def _odoo_script(demo_db, commands, script):
    """Run ``script`` with Odoo on the demo database; its last output line, JSON."""
    name, env, _results = demo_db
    result = subprocess.run(
        [sys.executable, "-c", script, name, commands.addons_path()],
        cwd=tempfile.gettempdir(),
        env=dict(os.environ, **env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_demo_inspection_rhythm(scratch_db):
    """Done when (issue 11): every salesperson has a weekly self-check each of
    the last four weeks, with its plan and their notes on the flagged deals;
    most are signed off by their manager (guidance, comments on deals, an
    agreed action that became the salesperson's activity); this week's are
    drafts, one submitted awaiting review, one of last week late and reminded."""
    scratch_db.execute(
        """
        SELECT users.login,
               count(*) FILTER (WHERE s.week_start < date_trunc('week', now())),
               count(DISTINCT s.week_start)
                   FILTER (WHERE s.week_start < date_trunc('week', now())
                             AND s.week_start >= date_trunc('week', now())
                                                 - interval '28 days'
                             AND regexp_replace(coalesce(s.plan, ''), '<[^>]*>', '',
                                                'g') ~ '\\S'),
               count(*) FILTER (WHERE s.week_start = date_trunc('week', now())),
               count(*) FILTER (WHERE s.state = 'reviewed'
                                  AND s.reviewer_id != s.user_id
                                  AND s.review_date > s.submit_date
                                  AND s.guidance IS NOT NULL),
               bool_and(NOT EXISTS (
                   SELECT 1 FROM crm_funnel_selfcheck_deal line
                    WHERE line.selfcheck_id = s.id AND line.note IS NULL))
                   FILTER (WHERE s.state != 'draft')
          FROM crm_funnel_selfcheck s
          JOIN res_users users ON users.id = s.user_id
         GROUP BY users.login
        """
    )
    rows = {login: rest for login, *rest in scratch_db.fetchall()}
    assert {"wang.lei", "li.na", "liu.yang", "zhao.min", "sun.hao"} <= set(rows), rows
    for login, (past, planned, current, _signed, noted) in rows.items():
        assert past == 4 and planned == 4, (login, past, planned)
        assert current == 1, (login, current)
        assert noted, f"{login} submitted without a note on every flagged deal"
    past = sum(row[0] for row in rows.values())
    signed = sum(row[3] for row in rows.values())
    assert signed >= past * 0.7, (signed, past)
    scratch_db.execute(
        "SELECT count(*) FROM crm_funnel_selfcheck_deal"
        " WHERE manager_comment IS NOT NULL"
    )
    assert scratch_db.fetchone()[0] >= 10
    # This week: drafts and one submitted, awaiting its review; last week,
    # Liu Yang's is late and was reminded.
    scratch_db.execute(
        """
        SELECT s.state, users.login, s.reminder_date IS NOT NULL,
               s.week_start = date_trunc('week', now())
          FROM crm_funnel_selfcheck s
          JOIN res_users users ON users.id = s.user_id
         WHERE s.state != 'reviewed'
        """
    )
    open_ones = scratch_db.fetchall()
    this_week = [(state, login) for state, login, _r, current in open_ones if current]
    assert [login for state, login in this_week if state == "submitted"] == ["li.na"]
    assert len(this_week) == len(rows)
    assert [login for state, login, reminded, current in open_ones if reminded] == [
        "liu.yang"
    ]
    # An agreed action became an activity of the salesperson on their deal.
    scratch_db.execute(
        """
        SELECT count(*) FROM crm_funnel_selfcheck_action action
          JOIN crm_funnel_selfcheck s ON s.id = action.selfcheck_id
          JOIN mail_activity activity ON activity.id = action.activity_id
         WHERE activity.user_id = s.user_id AND activity.res_model = 'crm.lead'
           AND activity.res_id = action.lead_id AND s.state = 'reviewed'
        """
    )
    assert scratch_db.fetchone()[0] >= 1


def test_demo_inspection_flag_and_need(scratch_db, demo_db, commands):
    """Done when (issue 11): Funnel Health's weak inspection follows the signed
    reviews (Sun Hao's last one is older than the company's interval, the
    others' are recent), and the dashboard tells each salesperson how many new
    opportunities they need."""
    scratch_db.execute(
        """
        SELECT users.login FROM crm_funnel_selfcheck s
          JOIN res_users users ON users.id = s.user_id
          JOIN res_company company ON company.id = s.company_id
         GROUP BY users.login, company.sales_funnel_inspection_days
        HAVING coalesce(max(s.review_date) FILTER (WHERE s.state = 'reviewed'),
                        '1970-01-01')
               < now() AT TIME ZONE 'UTC'
                 - make_interval(days => company.sales_funnel_inspection_days)
        """
    )
    assert [row[0] for row in scratch_db.fetchall()] == ["sun.hao"]
    people = _odoo_script(demo_db, commands, INSPECTION_AND_NEED)
    weak = sorted(login for login, row in people.items() if row.get("weak"))
    assert weak == ["sun.hao"], people
    salespeople = {"wang.lei", "li.na", "liu.yang", "zhao.min", "sun.hao"}
    for login in salespeople:
        row = people[login]
        assert row["need"] in ("needed", "reached"), (login, row)
        assert row["message"], (login, row)
    assert any(
        people[login]["need"] == "needed" and people[login]["needed"] > 0
        for login in salespeople
    ), people


def test_demo_departed_deals_have_an_owner(scratch_db):
    """Done when (issue 11): every deal Ma Jun handed over has an active owner,
    the colleague the hand-over names."""
    scratch_db.execute(
        """
        SELECT lead.name, owner.login, owner.active, colleague.login
          FROM crm_salesperson_handover_line line
          JOIN crm_salesperson_handover handover ON handover.id = line.handover_id
          JOIN res_users users ON users.id = handover.user_id
          JOIN crm_lead lead
            ON lead.id = line.res_id AND line.res_model = 'crm.lead'
          LEFT JOIN res_users owner ON owner.id = lead.user_id
          JOIN res_users colleague ON colleague.id = line.to_user_id
         WHERE users.login = 'ma.jun' AND line.kind = 'opportunity'
        """
    )
    rows = scratch_db.fetchall()
    assert len(rows) == 3, rows
    assert all(owner == colleague and active for _n, owner, active, colleague in rows)
