"""Pipeline as of a date from sums kept by PostgreSQL, exact for any moment.

Each opportunity's past is cut into spans (``crm_funnel_pipeline_span``):
from one change (a stage event, a tracked change of salesperson or amount)
to the next, its stage, status, salesperson and amount held, with the
report's own rules (``crm_funnel_pipeline_report``). A span counts at the
cutoff C when ``date_from < C <= date_to`` (no end: still holding), i.e. it
adds its figures at ``date_from`` and takes them back at ``date_to``.

Those movements are summed per (year, month, day) bucket in UTC into
``crm_funnel_pipeline_delta`` (a DeltaSums table) by statement triggers, in
the transaction that changes the stage history, the tracked values, their
messages, the opportunity or a stage's won flag: the spans of the
opportunities touched are recomputed from their sources, the old spans
withdrawn and the new ones added (unchanged spans cancel out). The pipeline
at C is then the whole years before C, the whole months of C's year before
C, the whole days of C's month before C, and the spans that start or end
on C's day before C: a few thousand rows at any C, in any time zone.

The expected closing is today's value of the opportunity, not of the span:
the month of its ``date_deadline`` (a date: the same in every time zone) is
kept on its spans, and the same movements are also summed per deadline month
into ``crm_funnel_pipeline_deadline_delta``, read only by the groupings by
expected closing (more rows: a table apart keeps the wizard's pivot as small
as it was; with quarters between years and months, fewer buckets read). A
new month moves the opportunity's spans from one month to the other (the
trigger on crm_lead).
"""

from datetime import datetime

from odoo.tools import SQL

from .. import funnel_terms as terms
from .delta_sums import (
    DeltaSums,
    changed_ids,
    drop_trigger,
    statement_trigger,
    trigger_function,
)

SPAN = "crm_funnel_pipeline_span"
_HISTORY = "crm_lead_stage_history"
_LEVELS = ("year", "month", "day")
# By deadline month a bucket holds more groups: quarters halve the months read.
_DEADLINE_LEVELS = ("year", "quarter", "month", "day")
# History events that change the stage (lost and restore keep it).
STAGE_EVENTS = "('create', 'forward', 'backward', 'won')"
_FIELD = "(SELECT id FROM ir_model_fields WHERE model = 'crm.lead' AND name = '{}')"
_USER_FIELD = _FIELD.format("user_id")
_AMOUNT_FIELD = _FIELD.format("expected_revenue")

# The dimensions a span is counted under: as of its time (stage, status,
# salesperson) and today's (company, team, today's salesperson for the rules).
DIMENSIONS = "company_id, team_id, owner_id, user_id, stage_id, state"
_SPAN_COLUMNS = """
    lead_id integer NOT NULL,
    date_from timestamp NOT NULL,
    date_to timestamp,
    company_id integer,
    team_id integer,
    owner_id integer,
    user_id integer,
    stage_id integer NOT NULL,
    state varchar NOT NULL,
    amount numeric,
    weighted numeric,
    win_rate numeric,
    date_stage timestamp,
    deadline_month date
"""

DELTAS = DeltaSums(
    "crm_funnel_pipeline_delta",
    group=f"level, bucket, {DIMENSIONS}",
    sums=[
        "cnt",
        "amount",
        "weighted",
        "win_rate_sum",
        "win_rate_cnt",
        "stage_epoch_sum",
        "stage_cnt",
    ],
    columns_sql="level varchar NOT NULL, bucket timestamp NOT NULL,"
    " company_id integer, team_id integer, owner_id integer, user_id integer,"
    " stage_id integer NOT NULL, state varchar NOT NULL,"
    " cnt integer NOT NULL, amount numeric NOT NULL, weighted numeric NOT NULL,"
    " win_rate_sum numeric NOT NULL, win_rate_cnt integer NOT NULL,"
    " stage_epoch_sum numeric NOT NULL, stage_cnt integer NOT NULL",
)
# The same sums, also per month of today's expected closing.
DEADLINE_DIMENSIONS = f"deadline_month, {DIMENSIONS}"
DEADLINE_DELTAS = DeltaSums(
    "crm_funnel_pipeline_deadline_delta",
    group=f"level, bucket, {DEADLINE_DIMENSIONS}",
    sums=DELTAS.sums,
    columns_sql=DELTAS.columns_sql.replace(
        "bucket timestamp NOT NULL,", "bucket timestamp NOT NULL, deadline_month date,"
    ),
)
_KEPT = (DELTAS, DEADLINE_DELTAS)


