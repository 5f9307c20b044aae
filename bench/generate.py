#!/usr/bin/env python3
"""Generate a large, consistent sales funnel data set directly in SQL.

Usage (the database must have sales_funnel installed, ideally without demo):

    python3 bench/generate.py -c /tmp/odoo.conf --dbname bn_100k --leads 100000

What it creates (appends; run it on a fresh database):

* ~50 salespeople (``bench_sp_01`` … ``bench_sp_50``, password = login) in ~8
  sales teams, through the ORM (they are few);
* N/20 customer companies (``res.partner``), in SQL;
* N opportunities (``crm.lead``) in SQL: a realistic spread over the funnel
  stages (open ≈ 58 %, won ≈ 20 %, lost ≈ 22 %), salespeople, customers,
  amounts (log-uniform 5,000 – 1,000,000) and expected closing dates over the
  past year and the next six months; each with one of the four sources
  (``funnel_source``: repeat ≈ 25 %, referral ≈ 15 %, campaign ≈ 30 % with one
  of ~20 UTM campaigns, prospecting ≈ 30 %), the campaign and referral ones
  qualified from the lead pool (``date_conversion``);
* N/10 leads of the pool (``type = 'lead'``) from the same campaigns, a fifth
  of them disqualified, half of the others claimed;
* a CONSISTENT stage history (``crm.lead.stage.history``) for each of them:
  a ``create`` event in the first stage (sometimes the second), one ``forward``
  event per stage up to the furthest stage reached, sometimes one ``backward``
  move, then ``won`` or ``lost``; event dates strictly increase, the
  opportunity's ``date_last_stage_update`` is the date of its last stage
  change and ``days_in_previous_stage`` is the time between two events;
* the checklist lines (``crm.lead.criterion``) of the current stage of each
  open opportunity, about half of them ticked (``--no-checklist`` to skip);
* a planned activity on about a quarter of the open opportunities (some
  overdue), so that the "stuck" search and the kanban activity progress bar
  have realistic work to do;
* monthly sales targets and a year of evaluated forecast snapshots (see
  :func:`generate_targets` and :func:`generate_snapshots`).

Everything is one ``INSERT … SELECT`` per table (``generate_series``), so
1,000,000 opportunities take a few minutes; ANALYZE runs at the end.
"""

import argparse
import logging
import math
import re
import time

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

_logger = logging.getLogger("bench.generate")

N_USERS = 50
N_TEAMS = 8
# Share of the opportunities by outcome.
SHARE_WON = 0.20
SHARE_LOST = 0.22
# Spread of open opportunities over the open stages, top of the funnel first,
# and the stage where lost opportunities were lost (padded/trimmed to the
# number of stages of the database).
OPEN_WEIGHTS = [0.38, 0.27, 0.20, 0.15]
LOST_WEIGHTS = [0.45, 0.30, 0.15, 0.10]
SHARE_BACKWARD = 0.08  # open deals that went one stage too far, then back
SHARE_START_SECOND = 0.10  # deals created directly in the second stage
SHARE_UNASSIGNED = 0.02
SHARE_ACTIVITY = 0.25
N_CAMPAIGNS = 20
# The four sources of an opportunity, and their cumulative shares.
SOURCE_CUTS = [("repeat", 0.25), ("referral", 0.40), ("campaign", 0.70)]


def log(msg, *args):
    print(time.strftime("%H:%M:%S"), msg % args if args else msg, flush=True)


def thresholds(weights, count):
    """Inner cumulative thresholds for ``width_bucket`` (``count`` buckets)."""
    weights = (list(weights) + [weights[-1]] * count)[:count]
    total = sum(weights)
    cumulative, running = [], 0.0
    for weight in weights[:-1]:
        running += weight / total
        cumulative.append(running)
    return cumulative or [1.0]


def table_columns(cr, table):
    """{column: (not null without default)} of a table."""
    cr.execute(
        """
        SELECT column_name, is_nullable = 'NO' AND column_default IS NULL
          FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = %s
        """,
        [table],
    )
    return dict(cr.fetchall())


def table_model(env, table):
    """The model stored in ``table`` (the one named after it first)."""
    models = [
        env[name]
        for name, model in env.registry.items()
        if model._table == table and model._auto and not model._abstract
    ]
    models.sort(key=lambda model: model._name.replace(".", "_") != table)
    return models[0] if models else None


