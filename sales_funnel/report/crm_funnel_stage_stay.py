"""Stage Analysis' rows, kept exact by PostgreSQL in the writing transaction.

One row per opportunity and funnel stage it reached (its stays there added
up), as ``crm.funnel.stage.report`` shows them; Source Effectiveness sums them
by source (``crm_funnel_source_sums.py``) and reads the opportunity's source,
campaign, dates, amount and won state copied here. Rebuilding them from the whole
stage history on every read took 10 s at 1,000,000 opportunities; statement
triggers recompute instead the rows of the opportunities whose history a
statement changed (a stage change: one opportunity, a few rows), and copy the
opportunity's salesperson, team, company, customer and type when they change.
Only a change of the funnel order of the stages (or of the won stage)
rebuilds every row (``rebuild_stage_stays``).
"""

from .. import funnel_terms as terms
from .delta_sums import drop_trigger, statement_trigger, trigger_function

TABLE = "crm_funnel_stage_stay"
_HISTORY = "crm_lead_stage_history"

# The opportunity's columns Source Effectiveness reads, copied onto its rows
# (added to an existing table on upgrade).
_LEAD_COPIES = {
    "funnel_source": "varchar",
    "campaign_id": "integer",
    "lead_date": "timestamp",
    "date_conversion": "timestamp",
    "amount": "numeric",
    "lead_won": "boolean",
}

_COLUMNS = """
    id integer PRIMARY KEY,
    lead_id integer NOT NULL,
    stage_id integer NOT NULL,
    date timestamp,
    user_id integer,
    team_id integer,
    company_id integer,
    partner_id integer,
    is_opportunity boolean NOT NULL,
    is_funnel_entry boolean NOT NULL,
    still_in_stage boolean NOT NULL,
    passed boolean NOT NULL,
    won boolean NOT NULL,
    days numeric,
    date_won timestamp,
    date_funnel_entry timestamp,
""" + ",".join(f"{name} {kind}" for name, kind in _LEAD_COPIES.items())

# Events that put an opportunity into a stage (a restore resumes a stay).
ENTRY_EVENTS = "('create', 'forward', 'backward')"
STAY_EVENTS = "('create', 'forward', 'backward', 'restore')"


def _lead_won(lead, stage):
    """SQL text: the opportunity ``lead`` (its stage ``stage`` joined) is won."""
    return f"COALESCE({terms.won_opportunity(lead, stage).code}, FALSE)"


# The figures of one row, as Stage Analysis shows them and as its kept sums
# (crm_funnel_stage_sums.py) add them up: one definition for both. Days are
# rounded to a fixed scale so that a sum has the same digits however it was
# added up (a numeric's scale is the largest of its terms').
DAYS_SCALE = 12


def outcome_state(stay):
    return f"""CASE WHEN {stay}.passed THEN 'passed'
                    WHEN {stay}.still_in_stage THEN 'in_stage'
                    ELSE 'stopped' END"""


def days_in_stage(stay):
    """Days spent in the stage, for the rows that left it."""
    return (
        f"CASE WHEN NOT {stay}.still_in_stage THEN round({stay}.days, {DAYS_SCALE}) END"
    )


def preset_win_rate(stage):
    """The stage's preset win rate, exact (a float's average depends on the
    order it is added up in)."""
    return f"round({stage}.win_rate::numeric, 6)"


def _days_between(start, end):
    return f"round(EXTRACT(EPOCH FROM {end} - {start}) / 86400.0, {DAYS_SCALE})"


def days_to_won(stay):
    return (
        f"CASE WHEN {stay}.won THEN"
        f" {_days_between(f'{stay}.date', f'{stay}.date_won')} END"
    )


def cycle_days(stay):
    """From funnel entry to the win, on the row of the funnel-entry stage."""
    return (
        f"CASE WHEN {stay}.won AND {stay}.is_funnel_entry THEN"
        f" {_days_between(f'{stay}.date_funnel_entry', f'{stay}.date_won')} END"
    )