def _first_change(field, after):
    """The first tracked change of ``field`` of the span's opportunity after
    ``after``: its old value is the value of the span (the report's rule)."""
    return f"""
        SELECT message.id, tracking.old_value_integer, tracking.old_value_float
          FROM mail_message message
          JOIN mail_tracking_value tracking
            ON tracking.mail_message_id = message.id
         WHERE message.model = 'crm.lead'
           AND message.res_id = span.lead_id
           AND tracking.field_id = {field}
           AND message.date > {after}
         ORDER BY message.date, message.id
         LIMIT 1
    """


def _spans(among="= ANY(lead_ids)"):
    """SELECT the spans of the opportunities whose id is ``among`` (by default
    the array ``lead_ids`` of the refresh function; ``IS NOT NULL``: all)."""
    amount = "COALESCE(revenue.old_value_float::numeric, lead.expected_revenue)"
    weighted = terms.weighted_amount(SQL(amount), SQL("last.win_rate::numeric")).code
    return f"""
        WITH points AS (
            SELECT history.lead_id, history.date
              FROM {_HISTORY} history
             WHERE history.lead_id {among}
            UNION
            SELECT message.res_id, message.date
              FROM mail_message message
              JOIN mail_tracking_value tracking
                ON tracking.mail_message_id = message.id
             WHERE message.model = 'crm.lead'
               AND message.res_id {among}
               AND tracking.field_id IN ({_USER_FIELD}, {_AMOUNT_FIELD})
        ), span AS (
            SELECT lead_id, date AS date_from,
                   LEAD(date) OVER (PARTITION BY lead_id ORDER BY date) AS date_to
              FROM points
        )
        SELECT span.lead_id, span.date_from, span.date_to,
               lead.company_id, lead.team_id, lead.user_id,
               CASE WHEN owner.id IS NULL THEN lead.user_id
                    ELSE NULLIF(owner.old_value_integer, 0) END,
               last.to_stage_id,
               CASE WHEN last.event = 'lost' THEN 'lost'
                    WHEN {terms.won_stage("stage").code} THEN 'won'
                    ELSE 'open' END,
               {amount}, {weighted}, last.win_rate, last.date_stage,
               date_trunc('month', lead.date_deadline)::date
          FROM span
          JOIN crm_lead lead
            ON lead.id = span.lead_id AND lead.type = 'opportunity'
          -- The last event up to the span's start (none: before the first).
          CROSS JOIN LATERAL (
                SELECT history.event, history.to_stage_id, history.win_rate,
                       (SELECT MAX(moved.date) FROM {_HISTORY} moved
                         WHERE moved.lead_id = span.lead_id
                           AND moved.date <= span.date_from
                           AND moved.event IN {STAGE_EVENTS}) AS date_stage
                  FROM {_HISTORY} history
                 WHERE history.lead_id = span.lead_id
                   AND history.date <= span.date_from
                 ORDER BY history.date DESC, history.id DESC
                 LIMIT 1) last
          JOIN crm_stage stage ON stage.id = last.to_stage_id
          LEFT JOIN LATERAL ({_first_change(_USER_FIELD, "span.date_from")})
                owner ON TRUE
          LEFT JOIN LATERAL ({_first_change(_AMOUNT_FIELD, "span.date_from")})
                revenue ON TRUE
    """


def _moves(rows, sign):
    """The movements of the spans ``rows``: in at the start, out at the end."""
    figures = """
        {sign} AS cnt,
        {sign} * COALESCE(amount, 0) AS amount,
        {sign} * COALESCE(weighted, 0) AS weighted,
        {sign} * COALESCE(win_rate, 0) AS win_rate_sum,
        {sign} * (win_rate IS NOT NULL)::integer AS win_rate_cnt,
        {sign} * COALESCE(EXTRACT(EPOCH FROM date_stage), 0) AS stage_epoch_sum,
        {sign} * (date_stage IS NOT NULL)::integer AS stage_cnt
    """
    return f"""
        SELECT date_from AS date, {DEADLINE_DIMENSIONS}, {figures.format(sign=sign)}
          FROM {rows}
        UNION ALL
        SELECT date_to, {DEADLINE_DIMENSIONS}, {figures.format(sign=-sign)}
          FROM {rows} WHERE date_to IS NOT NULL
    """