def required_defaults(env, table, covered):
    """{column: SQL parameter} for the required columns ``covered`` leaves out.

    Required: NOT NULL without a column default in the database, or a stored
    field declared ``required`` in the registry. The value is the default the
    ORM gives a new record (``default_get``: field defaults, ``ir.default``),
    so a required field added by a module is filled without touching the
    generator. A required column without a default cannot be guessed: the run
    stops and names it.
    """
    model = table_model(env, table)
    required = {name for name, needed in table_columns(env.cr, table).items() if needed}
    if model is not None:
        required |= {
            name
            for name, field in model._fields.items()
            if field.store and field.column_type and field.required
        }
    missing = sorted(required - set(covered) - {"id"})
    if not missing:
        return {}
    fields = model._fields if model is not None else {}
    defaults = model.default_get([n for n in missing if n in fields]) if fields else {}
    values = {
        name: fields[name].convert_to_column_insert(defaults[name], model)
        for name in missing
        if name in defaults
    }
    unknown = [name for name in missing if values.get(name) is None]
    if unknown:
        raise SystemExit(
            f"{table}: required columns without a default, the generator must "
            f"fill them: {', '.join(unknown)}"
        )
    return values


INSERT_SELECT = re.compile(r"\s*INSERT INTO (\w+) \(([^)]*)\)\s*SELECT\s", re.S)


def insert_select(env, query, params):
    """Run ``INSERT INTO table (columns) SELECT …``, adding the required
    columns it leaves out with their ORM default (:func:`required_defaults`).
    Returns the number of rows inserted."""
    match = INSERT_SELECT.match(query)
    if not match:
        raise ValueError("not an INSERT INTO table (columns) SELECT statement")
    table, columns = match.group(1), match.group(2)
    extra = required_defaults(env, table, [name.strip() for name in columns.split(",")])
    if extra:
        names = ", ".join(extra)
        values = ", ".join(f"%(required_{name})s" for name in extra)
        query = (
            f"INSERT INTO {table} ({names}, {columns}) SELECT {values}, "
            + query[match.end() :]
        )
        params = {
            **params,
            **{f"required_{name}": value for name, value in extra.items()},
        }
    env.cr.execute(query, params)
    return env.cr.rowcount


# ----------------------------------------------------------------------
# Users, teams, partners (setup)
# ----------------------------------------------------------------------


def set_passwords(env, logins):
    """Password = login, hashed with few rounds (Odoo's 600,000 rounds cost
    ≈ 0.4 s a user; these are throw-away bench accounts). Passlib verifies
    the hash with the rounds it names, Odoo rehashes it at the first login."""
    from passlib.hash import pbkdf2_sha512

    env.flush_all()
    hasher = pbkdf2_sha512.using(rounds=1000)
    env.cr.executemany(
        "UPDATE res_users SET password = %s WHERE login = %s",
        [(hasher.hash(login), login) for login in logins],
    )


def ensure_sales_force(env):
    """~50 salespeople in ~8 teams (ORM: they are few). Idempotent."""
    Users = env["res.users"].with_context(
        no_reset_password=True, mail_create_nosubscribe=True, tracking_disable=True
    )
    group = env.ref("sales_team.group_sale_salesman")
    logins = [f"bench_sp_{i:02d}" for i in range(1, N_USERS + 1)]
    existing = Users.search([("login", "in", logins)])
    missing = [login for login in logins if login not in existing.mapped("login")]
    if missing:
        Users.create(
            [
                {
                    "name": f"Bench Salesperson {login[-2:]}",
                    "login": login,
                    "email": f"{login}@bench.example.com",
                    "groups_id": [(6, 0, [group.id])],
                }
                for login in missing
            ]
        )
        set_passwords(env, missing)
    users = Users.search([("login", "in", logins)], order="login")
    Team = env["crm.team"].with_context(tracking_disable=True)
    teams = Team.search([("name", "=like", "Bench Team %")], order="name")
    if not teams:
        per_team = math.ceil(len(users) / N_TEAMS)
        teams = Team.create(
            [
                {
                    "name": f"Bench Team {t + 1}",
                    "user_id": users[t * per_team].id,
                    "member_ids": [
                        (6, 0, users[t * per_team : (t + 1) * per_team].ids)
                    ],
                }
                for t in range(N_TEAMS)
                if users[t * per_team : (t + 1) * per_team]
            ]
        )
    env.flush_all()
    team_of = {}
    for team in teams:
        for user in team.member_ids:
            team_of[user.id] = team.id
    user_ids = [user.id for user in users if user.id in team_of]
    return user_ids, [team_of[uid] for uid in user_ids]


