"""Stage Analysis' sums per group, kept exact by PostgreSQL in the writing
transaction.

Statement triggers on Stage Analysis' rows (``crm_funnel_stage_stay``, itself
kept by the triggers of the stage history) append signed deltas per stage ×
salesperson × team × company × entry period × funnel entry × outcome: −the
rows a statement removes, +the rows it adds. Stage Analysis answers its
``read_group`` from these sums (a few thousand rows instead of three per
opportunity) when every filter, grouping and measure is one of theirs; its
medians come from indexes of the rows (crm_funnel_stage_median.py).

The entry period: the pivot groups by month in the user's time zone, so a row
far from a month's end (more than 14 hours, the furthest any time zone is
from UTC) is kept in its month, a row near it in its hour, which falls in one
month whatever the zone (of whole hours). A row in the last second of such an
hour keeps its own instant: a filter "up to hh:59:59" cuts nothing else.
"""

from datetime import datetime, timedelta

import pytz
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.osv import expression
from odoo.tools import SQL

from ..jobs import run_once
from . import crm_funnel_stage_median as median
from . import crm_funnel_stage_median_period as period_median
from . import crm_funnel_stage_stay as stay
from .delta_sums import DeltaSums, create_triggers, drop_triggers, row_triggers

TABLE = "crm_funnel_stage_delta"
PERIOD_TABLE = "crm_funnel_stage_period_delta"
# Context key of crm.funnel.stage.sums: read the sums by entry period.
BY_PERIOD = "sales_funnel_stage_sums_by_period"
ZONE_HOURS = 14


def entry_period(date):
    """SQL: the period a row entered on ``date`` is kept in (see above)."""
    month = f"date_trunc('month', {date})"
    return f"""
        CASE WHEN {date} >= {month} + interval '{ZONE_HOURS} hours'
              AND {date} < {month} + interval '1 month'
                               - interval '{ZONE_HOURS} hours'
             THEN {month} + interval '15 days'
             WHEN {date} > date_trunc('hour', {date}) + interval '3599 seconds'
             THEN {date}
             ELSE date_trunc('hour', {date}) END
    """


def _delta_rows(sign, rows):
    days = stay.days_in_stage("s")
    to_won = stay.days_to_won("s")
    cycle = stay.cycle_days("s")
    return f"""
        SELECT s.stage_id, s.user_id, s.team_id, s.company_id,
               {entry_period("s.date")} AS period, s.is_funnel_entry,
               {stay.outcome_state("s")} AS state,
               {sign} AS entered, {sign} * s.passed::int AS passed,
               {sign} * s.won::int AS won,
               {sign} * COALESCE({days}, 0) AS days_sum,
               CASE WHEN {days} IS NOT NULL THEN {sign} ELSE 0 END AS days_count,
               {sign} * COALESCE({to_won}, 0) AS won_days_sum,
               CASE WHEN {to_won} IS NOT NULL THEN {sign} ELSE 0 END
                   AS won_days_count,
               {sign} * COALESCE({cycle}, 0) AS cycle_sum,
               CASE WHEN {cycle} IS NOT NULL THEN {sign} ELSE 0 END AS cycle_count
          FROM {rows} s
         WHERE s.is_opportunity
    """


_DIMENSIONS = "stage_id, user_id, team_id, company_id, is_funnel_entry, state"
_SUMS = [
    "entered",
    "passed",
    "won",
    "days_sum",
    "days_count",
    "won_days_sum",
    "won_days_count",
    "cycle_sum",
    "cycle_count",
]
_COLUMNS = (
    "stage_id integer NOT NULL, user_id integer, team_id integer,"
    " company_id integer, is_funnel_entry boolean NOT NULL,"
    " state varchar NOT NULL, entered integer NOT NULL, passed integer NOT NULL,"
    " won integer NOT NULL, days_sum numeric NOT NULL, days_count integer NOT NULL,"
    " won_days_sum numeric NOT NULL, won_days_count integer NOT NULL,"
    " cycle_sum numeric NOT NULL, cycle_count integer NOT NULL"
)
# Two tables of the same sums: without the entry period (a few hundred groups,
# what the usual pivot reads) and with it (the rows near a month's end make
# many more groups: read only for a grouping or filter on the entry date).
DELTAS = DeltaSums(TABLE, group=_DIMENSIONS, sums=_SUMS, columns_sql=_COLUMNS)
PERIOD_DELTAS = DeltaSums(
    PERIOD_TABLE,
    group=f"{_DIMENSIONS}, period",
    sums=_SUMS,
    columns_sql=f"{_COLUMNS}, period timestamp",
)
_TABLES = (DELTAS, PERIOD_DELTAS)