_REFRESH_FUNCTION = "sales_funnel_pipeline_refresh"


def _level_moves(moves, levels=_DEADLINE_LEVELS):
    """The movements ``moves`` in the bucket of every level."""
    levels = ", ".join(f"('{level}')" for level in levels)
    return f"""
        SELECT levels.level, date_trunc(levels.level, moves.date) AS bucket,
               {DEADLINE_DIMENSIONS}, {", ".join(DELTAS.sums)}
          FROM ({moves}) moves
         CROSS JOIN (VALUES {levels}) AS levels(level)
    """


def _refresh_function():
    """The function replacing the spans of the opportunities ``lead_ids`` and
    adding the difference of their movements to the sums of every level (in
    both tables, from one pass over the movements).
    Planned for each call: a stage change refreshes one opportunity, the
    installation or an import all of them."""
    old, new = _moves("old_spans", -1), _moves("new_spans", 1)
    moves = _level_moves(f"{old} UNION ALL {new}")
    refresh = DELTAS.insert(
        "SELECT * FROM moves WHERE level <> 'quarter'",
        prefix=f"""
        WITH old_spans AS (
            DELETE FROM {SPAN} WHERE lead_id = ANY(lead_ids) RETURNING *
        ), new_spans AS (
            INSERT INTO {SPAN} {_spans()} RETURNING *
        ), moves AS MATERIALIZED ({moves}
        ), by_deadline AS ({DEADLINE_DELTAS.insert("TABLE moves")})
        """,
    )
    return f"""
        CREATE OR REPLACE FUNCTION {_REFRESH_FUNCTION}(lead_ids integer[])
        RETURNS void LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan
        AS $$
        BEGIN
            lead_ids := ARRAY(SELECT DISTINCT id FROM unnest(lead_ids) AS ids(id)
                               WHERE id IS NOT NULL);
            IF cardinality(lead_ids) > 0 THEN
                {refresh};
            END IF;
        END $$;
    """


# The opportunity's columns the spans read (their changes move its spans):
# of the expected closing, only its month.
_LEAD_CHANGED = changed_ids(
    ("user_id", "team_id", "company_id", "type", "expected_revenue"),
    ("date_trunc('month', {rows}.date_deadline)",),
)
_TRACKED = f"({_USER_FIELD}, {_AMOUNT_FIELD})"
_TRACKING_LEADS = f"""
    SELECT message.res_id FROM mail_message message
     WHERE message.model = 'crm.lead'
       AND message.id IN (SELECT mail_message_id FROM {{rows}}
                           WHERE field_id IN {_TRACKED})
"""
# A message re-dated or moved to another record (a merge of opportunities).
_MESSAGE_CHANGED = f"""
    SELECT unnest(ARRAY[CASE WHEN o.model = 'crm.lead' THEN o.res_id END,
                        CASE WHEN n.model = 'crm.lead' THEN n.res_id END])
      FROM old_rows o JOIN new_rows n ON n.id = o.id
     WHERE 'crm.lead' IN (o.model, n.model)
       AND (o.date, o.res_id, o.model) IS DISTINCT FROM (n.date, n.res_id, n.model)
       AND EXISTS (SELECT 1 FROM mail_tracking_value tracking
                    WHERE tracking.mail_message_id = n.id
                      AND tracking.field_id IN {_TRACKED})
"""
_WON_CHANGED = f"""
    SELECT span.lead_id FROM {SPAN} span
     WHERE span.stage_id IN (
           SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE o.is_won IS DISTINCT FROM n.is_won)
"""
_BOTH = "OLD TABLE AS old_rows NEW TABLE AS new_rows"