def create_partners(env, count, uid):
    cr = env.cr
    industry_ids = env["res.partner.industry"].search([]).ids
    insert_select(
        env,
        """
        INSERT INTO res_partner (name, complete_name, active, is_company, type,
                                 lang, autopost_bills, customer_rank, email,
                                 industry_id, company_size,
                                 create_uid, write_uid, create_date, write_date)
        SELECT 'Bench Customer ' || g, 'Bench Customer ' || g, TRUE, TRUE,
               'contact', 'en_US', 'ask', 1,
               'buyer' || g || '@customer.example.com',
               (%(industry_ids)s::integer[])[1 + g %% %(n_industries)s],
               (ARRAY['micro', 'small', 'medium', 'large'])[1 + g %% 4],
               %(uid)s, %(uid)s, now() at time zone 'UTC', now() at time zone 'UTC'
          FROM generate_series(1, %(count)s) g
        RETURNING id
        """,
        {
            "count": count,
            "uid": uid,
            # The facts Verification asks for (entry rules): industry, size.
            "industry_ids": industry_ids,
            "n_industries": len(industry_ids),
        },
    )
    ids = sorted(row[0] for row in cr.fetchall())
    first, last = ids[0], ids[-1]
    if last - first + 1 != len(ids):
        raise SystemExit("partner ids are not contiguous (concurrent inserts?)")
    cr.execute(
        """
        UPDATE res_partner SET commercial_partner_id = id
         WHERE id BETWEEN %s AND %s
        """,
        [first, last],
    )
    return first, last


# ----------------------------------------------------------------------
# Opportunities and their history
# ----------------------------------------------------------------------

# Date of event k of a plan row: slot k of n_ev equal slots of the span, at a
# pseudo-random (but reproducible: hash of id and k) point in its first 90 %.
# Event 0 (create) is at the creation date. Slots make dates strictly increase.
DATE_FUNCTION = """
CREATE OR REPLACE FUNCTION pg_temp.bn_event_date(
    created timestamp, span interval, k integer, n integer, lead integer)
RETURNS timestamp LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN k <= 0 THEN created
           ELSE created + span * ((k + 0.9 * ((hashint4(lead * 16 + k) & 1048575)
                                  / 1048576.0)) / n)
           END
$$
"""


