"""Source Effectiveness' sums, kept exact by PostgreSQL in the writing transaction.

The report has one row per lead or opportunity and step it reached (≈ 3.7 an
opportunity); its pivot and graph sum them by source, campaign, step, stage,
salesperson, team, company and month of arrival. Statement triggers append
signed deltas per such group to ``crm_funnel_source_delta`` (and per group
without the month to ``crm_funnel_source_total_delta``, a twentieth of the
rows, for the reads that name no month):

- the steps read from the opportunity itself (lead pool, opportunity, won),
  from crm_lead's changed rows, as the funnel forecast does;
- the funnel stages reached, from Stage Analysis' kept rows (one per
  opportunity and stage reached, carrying the opportunity's columns:
  ``crm_funnel_stage_stay.py``), so that a stage change, a new salesperson or
  a deleted opportunity moves them, and a rebuild of those rows too.

Each measure is kept as the sum of its per-row values and, for an average,
the count of its non-empty values: the average is their quotient, computed as
PostgreSQL's ``avg`` computes it (the per-row days are rounded to a fixed
scale, so the sums carry the same digits whatever the rows), hence equal to
the per-row answer.
"""

from odoo.tools import SQL

from .. import funnel_terms as terms
from .crm_funnel_stage_stay import TABLE as STAYS
from .crm_funnel_stage_sums import entry_period
from .delta_sums import (
    DeltaSums,
    changed_ids,
    drop_trigger,
    statement_trigger,
    trigger_function,
)

# The report's columns its kept sums are grouped by (the arrival as ``date``:
# its month, or its hour near a month's end, as Stage Analysis keeps them, so
# that any time zone of whole hours groups them by its own months).
GROUPS = (
    "company_id",
    "team_id",
    "user_id",
    "funnel_source",
    "campaign_id",
    "step",
    "stage_id",
    "date",
)
_SUMS = [
    "cnt",
    "qualified",
    "won",
    "amount",
    "days_sum",
    "days_count",
    "cycle_sum",
    "cycle_count",
]
_COLUMNS = (
    "company_id integer, team_id integer, user_id integer,"
    " funnel_source varchar, campaign_id integer, step varchar NOT NULL,"
    " stage_id integer, {date}"
    " cnt integer NOT NULL, qualified integer NOT NULL, won integer NOT NULL,"
    " amount numeric NOT NULL, days_sum numeric NOT NULL,"
    " days_count integer NOT NULL, cycle_sum numeric NOT NULL,"
    " cycle_count integer NOT NULL"
)
# Per month of arrival, and the same sums without the month: a twentieth of
# the rows, read when no filter or grouping names the month.
MONTHLY = DeltaSums(
    "crm_funnel_source_delta",
    group=", ".join(GROUPS),
    sums=_SUMS,
    columns_sql=_COLUMNS.format(date="date timestamp,"),
)
TOTALS = DeltaSums(
    "crm_funnel_source_total_delta",
    group=", ".join(name for name in GROUPS if name != "date"),
    sums=_SUMS,
    columns_sql=_COLUMNS.format(date=""),
)
_KEPT = (MONTHLY, TOTALS)


def _insert(source, prefix=""):
    """SQL text: add the rows of ``source`` to both tables."""
    return ";".join(kept.insert(source, prefix) for kept in _KEPT)


def _delete(condition):
    return ";".join(f"DELETE FROM {kept.table} WHERE {condition}" for kept in _KEPT)


def days_between(later, earlier):
    """SQL text: days from ``earlier`` to ``later``, rounded to a fixed scale
    (the report's per-row days: sums of them keep the same digits)."""
    return f"round(EXTRACT(EPOCH FROM {later} - {earlier}) / 86400.0, 6)"


def _row(sign, step, stage, date_step, date_won):
    """SQL text: the delta columns of one report row of the lead ``l``
    (``l.won``: its won state, ``l.opportunity``: it is an opportunity)."""
    days = days_between(date_step, "l.created")
    cycle = days_between(date_won, "l.created") if date_won else "NULL::numeric"
    return f"""
        SELECT l.company_id, l.team_id, l.user_id, l.funnel_source, l.campaign_id,
               '{step}'::varchar AS step, {stage}::integer AS stage_id,
               {entry_period("l.created")} AS date,
               {sign} AS cnt, {sign} * l.opportunity::int AS qualified,
               {sign} * l.won::int AS won, {sign} * l.amount AS amount,
               {sign} * COALESCE({days}, 0) AS days_sum,
               {sign} * ({days} IS NOT NULL)::int AS days_count,
               {sign} * COALESCE({cycle}, 0) AS cycle_sum,
               {sign} * ({cycle} IS NOT NULL)::int AS cycle_count
    """