# name: (table, event, referencing, the opportunities to refresh)
_TRIGGERS = {
    "sales_funnel_pipeline_history_insert": (
        _HISTORY,
        "INSERT",
        "NEW TABLE AS new_rows",
        "SELECT lead_id FROM new_rows",
    ),
    "sales_funnel_pipeline_history_update": (
        _HISTORY,
        "UPDATE",
        _BOTH,
        "SELECT lead_id FROM old_rows UNION ALL SELECT lead_id FROM new_rows",
    ),
    "sales_funnel_pipeline_history_delete": (
        _HISTORY,
        "DELETE",
        "OLD TABLE AS old_rows",
        "SELECT lead_id FROM old_rows",
    ),
    "sales_funnel_pipeline_tracking_insert": (
        "mail_tracking_value",
        "INSERT",
        "NEW TABLE AS new_rows",
        _TRACKING_LEADS.format(rows="new_rows"),
    ),
    "sales_funnel_pipeline_tracking_update": (
        "mail_tracking_value",
        "UPDATE",
        _BOTH,
        _TRACKING_LEADS.format(rows="old_rows")
        + " UNION ALL "
        + _TRACKING_LEADS.format(rows="new_rows"),
    ),
    "sales_funnel_pipeline_tracking_delete": (
        "mail_tracking_value",
        "DELETE",
        "OLD TABLE AS old_rows",
        _TRACKING_LEADS.format(rows="old_rows"),
    ),
    "sales_funnel_pipeline_message_update": (
        "mail_message",
        "UPDATE",
        _BOTH,
        _MESSAGE_CHANGED,
    ),
    # Deleting a message deletes its tracked values first (cascade): the
    # opportunity is refreshed once both are gone.
    "sales_funnel_pipeline_message_delete": (
        "mail_message",
        "DELETE",
        "OLD TABLE AS old_rows",
        "SELECT res_id FROM old_rows WHERE model = 'crm.lead'",
    ),
    "sales_funnel_pipeline_lead_update": ("crm_lead", "UPDATE", _BOTH, _LEAD_CHANGED),
    "sales_funnel_pipeline_stage_update": ("crm_stage", "UPDATE", _BOTH, _WON_CHANGED),
}


def _bucket_index(deltas):
    return (
        f"CREATE INDEX IF NOT EXISTS {deltas.table}_bucket_idx"
        f" ON {deltas.table} (level, bucket);"
    )


_SPAN_INDEXES = "".join(
    f"CREATE INDEX IF NOT EXISTS {SPAN}_{column}_idx ON {SPAN} ({column});"
    for column in ("lead_id", "date_from", "date_to")
)
_SETUP = (
    f"CREATE TABLE IF NOT EXISTS {SPAN} ({_SPAN_COLUMNS});"
    + _SPAN_INDEXES
    + "".join(deltas.create_table() + _bucket_index(deltas) for deltas in _KEPT)
    + _refresh_function()
    + "".join(
        trigger_function(name, f"PERFORM {_REFRESH_FUNCTION}(ARRAY({leads}))")
        + statement_trigger(name, table, event, referencing)
        for name, (table, event, referencing, leads) in _TRIGGERS.items()
    )
)
_FILL = f"SELECT {_REFRESH_FUNCTION}(ARRAY(SELECT DISTINCT lead_id FROM {_HISTORY}))"


def _roll_up(deltas, level, finer):
    """INSERT the buckets of ``level`` summed from those of ``finer``."""
    dimensions = deltas.group.removeprefix("level, bucket, ")
    return deltas.insert(
        f"""
        SELECT '{level}' AS level, date_trunc('{level}', bucket) AS bucket,
               {dimensions}, {", ".join(deltas.sums)}
          FROM {deltas.table} WHERE level = '{finer}'
        """
    )


# Spans kept before the sums by expected closing (18.0.1.4.0): copied with
# the month of today's opportunity (faster than an UPDATE of every span and
# its indexes); the new table summed from the spans by day, each larger
# level from the one below (a few passes over fewer rows, not one over every
# movement at every level).
_ADD_DEADLINE = (
    f"CREATE TABLE {SPAN}_new (LIKE {SPAN});"
    f"ALTER TABLE {SPAN}_new ADD COLUMN deadline_month date;"
    f"INSERT INTO {SPAN}_new"
    " SELECT span.*, date_trunc('month', lead.date_deadline)::date"
    f"  FROM {SPAN} span LEFT JOIN crm_lead lead ON lead.id = span.lead_id;"
    f"DROP TABLE {SPAN};"
    f"ALTER TABLE {SPAN}_new RENAME TO {SPAN};"
    + _SPAN_INDEXES
    + DEADLINE_DELTAS.create_table()
    + DEADLINE_DELTAS.insert(_level_moves(_moves(SPAN, 1), ("day",)))
    + ";"
    + _bucket_index(DEADLINE_DELTAS)
    + "".join(
        _roll_up(DEADLINE_DELTAS, level, finer) + ";"
        for level, finer in (
            ("month", "day"),
            ("quarter", "month"),
            ("year", "quarter"),
        )
    )
    + f"ANALYZE {SPAN}; ANALYZE {DEADLINE_DELTAS.table};"
)