def create_plan(cr, ctx):
    """One row per opportunity to create, with every random decision taken."""
    cr.execute(DATE_FUNCTION)
    cr.execute("DROP TABLE IF EXISTS bn_plan")
    cr.execute(
        """
        CREATE TEMP TABLE bn_plan AS
        WITH base AS (
            SELECT g AS seq,
                   nextval('crm_lead_id_seq')::integer AS id,
                   random() AS u_outcome, random() AS u_rank, random() AS u_back,
                   random() AS u_start, random() AS u_user, random() AS u_span,
                   random() AS u_age, random() AS u_amount, random() AS u_deadline,
                   random() AS u_partner, random() AS u_prio,
                   random() AS u_source, random() AS u_campaign
              FROM generate_series(1, %(n)s) g
        ), outcome AS (
            SELECT b.*,
                   CASE WHEN u_outcome < %(won)s THEN 'won'
                        WHEN u_outcome < %(won)s + %(lost)s THEN 'lost'
                        ELSE 'open' END AS outcome
              FROM base b
        ), ranked AS (
            SELECT o.*,
                   CASE outcome
                        WHEN 'won' THEN %(k)s
                        WHEN 'lost' THEN width_bucket(u_rank, %(lost_cut)s::float[]) + 1
                        ELSE width_bucket(u_rank, %(open_cut)s::float[]) + 1
                   END AS cur_rank
              FROM outcome o
        ), shaped AS (
            SELECT r.*,
                   (outcome = 'open' AND cur_rank < %(k)s
                    AND u_back < %(back)s) AS back,
                   CASE WHEN cur_rank >= 2 AND u_start < %(start2)s THEN 2 ELSE 1 END
                       AS start_rank,
                   (now() at time zone 'UTC') - CASE WHEN u_outcome < %(won)s + %(lost)s
                        THEN 30 + u_age * 510 ELSE 10 + u_age * 290 END
                       * interval '1 day'
                       AS created,
                   1 + floor(u_user * %(n_users)s)::integer AS user_idx
              FROM ranked r
        )
        SELECT s.*,
               cur_rank + back::integer AS peak_rank,
               1 + (cur_rank + back::integer - start_rank) + back::integer
                 + (outcome = 'won')::integer AS n_stage_ev,
               1 + (cur_rank + back::integer - start_rank) + back::integer
                 + (outcome <> 'open')::integer AS n_ev,
               ((now() at time zone 'UTC') - created)
                 * CASE WHEN outcome = 'open' THEN 0.3 + 0.7 * u_span
                        ELSE 0.5 + 0.5 * u_span END AS span,
               CASE WHEN u_outcome > 1 - %(unassigned)s THEN NULL
                    ELSE (%(user_ids)s::integer[])[user_idx] END AS user_id,
               (%(team_ids)s::integer[])[user_idx] AS team_id,
               %(p_first)s + floor(u_partner * (%(p_last)s - %(p_first)s + 1))::integer
                   AS partner_id,
               round((exp(ln(5000) + u_amount * ln(200)) / 100)::numeric) * 100
                   AS amount,
               CASE WHEN outcome = 'won' THEN %(won_id)s
                    ELSE (%(stage_ids)s::integer[])[cur_rank] END AS stage_id,
               CASE WHEN outcome = 'won' THEN 100.0
                    WHEN outcome = 'lost' THEN 0.0
                    ELSE (%(rates)s::float[])[cur_rank] END AS probability,
               CASE WHEN u_source < %(cut_repeat)s THEN 'repeat'
                    WHEN u_source < %(cut_referral)s THEN 'referral'
                    WHEN u_source < %(cut_campaign)s THEN 'campaign'
                    ELSE 'prospecting' END AS funnel_source
          FROM shaped s
        """,
        ctx,
    )
    cr.execute("ALTER TABLE bn_plan ADD PRIMARY KEY (id)")
    cr.execute("ANALYZE bn_plan")


def insert_leads(env, ctx):
    return insert_select(
        env,
        """
        INSERT INTO crm_lead (
            id, name, type, active, company_id, user_id, team_id, partner_id,
            stage_id, priority, color, expected_revenue, probability,
            automated_probability, prorated_revenue, date_deadline, date_open,
            date_closed, date_last_stage_update, create_date, write_date,
            create_uid, write_uid, email_from, partner_name,
            funnel_source, campaign_id, date_conversion, contact_name, state_id)
        SELECT p.id, 'Bench opportunity ' || p.seq, 'opportunity',
               p.outcome <> 'lost', %(company_id)s, p.user_id, p.team_id,
               p.partner_id, p.stage_id,
               (floor(p.u_prio * p.u_prio * 4))::integer::varchar, 0,
               p.amount, p.probability, p.probability,
               round(p.amount * p.probability::numeric / 100, 2),
               CASE WHEN p.outcome = 'open'
                    THEN current_date + (floor(p.u_deadline * 546) - 365)::integer
                    ELSE pg_temp.bn_event_date(p.created, p.span, p.n_ev - 1,
                                               p.n_ev, p.id)::date
               END,
               p.created,
               CASE WHEN p.outcome <> 'open'
                    THEN pg_temp.bn_event_date(p.created, p.span, p.n_ev - 1,
                                               p.n_ev, p.id) END,
               pg_temp.bn_event_date(p.created, p.span, p.n_stage_ev - 1,
                                     p.n_ev, p.id),
               p.created,
               pg_temp.bn_event_date(p.created, p.span, p.n_ev - 1, p.n_ev, p.id),
               %(uid)s, %(uid)s,
               'buyer' || (p.partner_id - %(p_first)s + 1) || '@customer.example.com',
               'Bench Customer ' || (p.partner_id - %(p_first)s + 1),
               p.funnel_source,
               CASE WHEN p.funnel_source = 'campaign' THEN
                    (%(campaign_ids)s::integer[])[
                        1 + floor(p.u_campaign * %(n_campaigns)s)::integer]
               END,
               CASE WHEN p.funnel_source IN ('campaign', 'referral')
                    THEN p.created END,
               'Bench Contact ' || p.seq, %(state_id)s
          FROM bn_plan p
         ORDER BY p.id
        """,
        ctx,
    )


