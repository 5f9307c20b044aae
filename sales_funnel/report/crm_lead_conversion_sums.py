"""The lead conversion of the opportunities needed (``_need_leads``), kept
exact by PostgreSQL in the writing transaction.

Statement triggers on crm_lead append signed deltas to three tables:

- ``crm_lead_conversion_month_delta`` and ``crm_lead_conversion_delta``: per
  company × team × salesperson × month (resp. day) of creation (of
  ``create_date``, UTC as the column), the leads converted (opportunities
  with a conversion date) and the leads lost (archived leads). "Created since
  a date" is "day ≥ that date", exactly: the months from the date's month on,
  less the days of that month before the date (none when it is the 1st, as
  the need's twelve months);
- ``crm_lead_open_delta``: per company × team × salesperson, the open
  (active) leads.

The need reads a few thousand rows instead of the lead pool and the
converted opportunities; a job folds the deltas into one row per group.
"""

from datetime import date
from functools import partial

from odoo import api, models
from odoo.tools import SQL

from ..jobs import run_once
from .delta_sums import DeltaSums, create_triggers, drop_triggers, lead_triggers

_COLUMNS = "company_id integer, team_id integer, user_id integer,"
_DECIDED_SUMS = " converted integer NOT NULL, lost integer NOT NULL"
MONTHLY = DeltaSums(
    "crm_lead_conversion_month_delta",
    group="company_id, team_id, user_id, month",
    sums=["converted", "lost"],
    columns_sql=_COLUMNS + " month date," + _DECIDED_SUMS,
)
DAILY = DeltaSums(
    "crm_lead_conversion_delta",
    group="company_id, team_id, user_id, day",
    sums=["converted", "lost"],
    columns_sql=_COLUMNS + " day date," + _DECIDED_SUMS,
)
OPEN = DeltaSums(
    "crm_lead_open_delta",
    group="company_id, team_id, user_id",
    sums=["open"],
    columns_sql=_COLUMNS + " open integer NOT NULL",
)
_KEPT = (MONTHLY, DAILY, OPEN)

# What each crm_lead row counts as (the conditions of _need_leads' query).
_CONVERTED = "l.type = 'opportunity' AND l.date_conversion IS NOT NULL"
_LOST = "l.type = 'lead' AND NOT l.active"
_OPEN = "l.type = 'lead' AND l.active"


def _flag(condition):
    return f"(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def _decided_rows(period, sign, rows, extra=""):
    """``period``: the column of the creation's month or day."""
    return f"""
        SELECT l.company_id, l.team_id, l.user_id, {period},
               {sign} * {_flag(_CONVERTED)} AS converted,
               {sign} * {_flag(_LOST)} AS lost
          FROM {rows} l
         WHERE (({_CONVERTED}) OR ({_LOST})) {extra}
    """


def _open_rows(sign, rows, extra=""):
    return f"""
        SELECT l.company_id, l.team_id, l.user_id, {sign} AS open
          FROM {rows} l
         WHERE {_OPEN} {extra}
    """


_LEAD_COLUMNS = (
    "company_id",
    "team_id",
    "user_id",
    "type",
    "active",
    "create_date",
    "date_conversion",
)


_ROWS_OF = {
    MONTHLY: partial(
        _decided_rows, "date_trunc('month', l.create_date)::date AS month"
    ),
    DAILY: partial(_decided_rows, "l.create_date::date AS day"),
    OPEN: _open_rows,
}


_TRIGGERS = lead_triggers(
    "sales_funnel_conversion",
    [(kept, _ROWS_OF[kept]) for kept in _KEPT],
    _LEAD_COLUMNS,
)
_SETUP = (
    "".join(kept.create_table() for kept in _KEPT)
    # The days of the first month, and only them, are read.
    + f"CREATE INDEX IF NOT EXISTS {DAILY.table}_day_idx ON {DAILY.table} (day);"
) + create_triggers(_TRIGGERS)
_COMPACT = ";".join(kept.compact() for kept in _KEPT)
_DROP = drop_triggers(_TRIGGERS) + "".join(kept.drop_table() for kept in _KEPT)


class CrmLeadConversionSums(models.AbstractModel):
    """The kept counts of the lead conversion: their tables, triggers, job and
    reading."""

    _name = "crm.lead.conversion.sums"
    _description = "Lead Conversion Counts"

    def init(self):
        cr = self.env.cr
        cr.execute(_SETUP)
        for kept in _KEPT:
            cr.execute(SQL("SELECT 1 FROM %s LIMIT 1", SQL.identifier(kept.table)))
            if not cr.fetchone():
                cr.execute(kept.insert(_ROWS_OF[kept](1, "crm_lead")))

    @api.model
    def _cron_compact(self):
        """Fold the deltas into one row per group (same counts, fewer rows)."""
        run_once(self.env, lambda: self.env.cr.execute(_COMPACT))

    @api.model
    def _counts(self, since: date, company_ids):
        """[(user id, team id, converted, lost, open)] per salesperson and
        team: leads of ``since`` or later converted and lost, open leads of
        any day; companies ``company_ids`` and none."""
        self.env["crm.lead"].flush_model(_LEAD_COLUMNS)
        return self.env.execute_query(
            SQL(
                """
                SELECT user_id, team_id, sum(converted), sum(lost), sum(open)
                  FROM (SELECT company_id, user_id, team_id, converted, lost,
                               0 AS open
                          FROM crm_lead_conversion_month_delta
                         WHERE month >= %(month)s
                        UNION ALL
                        SELECT company_id, user_id, team_id, -converted, -lost, 0
                          FROM crm_lead_conversion_delta
                         WHERE day >= %(month)s AND day < %(since)s
                        UNION ALL
                        SELECT company_id, user_id, team_id, 0, 0, open
                          FROM crm_lead_open_delta) counts
                 WHERE company_id IN %(companies)s OR company_id IS NULL
                 GROUP BY user_id, team_id
                HAVING sum(converted) <> 0 OR sum(lost) <> 0 OR sum(open) <> 0
                """,
                since=since,
                month=since.replace(day=1),
                companies=tuple(company_ids),
            )
        )


def drop_conversion_sums(env):
    """Uninstall: crm_lead keeps no trigger of ours."""
    env.cr.execute(_DROP)