def _compact(deltas):
    """Fold only the groups with several rows: the table keeps a row per day
    and group of the whole past, rewritten for nothing by a full fold."""
    return deltas.insert(
        f"SELECT {deltas.group}, {', '.join(deltas.sums)} FROM deleted",
        prefix=f"""
        WITH deleted AS (
            DELETE FROM {deltas.table}
             WHERE ctid = ANY(ARRAY(
                   SELECT unnest(array_agg(ctid)) FROM {deltas.table}
                    GROUP BY {deltas.group} HAVING count(*) > 1))
            RETURNING *
        )
        """,
    )


_COMPACT = ";".join(_compact(deltas) for deltas in _KEPT)
_DROP = (
    "".join(drop_trigger(name, table) for name, (table, *_rest) in _TRIGGERS.items())
    + "".join(deltas.drop_table() for deltas in _KEPT)
    + f"DROP TABLE IF EXISTS {SPAN};"
    + f"DROP FUNCTION IF EXISTS {_REFRESH_FUNCTION}(integer[]);"
)


def _exists(cr, table):
    cr.execute("SELECT to_regclass(%s)", [table])
    return cr.fetchone()[0] is not None


def add_deadline_sums(cr):
    """Spans kept without the month of the expected closing: add it and sum
    the new table from them (before the triggers that write both)."""
    if _exists(cr, SPAN) and not _exists(cr, DEADLINE_DELTAS.table):
        cr.execute(_ADD_DEADLINE)


def setup_pipeline_sums(cr):
    """Create the tables and their triggers; fill them when new."""
    new = not _exists(cr, SPAN)
    add_deadline_sums(cr)
    cr.execute(_SETUP)
    if new:
        cr.execute(_FILL)


def compact_pipeline_sums(cr):
    cr.execute(_COMPACT)


def drop_pipeline_sums(cr):
    cr.execute(_DROP)


def _start(level, cutoff):
    """Start of the UTC ``level`` (year, quarter, month, day) of ``cutoff``."""
    if level == "day":
        return datetime(cutoff.year, cutoff.month, cutoff.day)
    month = {"year": 1, "quarter": (cutoff.month - 1) // 3 * 3 + 1}
    return datetime(cutoff.year, month.get(level, cutoff.month), 1)


def kept_rows(cutoff, by_deadline=False):
    """SQL relation: signed rows whose sums per group are the pipeline at
    ``cutoff`` (naive UTC) in the columns of ``DIMENSIONS`` and ``DELTAS.sums``;
    ``by_deadline``: also ``date_deadline``, the month of the expected closing.
    Each level adds its buckets from the start of the larger level's bucket
    of ``cutoff`` to its own; the spans moving on the day of ``cutoff`` last."""
    deltas, levels = (
        (DEADLINE_DELTAS, _DEADLINE_LEVELS) if by_deadline else (DELTAS, _LEVELS)
    )
    deadline = "deadline_month AS date_deadline, " if by_deadline else ""
    columns = f"{deadline}{DIMENSIONS}, {', '.join(DELTAS.sums)}"
    parts = []
    since = None
    for level in levels:
        until = _start(level, cutoff)
        after = SQL("AND bucket >= %s", since) if since else SQL()
        parts.append(
            SQL(
                f"SELECT {columns} FROM {deltas.table}"
                " WHERE level = %s AND bucket < %s %s",
                level,
                until,
                after,
            )
        )
        since = until
    parts.append(
        SQL(
            f"SELECT {columns} FROM ({_moves(SPAN, 1)}) moves"
            " WHERE date >= %s AND date < %s",
            since,
            cutoff,
        )
    )
    return SQL(" UNION ALL ").join(parts)