def _stays(leads):
    """SELECT the rows of the opportunities ``leads`` (an SQL set of ids) from
    the stage history: the query Stage Analysis used to run on every read."""
    won = terms.won_stage("stage").code
    return f"""
        WITH ranks AS (
            -- Funnel order of the stages (few): a rank without a join.
            SELECT array_agg(id ORDER BY sequence, id) AS ranked FROM crm_stage
        ), step AS (
            SELECT history.id,
                   history.lead_id,
                   history.event,
                   history.to_stage_id,
                   history.date,
                   LEAD(history.date) OVER lead_time AS next_date,
                   -- The furthest stage reached after this event (Won: beyond all).
                   MAX(CASE WHEN history.event = 'won' THEN 2147483647
                            WHEN history.event = 'forward' THEN
                                array_position(ranks.ranked, history.to_stage_id)
                       END)
                       OVER (lead_time ROWS BETWEEN 1 FOLLOWING
                             AND UNBOUNDED FOLLOWING) AS reached_after,
                   MIN(history.date) FILTER (WHERE history.event = 'won')
                       OVER lead_all AS date_won,
                   MIN(history.date) OVER lead_all AS date_funnel_entry,
                   ROW_NUMBER() OVER lead_time = 1 AS is_funnel_entry
              FROM {_HISTORY} history, ranks
             WHERE history.lead_id IN ({leads})
            WINDOW lead_all AS (PARTITION BY history.lead_id),
                   lead_time AS (PARTITION BY history.lead_id
                                 ORDER BY history.date, history.id)
        ), stay AS (
            SELECT step.lead_id,
                   step.to_stage_id AS stage_id,
                   MIN(step.id) FILTER (WHERE step.event IN {ENTRY_EVENTS})
                       AS entry_id,
                   MIN(step.date) FILTER (WHERE step.event IN {ENTRY_EVENTS})
                       AS date,
                   -- Non-increasing in time: its maximum is the first entry's.
                   MAX(step.reached_after) FILTER (
                       WHERE step.event IN {ENTRY_EVENTS}) AS reached_after,
                   BOOL_OR(step.is_funnel_entry) AS is_funnel_entry,
                   BOOL_OR(step.next_date IS NULL) AS still_in_stage,
                   SUM(EXTRACT(EPOCH FROM step.next_date - step.date))
                       / 86400.0 AS days,
                   MIN(step.date_won) AS date_won,
                   MIN(step.date_funnel_entry) AS date_funnel_entry
              FROM step
             WHERE step.event IN {STAY_EVENTS}
             GROUP BY step.lead_id, step.to_stage_id
        )
        SELECT stay.entry_id, stay.lead_id, stay.stage_id, stay.date,
               lead.user_id, lead.team_id, lead.company_id, lead.partner_id,
               lead.type = 'opportunity',
               stay.is_funnel_entry, stay.still_in_stage,
               COALESCE(
                   stay.reached_after > array_position(ranks.ranked, stage.id),
                   FALSE
               ),
               COALESCE(stay.date_won >= stay.date, FALSE),
               stay.days, stay.date_won, stay.date_funnel_entry,
               lead.funnel_source, lead.campaign_id, lead.create_date,
               lead.date_conversion, COALESCE(lead.expected_revenue, 0),
               {_lead_won("lead", "lead_stage")}
          FROM stay
          JOIN crm_stage stage ON stage.id = stay.stage_id AND NOT {won}
          JOIN crm_lead lead ON lead.id = stay.lead_id
          LEFT JOIN crm_stage lead_stage ON lead_stage.id = lead.stage_id
          CROSS JOIN ranks
         WHERE stay.entry_id IS NOT NULL
    """


def _refresh(leads):
    """Replace the rows of the opportunities ``leads``."""
    return f"""
        DELETE FROM {TABLE} WHERE lead_id IN ({leads});
        INSERT INTO {TABLE} {_stays(leads)}
    """


# name: (event, referencing, body)
_TRIGGERS = {
    "sales_funnel_stay_insert": (
        "INSERT",
        "NEW TABLE AS new_rows",
        _refresh("SELECT lead_id FROM new_rows"),
    ),
    "sales_funnel_stay_delete": (
        "DELETE",
        "OLD TABLE AS old_rows",
        _refresh("SELECT lead_id FROM old_rows"),
    ),
    "sales_funnel_stay_update": (
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        _refresh("SELECT lead_id FROM old_rows UNION SELECT lead_id FROM new_rows"),
    ),
}
# The opportunity's columns the rows carry (a salesperson or team changed,
# a lead converted, a deal won): only the rows of the opportunities whose
# columns changed.
_LEAD_TRIGGER = "sales_funnel_stay_lead_update"
_LEAD_SOURCES = (
    "user_id",
    "team_id",
    "company_id",
    "partner_id",
    "type",
    "funnel_source",
    "campaign_id",
    "create_date",
    "date_conversion",
    "expected_revenue",
    "active",
    "stage_id",
)
_COPIED = (
    "user_id, team_id, company_id, partner_id, is_opportunity, funnel_source,"
    " campaign_id, lead_date, date_conversion, amount, lead_won"
)