def ensure_campaigns(env):
    """~20 marketing campaigns (ORM: they are few). Idempotent."""
    Campaign = env["utm.campaign"].with_context(tracking_disable=True)
    titles = [f"Bench Campaign {i:02d}" for i in range(1, N_CAMPAIGNS + 1)]
    existing = Campaign.search([("title", "in", titles)])
    missing = [t for t in titles if t not in existing.mapped("title")]
    if missing:
        Campaign.create([{"title": title} for title in missing])
    env.flush_all()
    return Campaign.search([("title", "in", titles)], order="id").ids


def insert_pool_leads(env, ctx):
    """The lead pool: N/10 leads from the campaigns, over the last 90 days;
    a fifth disqualified (archived), half of the others claimed."""
    return insert_select(
        env,
        """
        INSERT INTO crm_lead (
            name, type, active, company_id, user_id, team_id, stage_id,
            priority, color, expected_revenue, probability, automated_probability,
            date_open, create_date, write_date, date_last_stage_update,
            create_uid, write_uid, email_from, partner_name, funnel_source,
            campaign_id)
        SELECT 'Bench lead ' || g, 'lead', r.u_active >= 0.2, %(company_id)s,
               CASE WHEN r.u_claim < 0.5
                    THEN (%(user_ids)s::integer[])[
                        1 + floor(r.u_user * %(n_users)s)::integer] END,
               NULL, (%(stage_ids)s::integer[])[1], '0', 0, 0, 0, 0,
               CASE WHEN r.u_claim < 0.5 THEN r.created END,
               r.created, r.created, r.created, %(uid)s, %(uid)s,
               'lead' || g || '@prospect.example.com', 'Bench Prospect ' || g,
               'campaign',
               (%(campaign_ids)s::integer[])[
                   1 + floor(r.u_campaign * %(n_campaigns)s)::integer]
          FROM generate_series(1, GREATEST(%(n)s / 10, 1)) g,
               LATERAL (
                   SELECT random() AS u_active, random() AS u_claim,
                          random() AS u_user, random() AS u_campaign,
                          (now() at time zone 'UTC')
                              - (random() * 90 + g * 0) * interval '1 day'
                              AS created
               ) r
        """,
        ctx,
    )


def insert_history(env, ctx):
    """One row per event; k = 0 … n_ev - 1 (see the module docstring)."""
    return insert_select(
        env,
        """
        INSERT INTO crm_lead_stage_history (
            lead_id, event, from_stage_id, to_stage_id, date, user_id,
            salesperson_id, team_id, company_id, expected_revenue, win_rate,
            weighted_revenue, days_in_previous_stage, create_uid, write_uid,
            create_date, write_date)
        SELECT e.id, e.event,
               CASE WHEN e.event = 'create' THEN NULL
                    ELSE (%(all_ids)s::integer[])[e.from_rank] END,
               (%(all_ids)s::integer[])[e.to_rank],
               e.date, COALESCE(e.user_id, %(uid)s), e.user_id, e.team_id,
               %(company_id)s, e.amount, e.rate,
               round(e.amount * e.rate::numeric / 100, 2),
               CASE WHEN e.k = 0 THEN 0.0
                    ELSE extract(epoch FROM e.date - pg_temp.bn_event_date(
                             e.created, e.span, e.k - 1, e.n_ev, e.id)) / 86400
               END,
               %(uid)s, %(uid)s, e.date, e.date
          FROM (
            SELECT x.*,
                   pg_temp.bn_event_date(x.created, x.span, x.k, x.n_ev, x.id) AS date,
                   CASE WHEN x.event = 'lost' THEN 0.0
                        ELSE (%(all_rates)s::float[])[x.to_rank] END AS rate
              FROM (
                SELECT p.id, p.created, p.span, p.n_ev, p.user_id, p.team_id,
                       p.amount, k,
                       CASE WHEN k = 0 THEN 'create'
                            WHEN k <= p.peak_rank - p.start_rank THEN 'forward'
                            WHEN p.back AND k = p.peak_rank - p.start_rank + 1
                                 THEN 'backward'
                            WHEN p.outcome = 'won' THEN 'won'
                            ELSE 'lost' END AS event,
                       CASE WHEN k = 0 THEN NULL
                            WHEN k <= p.peak_rank - p.start_rank
                                 THEN p.start_rank + k - 1
                            WHEN p.back AND k = p.peak_rank - p.start_rank + 1
                                 THEN p.peak_rank
                            ELSE p.cur_rank END AS from_rank,
                       CASE WHEN k <= p.peak_rank - p.start_rank
                                 THEN p.start_rank + k
                            WHEN p.back AND k = p.peak_rank - p.start_rank + 1
                                 THEN p.peak_rank - 1
                            WHEN p.outcome = 'won' THEN %(k_won)s
                            ELSE p.cur_rank END AS to_rank
                  FROM bn_plan p, generate_series(0, p.n_ev - 1) k
              ) x
          ) e
         ORDER BY e.id, e.k
        """,
        ctx,
    )