def _lead_steps(sign, rows, extra=""):
    """The lead-pool, opportunity and won rows of the crm_lead rows ``rows``."""
    lead = f"""
        (SELECT lead.company_id, lead.team_id, lead.user_id, lead.funnel_source,
                lead.campaign_id, lead.type, lead.date_conversion,
                lead.create_date AS created,
                lead.type = 'opportunity' AS opportunity,
                COALESCE(lead.expected_revenue, 0) AS amount,
                COALESCE({terms.won_opportunity("lead", "stage").code}, FALSE) AS won,
                COALESCE(lead.date_closed, lead.date_last_stage_update) AS date_won
           FROM {rows} lead
           LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
          WHERE TRUE {extra}) l
    """
    opportunity_date = "COALESCE(l.date_conversion, l.created)"
    return f"""
        {_row(sign, "lead", "NULL", "l.created", None)}
          FROM {lead} WHERE l.type = 'lead' OR l.date_conversion IS NOT NULL
        UNION ALL
        {_row(sign, "opportunity", "NULL", opportunity_date, None)}
          FROM {lead} WHERE l.opportunity
        UNION ALL
        {_row(sign, "won", "NULL", "l.date_won", "l.date_won")}
          FROM {lead} WHERE l.won
    """


def _stage_steps(sign, rows):
    """The funnel stages reached, from Stage Analysis' rows ``rows``."""
    stay = f"""
        (SELECT s.company_id, s.team_id, s.user_id, s.funnel_source, s.campaign_id,
                s.stage_id, s.date, s.date_conversion, s.lead_date AS created,
                s.is_opportunity AS opportunity, s.lead_won AS won, s.amount
           FROM {rows} s) l
    """
    reached = "GREATEST(l.date, l.date_conversion)"
    return f"""
        {_row(sign, "stage", "l.stage_id", reached, None)}
          FROM {stay} WHERE l.opportunity
    """


# Only crm_lead rows whose columns of the report changed move their rows.
_LEAD_COLUMNS = (
    "company_id",
    "team_id",
    "user_id",
    "funnel_source",
    "campaign_id",
    "type",
    "active",
    "stage_id",
    "expected_revenue",
    "create_date",
    "date_conversion",
    "date_closed",
    "date_last_stage_update",
)
_CHANGED = f"WITH changed AS ({changed_ids(_LEAD_COLUMNS)})"
_IN_CHANGED = "AND lead.id IN (SELECT id FROM changed)"
# Stage Analysis' rows: only changes of the columns read here count (its
# lead-update trigger also copies the customer).
_STAY_COLUMNS = (
    "lead_id",
    "stage_id",
    "date",
    "user_id",
    "team_id",
    "company_id",
    "is_opportunity",
    "funnel_source",
    "campaign_id",
    "lead_date",
    "date_conversion",
    "amount",
    "lead_won",
)
_STAY_CHANGED = f"WITH changed AS ({changed_ids(_STAY_COLUMNS)})"


def _changed_stays(name):
    return f"(SELECT * FROM {name} WHERE id IN (SELECT id FROM changed))"