def _copies(lead, stage):
    """SQL text: the values of ``_COPIED`` for the opportunity ``lead``."""
    return (
        f"{lead}.user_id, {lead}.team_id, {lead}.company_id, {lead}.partner_id,"
        f" {lead}.type = 'opportunity', {lead}.funnel_source, {lead}.campaign_id,"
        f" {lead}.create_date, {lead}.date_conversion,"
        f" COALESCE({lead}.expected_revenue, 0), {_lead_won(lead, stage)}"
    )


_LEAD_BODY = f"""
    UPDATE {TABLE} stay
       SET ({_COPIED}) = ({_copies("n", "ns")})
      FROM new_rows n
      JOIN old_rows o ON o.id = n.id
      LEFT JOIN crm_stage ns ON ns.id = n.stage_id
     WHERE stay.lead_id = n.id
       AND ({", ".join(f"o.{name}" for name in _LEAD_SOURCES)})
           IS DISTINCT FROM
           ({", ".join(f"n.{name}" for name in _LEAD_SOURCES)})
       AND ({", ".join(f"stay.{name.strip()}" for name in _COPIED.split(","))})
           IS DISTINCT FROM ({_copies("n", "ns")})
"""
# A stage that becomes (or stops being) a won stage wins (or reopens) the
# opportunities in it.
_STAGE_TRIGGER = "sales_funnel_stay_stage_won"
_STAGE_BODY = f"""
    UPDATE {TABLE} stay
       SET lead_won = {_lead_won("lead", "stage")}
      FROM crm_lead lead
      LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
     WHERE stay.lead_id = lead.id
       AND stay.lead_won IS DISTINCT FROM {_lead_won("lead", "stage")}
"""

_SETUP = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ({_COLUMNS});"
    + "".join(
        f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS {name} {kind};"
        for name, kind in _LEAD_COPIES.items()
    )
    + f"CREATE INDEX IF NOT EXISTS {TABLE}_lead_id_idx ON {TABLE} (lead_id);"
    # Stage Analysis' medians by stage: the rows come sorted from the index.
    f"CREATE INDEX IF NOT EXISTS {TABLE}_median_idx ON {TABLE}"
    " (stage_id, (CASE WHEN NOT still_in_stage THEN days END))"
    " INCLUDE (still_in_stage, days, partner_id) WHERE is_opportunity;"
    + "".join(
        trigger_function(name, body) + statement_trigger(name, _HISTORY, event, ref)
        for name, (event, ref, body) in _TRIGGERS.items()
    )
    + trigger_function(_LEAD_TRIGGER, _LEAD_BODY)
    + statement_trigger(
        _LEAD_TRIGGER,
        "crm_lead",
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    )
    + trigger_function(_STAGE_TRIGGER, _STAGE_BODY)
    + statement_trigger(_STAGE_TRIGGER, "crm_stage", "UPDATE OF is_won")
)
_REBUILD = f"""
    TRUNCATE {TABLE};
    INSERT INTO {TABLE} {_stays("SELECT id FROM crm_lead")};
    ANALYZE {TABLE};
"""
_DROP = (
    "".join(drop_trigger(name, _HISTORY) for name in _TRIGGERS)
    + drop_trigger(_LEAD_TRIGGER, "crm_lead")
    + drop_trigger(_STAGE_TRIGGER, "crm_stage")
    + f"DROP TABLE IF EXISTS {TABLE};"
)


def setup_stage_stays(env):
    """Create the table and its triggers; fill it when new or when it lacks
    the opportunity's columns (an upgrade)."""
    cr = env.cr
    cr.execute(
        "SELECT count(*) FROM information_schema.columns"
        " WHERE table_name = %s AND column_name IN %s",
        [TABLE, tuple(_LEAD_COPIES)],
    )
    complete = cr.fetchone()[0] == len(_LEAD_COPIES)
    cr.execute(_SETUP)
    if not complete:
        rebuild_stage_stays(env)


def rebuild_stage_stays(env):
    """Every row again: the funnel order of the stages or the won stage changed."""
    env["crm.lead.stage.history"].flush_model()
    env["crm.lead"].flush_model()
    env["crm.stage"].flush_model()
    env.cr.execute(_REBUILD)
    env["crm.funnel.stage.report"].invalidate_model()


def drop_stage_stays(env):
    env.cr.execute(_DROP)