def insert_checklists(env, ctx):
    """Checklist lines of the current stage of open opportunities."""
    return insert_select(
        env,
        """
        INSERT INTO crm_lead_criterion (
            lead_id, criterion_id, stage_id, company_id, active, in_current_stage,
            done, done_user_id, done_date, create_uid, write_uid, create_date,
            write_date)
        SELECT p.id, c.id, c.stage_id, %(company_id)s, TRUE, TRUE, t.done,
               CASE WHEN t.done THEN COALESCE(p.user_id, %(uid)s) END,
               CASE WHEN t.done THEN pg_temp.bn_event_date(
                   p.created, p.span, p.n_stage_ev - 1, p.n_ev, p.id) END,
               %(uid)s, %(uid)s, p.created, p.created
          FROM bn_plan p
          JOIN crm_stage_criterion c
            ON c.stage_id = p.stage_id AND c.active
           AND (c.company_id IS NULL OR c.company_id = %(company_id)s),
               LATERAL (SELECT (hashint4(p.id * 64 + c.id) & 1) = 0 AS done) t
         WHERE p.outcome = 'open'
         ORDER BY p.id, c.id
        """,
        ctx,
    )


def insert_activities(env, ctx):
    """A planned to-do on some open opportunities (due from -7 to +21 days)."""
    return insert_select(
        env,
        """
        INSERT INTO mail_activity (
            res_model_id, res_model, res_id, res_name, activity_type_id, summary,
            date_deadline, user_id, automated, active, create_uid, write_uid,
            create_date, write_date)
        SELECT %(lead_model_id)s, 'crm.lead', p.id, 'Bench opportunity ' || p.seq,
               %(todo_id)s, 'Follow up',
               current_date + (hashint4(p.id) & 31) %% 29 - 7,
               COALESCE(p.user_id, %(uid)s), FALSE, TRUE, %(uid)s, %(uid)s,
               now() at time zone 'UTC', now() at time zone 'UTC'
          FROM bn_plan p
         WHERE p.outcome = 'open'
           AND (hashint4(p.id * 7) & 1023) < %(share)s * 1024
        """,
        ctx,
    )


# ----------------------------------------------------------------------
# Targets and forecast snapshots
# ----------------------------------------------------------------------


def insert_columns(env, table, columns, select_sql, params):
    """INSERT into ``table`` the ``columns`` (name: SQL expression over the
    rows of ``select_sql``, aliased ``src``). The other required columns get
    their ORM default (:func:`insert_select`); one without a default stops
    the run."""
    return insert_select(
        env,
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 (fixed names)
        f"SELECT {', '.join(columns.values())} FROM ({select_sql}) src",
        params,
    )