def _insert(rows):
    return ";".join(deltas.insert(rows) for deltas in _TABLES)


_TRIGGERS = {
    **row_triggers("sales_funnel_stage_sums", stay.TABLE, [(_insert, _delta_rows)]),
    # The rebuild of the rows (a new funnel order) empties them first.
    "sales_funnel_stage_sums_truncate": (
        stay.TABLE,
        "TRUNCATE",
        "",
        f"DELETE FROM {TABLE}; DELETE FROM {PERIOD_TABLE}",
    ),
}
_SETUP = "".join(deltas.create_table() for deltas in _TABLES) + create_triggers(
    _TRIGGERS
)
FILL = f"DELETE FROM {TABLE}; DELETE FROM {PERIOD_TABLE};" + _insert(
    _delta_rows(1, stay.TABLE)
)
_COMPACT = ";".join(deltas.compact() for deltas in _TABLES)
_DROP = drop_triggers(_TRIGGERS) + "".join(deltas.drop_table() for deltas in _TABLES)


def setup_stage_sums(env):
    """Create the tables and their triggers; fill them when new (after the
    rows)."""
    cr = env.cr
    cr.execute("SELECT to_regclass(%s), to_regclass(%s)", [TABLE, PERIOD_TABLE])
    new = None in cr.fetchone()
    cr.execute(_SETUP)
    if new:
        cr.execute(FILL)


def compact_stage_sums(env):
    env.cr.execute(_COMPACT)


def drop_stage_sums(env):
    env.cr.execute(_DROP)


MEDIAN = "median_days_in_stage:avg"
# Stage Analysis' measures from the kept columns: (numerator, denominator of
# an average or None for a count, factor). Numeric division as PostgreSQL's
# avg() does it: the same digits as the average of the rows.
_MEASURES = {
    "__count": ("entered_count", None, None),
    "entered_count:sum": ("entered_count", None, None),
    "passed_count:sum": ("passed_count", None, None),
    "won_count:sum": ("won_count", None, None),
    "days_count:sum": ("days_count", None, None),
    "pass_rate:avg": ("passed_count", "entered_count", "100.0"),
    "historical_win_rate:avg": ("won_count", "entered_count", "100.0"),
    "win_rate:avg": ("win_rate_sum", "win_rate_count", None),
    "days_in_stage:avg": ("days_sum", "days_count", None),
    "days_to_won:avg": ("won_days_sum", "won_days_count", None),
    "cycle_days:avg": ("cycle_sum", "cycle_count", None),
}
_GROUPS = {"stage_id", "user_id", "team_id", "company_id", "is_funnel_entry", "state"}
_DATE_GRANULARITIES = {"month", "quarter", "year"}
# Bounds of a date filter that cut no kept period (see entry_period): the
# start of an hour, or its last second for "up to" and "after".
HOUR_START_OPERATORS = {">=": 0, "<": 0, "<=": 1, ">": 1}


def cuts_no_period(value, operator):
    moment = fields.Datetime.to_datetime(value)
    if moment is None:
        return False
    moment += timedelta(seconds=HOUR_START_OPERATORS[operator])
    if moment != moment.replace(minute=0, second=0, microsecond=0):
        return False
    month = moment.replace(day=1, hour=0)
    zone = timedelta(hours=ZONE_HOURS)
    return moment <= month + zone or moment >= month + relativedelta(months=1) - zone