_LEAD_STEPS_REBUILD = (
    _delete("step <> 'stage'") + ";" + _insert(_lead_steps(1, "crm_lead"))
)
# name: (table, event, referencing, body)
_TRIGGERS = {
    "sales_funnel_source_insert": (
        "crm_lead",
        "INSERT",
        "NEW TABLE AS new_rows",
        _insert(_lead_steps(1, "new_rows")),
    ),
    "sales_funnel_source_update": (
        "crm_lead",
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        _insert(
            _lead_steps(-1, "old_rows", _IN_CHANGED)
            + " UNION ALL "
            + _lead_steps(1, "new_rows", _IN_CHANGED),
            prefix=_CHANGED,
        ),
    ),
    "sales_funnel_source_delete": (
        "crm_lead",
        "DELETE",
        "OLD TABLE AS old_rows",
        _insert(_lead_steps(-1, "old_rows")),
    ),
    # A stage that becomes (or stops being) a won stage: the won rows again
    # (Stage Analysis' rows follow with their own trigger).
    "sales_funnel_source_rebuild": (
        "crm_stage",
        "UPDATE OF is_won",
        "",
        _LEAD_STEPS_REBUILD,
    ),
    "sales_funnel_source_stay_insert": (
        STAYS,
        "INSERT",
        "NEW TABLE AS new_rows",
        _insert(_stage_steps(1, "new_rows")),
    ),
    "sales_funnel_source_stay_update": (
        STAYS,
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        _insert(
            _stage_steps(-1, _changed_stays("old_rows"))
            + " UNION ALL "
            + _stage_steps(1, _changed_stays("new_rows")),
            prefix=_STAY_CHANGED,
        ),
    ),
    "sales_funnel_source_stay_delete": (
        STAYS,
        "DELETE",
        "OLD TABLE AS old_rows",
        _insert(_stage_steps(-1, "old_rows")),
    ),
    # Stage Analysis' rows rebuilt: emptied first, then inserted again.
    "sales_funnel_source_stay_truncate": (
        STAYS,
        "TRUNCATE",
        "",
        _delete("step = 'stage'"),
    ),
}
_SETUP = "".join(kept.create_table() for kept in _KEPT) + "".join(
    trigger_function(name, body) + statement_trigger(name, table, event, referencing)
    for name, (table, event, referencing, body) in _TRIGGERS.items()
)
_ROWS = _lead_steps(1, "crm_lead") + " UNION ALL " + _stage_steps(1, STAYS)
_COMPACT = ";".join(kept.compact() for kept in _KEPT)
_DROP = "".join(
    drop_trigger(name, table) for name, (table, *_rest) in _TRIGGERS.items()
) + "".join(kept.drop_table() for kept in _KEPT)


def setup_source_sums(env):
    """Create the table and its triggers (after Stage Analysis' rows); fill it
    when empty."""
    cr = env.cr
    cr.execute(_SETUP)
    for kept in _KEPT:
        cr.execute(SQL("SELECT 1 FROM %s LIMIT 1", SQL.identifier(kept.table)))
        if not cr.fetchone():
            cr.execute(kept.insert(_ROWS))
            # Statistics of the groups: a hash of them, not a sort of every row.
            cr.execute(SQL("ANALYZE %s", SQL.identifier(kept.table)))


def refill_monthly_source_sums(env):
    """Sum the rows again into the monthly table (its periods changed)."""
    env.cr.execute(SQL("TRUNCATE %s", SQL.identifier(MONTHLY.table)))
    env.cr.execute(MONTHLY.insert(_ROWS))
    env.cr.execute(SQL("ANALYZE %s", SQL.identifier(MONTHLY.table)))


def compact_source_sums(env):
    env.cr.execute(_COMPACT)


def drop_source_sums(env):
    """Uninstall: no trigger of ours stays on crm_lead and crm_stage."""
    env.cr.execute(_DROP)


# The report's measures answered from the sums: aggregate → SQL text over the
# delta rows aliased ``{d}``, as PostgreSQL computes it over the report's rows.
def _of_step(column, condition):
    return f"SUM(CASE WHEN {condition} THEN {{d}}.{column} ELSE 0 END)"


def _rate(flag, condition):
    """avg of a 0/100 flag over the rows of ``condition``: Σ flag ÷ rows."""
    return (
        f"(100.0 * {_of_step(flag, condition)})"
        f" / NULLIF({_of_step('cnt', condition)}, 0)"
    )


AGGREGATES = {
    "__count": "SUM({d}.cnt)",
    "reached_count:sum": "SUM({d}.cnt)",
    "lead_count:sum": _of_step("cnt", "{d}.step = 'lead'"),
    "opportunity_count:sum": _of_step("cnt", "{d}.step = 'opportunity'"),
    "won_count:sum": _of_step("cnt", "{d}.step = 'won'"),
    "reached_amount:sum": "SUM({d}.amount)",
    "opportunity_amount:sum": _of_step("amount", "{d}.step = 'opportunity'"),
    "won_amount:sum": _of_step("amount", "{d}.step = 'won'"),
    "qualification_rate:avg": _rate("qualified", "{d}.step = 'lead'"),
    "win_rate:avg": _rate("won", "{d}.step = 'opportunity'"),
    "step_win_rate:avg": _rate("won", "{d}.step <> 'won'"),
    "days_to_step:avg": "SUM({d}.days_sum) / NULLIF(SUM({d}.days_count), 0)",
    "cycle_days:avg": "SUM({d}.cycle_sum) / NULLIF(SUM({d}.cycle_count), 0)",
}