def generate_targets(env, ctx):
    """Monthly sales targets (``crm.sales.target``) per salesperson and team.

    Target = 110 % of the person's (or team's) average won amount per month over
    the generated year, from twelve months back to six months ahead. A target
    names a salesperson or a team, never both (a CHECK of the model).
    """
    select_sql = """
        WITH won AS (
            SELECT user_id, team_id, sum(expected_revenue) / 12 AS monthly
              FROM crm_lead
             WHERE id IN (SELECT id FROM bn_plan WHERE outcome = 'won')
             GROUP BY GROUPING SETS ((user_id), (team_id))
        )
        SELECT won.user_id, won.team_id, m::date AS date_from,
               (m + interval '1 month' - interval '1 day')::date AS date_to,
               round(won.monthly * 1.1, -3) AS amount
          FROM won,
               generate_series(date_trunc('month', current_date) - interval '12 months',
                               date_trunc('month', current_date) + interval '6 months',
                               interval '1 month') m
         WHERE won.user_id IS NOT NULL OR won.team_id IS NOT NULL
    """
    uid, company = ctx["uid"], ctx["company_id"]
    columns = {
        "user_id": "src.user_id",
        "team_id": "src.team_id",
        "company_id": str(company),
        "period_type": "'month'",
        "period_date": "src.date_from",
        "date_from": "src.date_from",
        "date_to": "src.date_to",
        "amount": "src.amount",
        "create_uid": str(uid),
        "write_uid": str(uid),
        "create_date": "now() at time zone 'UTC'",
        "write_date": "now() at time zone 'UTC'",
    }
    return insert_columns(env, "crm_sales_target", columns, select_sql, {})


def generate_snapshots(env, ctx):
    """Evaluated monthly forecast snapshots (``crm.forecast.snapshot``).

    For each of the last twelve months and each salesperson who won in it: the
    forecast frozen on the 1st of the month before (the won amount times a
    random 0.6-1.5), the amount actually won, the error and the 35 % tolerance
    of a salesperson, as the monthly job would have left them.
    """
    select_sql = """
        WITH won AS (
            SELECT l.user_id, date_trunc('month', l.date_closed)::date AS month,
                   sum(l.expected_revenue) AS actual
              FROM crm_lead l
             WHERE l.id IN (SELECT id FROM bn_plan WHERE outcome = 'won')
               AND l.user_id IS NOT NULL
               AND l.date_closed >= date_trunc('month', current_date)
                                    - interval '12 months'
               AND l.date_closed < date_trunc('month', current_date)
             GROUP BY 1, 2
        ), forecast AS (
            SELECT won.*,
                   round(won.actual * (0.6 + random() * 0.9)::numeric, -3) AS amount
              FROM won
        )
        SELECT user_id, month, actual, amount,
               (month - interval '1 month')::date AS snapshot_date,
               (month + interval '1 month' - interval '1 day')::date AS month_end,
               CASE WHEN actual = 0 THEN 100
                    ELSE round(abs(amount - actual) / actual * 100, 2) END AS error
          FROM forecast
    """
    uid, company = ctx["uid"], ctx["company_id"]
    columns = {
        "snapshot_date": "src.snapshot_date",
        "company_id": str(company),
        "level": "'salesperson'",
        "user_id": "src.user_id",
        "period_type": "'month'",
        "date_from": "src.month",
        "date_to": "src.month_end",
        "system_amount": "src.amount",
        "submitted_amount": "0",
        "forecast_amount": "src.amount",
        "state": "'evaluated'",
        "actual_amount": "src.actual",
        "error_pct": "src.error",
        "system_error_pct": "src.error",
        "tolerance_pct": "35",
        "within_tolerance": "src.error <= 35",
        "create_uid": str(uid),
        "write_uid": str(uid),
        "create_date": "now() at time zone 'UTC'",
        "write_date": "now() at time zone 'UTC'",
    }
    return insert_columns(env, "crm_forecast_snapshot", columns, select_sql, {})


# ----------------------------------------------------------------------


def funnel_stages(cr):
    """Open stages in funnel order and the won stage (shared stages only)."""
    cr.execute(
        """
        SELECT id, win_rate, is_won FROM crm_stage
         WHERE team_id IS NULL ORDER BY sequence, id
        """
    )
    rows = cr.fetchall()
    open_stages = [(sid, rate) for sid, rate, won in rows if not won]
    won = [(sid, rate) for sid, rate, won in rows if won]
    if len(open_stages) < 2 or not won:
        raise SystemExit("need at least two open stages and a won stage")
    return open_stages, won[0]