def whole_hour_zone(name):
    """Time zone whose offsets from UTC (since 1970) are whole hours: its
    months start at the start of a UTC hour."""
    if name not in pytz.all_timezones_set:
        return True  # the ORM groups in UTC
    zone = pytz.timezone(name)
    infos = getattr(zone, "_transition_info", None)
    if infos is None:
        offsets = [zone.utcoffset(datetime(2000, 1, 1))]
    else:
        times = zone._utc_transition_times
        since = max(
            (i for i, time in enumerate(times) if time <= datetime(1970, 1, 1)),
            default=0,
        )
        offsets = [offset for offset, _dst, _name in infos[since:]]
    return all(offset.total_seconds() % 3600 == 0 for offset in offsets)


class CrmFunnelStageSums(models.Model):
    """Stage Analysis' kept sums, as a model: Stage Analysis' ``_read_group``
    (filters, groupings and measures named as its own) runs here when it can."""

    _name = "crm.funnel.stage.sums"
    _description = "Stage Analysis Sums"
    _auto = False
    _rec_name = "stage_id"
    # Reading flushes what the triggers read (as the report's rows).
    _depends = {
        "crm.lead.stage.history": ["lead_id", "event", "to_stage_id", "date"],
        "crm.lead": ["type", "user_id", "team_id", "company_id", "partner_id"],
        "crm.stage": ["sequence", "is_won", "win_rate"],
    }

    # The labels of Stage Analysis' fields.
    stage_id = fields.Many2one("crm.stage", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    date = fields.Datetime(
        string="Entered On",
        readonly=True,
        help="The period the rows entered in: their month, or their hour near "
        "the end of a month.",
    )
    is_funnel_entry = fields.Boolean(string="Funnel Entry", readonly=True)
    state = fields.Selection(
        [
            ("in_stage", "Still in Stage"),
            ("passed", "Passed"),
            ("stopped", "Did Not Pass"),
        ],
        string="Outcome",
        readonly=True,
    )
    entered_count = fields.Integer(string="Entered", readonly=True)
    passed_count = fields.Integer(string="Passed", readonly=True)
    won_count = fields.Integer(string="Won", readonly=True)
    days_count = fields.Integer(string="Left the Stage", readonly=True)
    # Averages of Stage Analysis, made of the sums (_MEASURES).
    pass_rate = fields.Float(string="Pass Rate (%)", readonly=True, aggregator="avg")
    historical_win_rate = fields.Float(
        string="Historical Win Rate (%)", readonly=True, aggregator="avg"
    )
    win_rate = fields.Float(
        string="Preset Win Rate (%)", readonly=True, aggregator="avg"
    )
    days_in_stage = fields.Float(
        string="Average Days in Stage", readonly=True, aggregator="avg"
    )
    days_to_won = fields.Float(string="Days to Won", readonly=True, aggregator="avg")
    cycle_days = fields.Float(
        string="Promotion Cycle (Days)", readonly=True, aggregator="avg"
    )

    @property
    def _table_query(self):
        if self.env.context.get(BY_PERIOD):
            table, period = PERIOD_TABLE, SQL("d.period")
        else:
            table, period = TABLE, SQL("NULL::timestamp")
        return SQL(
            """
            SELECT row_number() OVER () AS id, d.stage_id, d.user_id, d.team_id,
                   d.company_id, %(period)s AS date, d.is_funnel_entry, d.state,
                   sum(d.entered) AS entered_count, sum(d.passed) AS passed_count,
                   sum(d.won) AS won_count,
                   sum(d.days_sum) AS days_sum, sum(d.days_count) AS days_count,
                   sum(d.won_days_sum) AS won_days_sum,
                   sum(d.won_days_count) AS won_days_count,
                   sum(d.cycle_sum) AS cycle_sum, sum(d.cycle_count) AS cycle_count,
                   sum(d.entered) * %(win_rate)s AS win_rate_sum,
                   CASE WHEN stage.win_rate IS NOT NULL THEN sum(d.entered) END
                       AS win_rate_count
              FROM %(table)s d
              LEFT JOIN crm_stage stage ON stage.id = d.stage_id
             GROUP BY d.stage_id, d.user_id, d.team_id, d.company_id, %(period)s,
                      d.is_funnel_entry, d.state, stage.win_rate
            HAVING sum(d.entered) <> 0
            """,
            table=SQL.identifier(table),
            period=period,
            win_rate=SQL(stay.preset_win_rate("stage")),
        )

    def _read_group_select(self, aggregate_spec, query):
        numerator, denominator, factor = _MEASURES[aggregate_spec]

        def total(column):
            return SQL("SUM(%s)", SQL.identifier(self._table, column))

        if denominator is None:
            return SQL("%s::bigint", total(numerator))
        if factor:
            return SQL(
                f"{factor} * %s / NULLIF(%s, 0)", total(numerator), total(denominator)
            )
        return SQL("%s / NULLIF(%s, 0)", total(numerator), total(denominator))

    @api.model
    def _cron_compact(self):
        """Fold the deltas into one row per group (same sums, fewer rows)."""
        run_once(
            self.env,
            lambda: (
                compact_stage_sums(self.env),
                median.compact_medians(self.env),
                period_median.compact_period_medians(self.env),
            ),
        )

    # Answering Stage Analysis

    @api.model
    def _answer_report(self, report, domain, groupby, aggregates, offset, limit, order):
        """The rows of ``report._read_group`` from the kept sums, or None when
        one of its filters (record rules included), groupings or measures is
        not theirs."""
        rules = (
            []
            if report.env.su
            else report.env["ir.rule"]._compute_domain(report._name, "read")
        )
        full = expression.AND([list(domain), rules]) if rules else list(domain)
        if not (
            all(spec in _MEASURES or spec == MEDIAN for spec in aggregates)
            and all(self._answers_groupby(spec) for spec in groupby)
            and self._answers_domain(full)
            and "median" not in (order or "")
        ):
            return None
        sums = self.sudo()
        if any(spec.startswith("date") for spec in groupby) or self._on_dates(full):
            sums = sums.with_context(**{BY_PERIOD: True})
        plain = [spec for spec in aggregates if spec != MEDIAN] or ["__count"]
        by_period = MEDIAN in aggregates and any(
            spec.startswith("date") for spec in groupby
        )
        if by_period:  # the medians by month need their groups' counts
            plain = [*plain, "days_count:sum"]
        rows = [
            tuple(
                value.with_env(report.env)
                if isinstance(value, models.BaseModel)
                else value
                for value in row
            )
            for row in sums._read_group(
                full, groupby, plain, offset=offset, limit=limit, order=order
            )
        ]
        if MEDIAN not in aggregates:
            return rows
        size = len(groupby)
        keys = [report._group_key(row[:size]) for row in rows]
        if by_period:
            medians = period_median.exact_period_medians(
                sums.env,
                groupby,
                {key: row[-1] for key, row in zip(keys, rows, strict=True)},
            )
        else:
            medians = median.exact_medians(
                sums, self.sudo(), full, groupby, report._group_key, keys
            )
        if any(key not in medians for key in keys):
            slow = report._group_medians(domain, groupby)
            medians = {key: medians.get(key, slow.get(key)) for key in keys}
        result = []
        for key, row in zip(keys, rows, strict=True):
            values = iter(row[size:])
            result.append(
                row[:size]
                + tuple(
                    medians.get(key) if spec == MEDIAN else next(values)
                    for spec in aggregates
                )
            )
        return result

    def _answers_groupby(self, spec):
        name, _dot, granularity = spec.partition(":")
        if name in _GROUPS:
            return not granularity
        return (
            name == "date"
            and granularity in _DATE_GRANULARITIES
            and whole_hour_zone(self.env.context.get("tz"))
        )

    @staticmethod
    def _on_dates(domain):
        return any(
            expression.is_leaf(leaf)
            and isinstance(leaf[0], str)
            and leaf[0].split(".", 1)[0] == "date"
            for leaf in domain
        )

    def _answers_domain(self, domain):
        for leaf in expression.normalize_domain(domain):
            if not expression.is_leaf(leaf) or leaf in (
                expression.TRUE_LEAF,
                expression.FALSE_LEAF,
            ):
                continue
            path, operator, value = leaf
            name = path.split(".", 1)[0] if isinstance(path, str) else None
            if name in _GROUPS:
                continue
            if name != "date" or "." in path:
                return False
            if operator in ("=", "!=") and value is False:
                continue
            if operator not in HOUR_START_OPERATORS or not cuts_no_period(
                value, operator
            ):
                return False
        return True