def generate(env, n_leads, checklist=True, seed=0.42, commit=True):
    """Create the data set; ``commit=False`` leaves it in the open transaction
    (bench/smoke.py measures it there and rolls it back)."""
    cr = env.cr
    started = time.time()
    uid = SUPERUSER_ID
    company_id = env.company.id
    user_ids, team_ids = ensure_sales_force(env)
    log("sales force: %d salespeople in %d teams", len(user_ids), len(set(team_ids)))
    p_first, p_last = create_partners(env, max(n_leads // 20, 10), uid)
    log("partners: %d", p_last - p_first + 1)
    open_stages, won_stage = funnel_stages(cr)
    k = len(open_stages)
    campaign_ids = ensure_campaigns(env)
    ctx = {
        "n": n_leads,
        "k": k,
        "k_won": k + 1,
        "won": SHARE_WON,
        "lost": SHARE_LOST,
        "back": SHARE_BACKWARD,
        "start2": SHARE_START_SECOND,
        "unassigned": SHARE_UNASSIGNED,
        "open_cut": thresholds(OPEN_WEIGHTS, k),
        "lost_cut": thresholds(LOST_WEIGHTS, k),
        "n_users": len(user_ids),
        "user_ids": user_ids,
        "team_ids": team_ids,
        "p_first": p_first,
        "p_last": p_last,
        "stage_ids": [sid for sid, _rate in open_stages],
        "rates": [rate for _sid, rate in open_stages],
        "all_ids": [sid for sid, _rate in open_stages] + [won_stage[0]],
        "all_rates": [rate for _sid, rate in open_stages] + [100.0],
        "won_id": won_stage[0],
        "uid": uid,
        "company_id": company_id,
        "lead_model_id": env["ir.model"]._get_id("crm.lead"),
        "todo_id": env.ref("mail.mail_activity_data_todo").id,
        "share": SHARE_ACTIVITY,
        "campaign_ids": campaign_ids,
        "n_campaigns": len(campaign_ids),
        # The region Verification asks for (entry rules).
        "state_id": env.ref("base.state_cn_SH").id,
        **{f"cut_{source}": cut for source, cut in SOURCE_CUTS},
    }
    cr.execute("SELECT setseed(%s)", [seed])
    create_plan(cr, ctx)
    log("plan: %d opportunities", n_leads)
    log("crm_lead: %d rows", insert_leads(env, ctx))
    log("crm_lead (pool): %d rows", insert_pool_leads(env, ctx))
    log("crm_lead_stage_history: %d rows", insert_history(env, ctx))
    if checklist:
        log("crm_lead_criterion: %d rows", insert_checklists(env, ctx))
    log("mail_activity: %d rows", insert_activities(env, ctx))
    # Stored dates of the Stuck filter, from the rows above (one UPDATE, planned
    # on statistics that count them).
    cr.execute("ANALYZE crm_lead, mail_activity")
    log("stuck dates: %d opportunities", env["crm.lead"]._update_stuck_dates())
    log("targets: %d", generate_targets(env, ctx))
    log("snapshots: %d", generate_snapshots(env, ctx))
    cr.execute("DROP TABLE bn_plan")
    env.invalidate_all()
    if commit:
        log("committing")
        cr.commit()
    for table in (
        "res_partner",
        "crm_lead",
        "crm_lead_stage_history",
        "crm_lead_criterion",
        "mail_activity",
        "crm_sales_target",
        "crm_forecast_snapshot",
    ):
        cr.execute(f"ANALYZE {table}")  # noqa: S608 (fixed names)
    if commit:
        cr.commit()
    log("done in %.0f s", time.time() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dbname", "-d", required=True)
    parser.add_argument("--config", "-c", help="Odoo configuration file")
    parser.add_argument("--leads", "-n", type=int, default=100000)
    parser.add_argument(
        "--no-checklist",
        action="store_true",
        help="do not create the checklist lines of the current stages",
    )
    parser.add_argument("--seed", type=float, default=0.42, help="-1 … 1")
    args = parser.parse_args()
    odoo_args = ["-c", args.config] if args.config else []
    odoo.tools.config.parse_config([*odoo_args, "-d", args.dbname])
    registry = Registry(args.dbname)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        generate(env, args.leads, checklist=not args.no_checklist, seed=args.seed)


if __name__ == "__main__":
    main()
