"""Stage Analysis' median days in stage by month entered (or quarter, year),
exact, without reading every row.

The kept histogram of the medians (crm_funnel_stage_median.py) has no date:
a stage's month is no whole run of its indexes, so the medians by month read
the rows (5.7 s at 1,000,000 opportunities). Here the same counts per range
of days are kept per stage and entry period too (the month, or the hour near
a month's end: ``entry_period``), so the counts of a month in any whole-hour
zone are those of the periods in it, grouped as the ORM groups the dates. The
ranges that hold a group's middle rows follow, and an index by stage, range
of days and date reads only the group's rows in those ranges. Groups that are
not whole stages of a month (a salesperson's record rule, a filter) and
half-hour zones (Stage Analysis' sums do not answer them) read the rows.
"""

from datetime import timedelta

import pytz
from dateutil.relativedelta import relativedelta

from odoo.tools import SQL

from . import crm_funnel_stage_median as median
from . import crm_funnel_stage_stay as stay
from . import crm_funnel_stage_sums as stage_sums
from .delta_sums import DeltaSums, create_triggers, drop_triggers, row_triggers

# The runs (index prefix) kept by period: a stage; a month's total is its stages.
PREFIX = ("stage_id",)
_PREFIX_NAME = "/".join(PREFIX)
_BUCKET = f"width_bucket(days, {median._BOUNDS_SQL})"
INDEX = f"{stay.TABLE}_median_period_idx"
# Wider than any zone's offset: the index range around a group's month.
_MARGIN = timedelta(days=1)
_LENGTH = {"month": {"months": 1}, "quarter": {"months": 3}, "year": {"years": 1}}

HISTOGRAM = DeltaSums(
    "crm_funnel_stage_days_period_delta",
    group="prefix, run, period, bucket",
    sums=["cnt"],
    columns_sql="prefix varchar NOT NULL, run integer[] NOT NULL,"
    " period timestamp, bucket integer NOT NULL, cnt integer NOT NULL",
)


def histogram_rows(sign, rows):
    """SELECT the histogram rows of the stay rows ``rows`` (signed)."""
    return f"""
        SELECT '{_PREFIX_NAME}' AS prefix, {median._run_key("s", PREFIX)} AS run,
               {stage_sums.entry_period("s.date")} AS period,
               width_bucket(s.days, {median._BOUNDS_SQL}) AS bucket, {sign} AS cnt
          FROM {rows} s
         WHERE s.is_opportunity AND NOT s.still_in_stage AND s.days IS NOT NULL
    """


def _triggers():
    """name: (table, event, referencing, body)"""
    return {
        **row_triggers(
            "sales_funnel_stage_days_period",
            stay.TABLE,
            [(HISTOGRAM.insert, histogram_rows)],
        ),
        "sales_funnel_stage_days_period_truncate": (
            stay.TABLE,
            "TRUNCATE",
            "",
            f"DELETE FROM {HISTOGRAM.table}",
        ),
    }


def _setup_sql():
    return (
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON {stay.TABLE}"
        f" ({', '.join(PREFIX)}, ({_BUCKET}), date) INCLUDE (days)"
        f" WHERE {median._LEFT};"
        + HISTOGRAM.create_table()
        + create_triggers(_triggers())
    )


def _drop_sql():
    return (
        drop_triggers(_triggers())
        + HISTOGRAM.drop_table()
        + f"DROP INDEX IF EXISTS {INDEX};"
    )


def setup_period_medians(env):
    """The index, the kept histogram and its triggers (filled when new)."""
    cr = env.cr
    cr.execute("SELECT to_regclass(%s)", [HISTOGRAM.table])
    new = cr.fetchone()[0] is None
    cr.execute(_setup_sql())
    if new:
        cr.execute(HISTOGRAM.insert(histogram_rows(1, stay.TABLE)))


def compact_period_medians(env):
    env.cr.execute(HISTOGRAM.compact())


def drop_period_medians(env):
    env.cr.execute(_drop_sql())


def _local_period(env, granularity, column):
    """SQL: the start of the period of ``column`` (UTC) in the user's zone,
    as the ORM groups a datetime (models._read_group_groupby)."""
    expression = SQL.identifier(column)
    tz = env.context.get("tz")
    if tz and tz in pytz.all_timezones_set:
        expression = SQL("timezone(%s, timezone('UTC', %s))", tz, expression)
    return SQL("date_trunc(%s, %s::timestamp)", granularity, expression)


def _histograms(env, granularity):
    """{period start: {run: {range: rows}}}."""
    rows = env.execute_query(
        SQL(
            "SELECT %(start)s, run, bucket, SUM(cnt) FROM %(table)s"
            " WHERE prefix = %(prefix)s"
            " GROUP BY 1, 2, 3 HAVING SUM(cnt) <> 0",
            start=_local_period(env, granularity, "period"),
            table=SQL.identifier(HISTOGRAM.table),
            prefix=_PREFIX_NAME,
        )
    )
    result = {}
    for start, run, bucket, count in rows:
        result.setdefault(start, {}).setdefault(tuple(run), {})[bucket] = count
    return result


def _buckets(histograms, low, high):
    """(ranges of days holding the rows ranked ``low`` to ``high``, the rank
    of ``low`` among the rows of these ranges), or None when the counts do
    not reach ``high``."""
    merged = {}
    for histogram in histograms:
        for bucket, count in histogram.items():
            merged[bucket] = merged.get(bucket, 0) + count
    before, first = 0, None
    for bucket in sorted(merged):
        if first is None and low < before + merged[bucket]:
            first, offset = bucket, low - before
        if high < before + merged[bucket]:
            return [b for b in sorted(merged) if first <= b <= bucket], offset
        before += merged[bucket]
    return None


def exact_period_medians(env, groupby, counts):
    """{group key: median} of the groups of ``groupby`` (one date grouping
    among them) whose rows are whole stages of a period, or that have no row
    that left its stage (None); the others are left out. ``counts``: {group
    key: its rows that left their stage}, read from the kept sums with the
    filters and record rules."""
    groupby = list(groupby)  # read_group passes a dict's values
    dates = [spec for spec in groupby if spec.split(":")[0] == "date"]
    if len(dates) != 1:
        return {}
    granularity = dates[0].partition(":")[2]
    at = groupby.index(dates[0])
    stage_at = groupby.index("stage_id") if "stage_id" in groupby else None
    medians = {key: None for key, count in counts.items() if not count}
    if len(medians) == len(counts):
        return medians
    histograms = _histograms(env, granularity)
    # A group is whole stages of its period when it has as many rows as they
    # have (a record rule or a filter leaves some out): its stage, or every
    # stage. Else its median is read from the rows.
    chosen = {}
    for key, count in counts.items():
        start = key[at]
        period = histograms.get(start, {})
        runs = sorted(period) if stage_at is None else [(key[stage_at],)]
        if count and start and len(runs) <= median.MAX_RUNS:
            chosen[key] = (start, runs, count)
    scans, wanted, group_keys = [], [], []
    for key, (start, runs, count) in chosen.items():
        kept = [histograms.get(start, {}).get(run, {}) for run in runs]
        low, high = (count - 1) // 2, count // 2
        found = _buckets(kept, low, high)
        if sum(sum(c.values()) for c in kept) != count or found is None:
            continue
        buckets, offset = found
        index = len(group_keys)
        group_keys.append(key)
        wanted.append(SQL("(%s, %s, %s)", index, offset, high - low + 1))
        stop = start + relativedelta(**_LENGTH[granularity])
        for run, histogram in zip(runs, kept, strict=True):
            for bucket in buckets:
                if histogram.get(bucket):
                    scans.append(
                        SQL(
                            "(%s, %s::int, %s::timestamp, %s::timestamp,"
                            " %s::timestamp, %s::int)",
                            index,
                            bucket,
                            start - _MARGIN,
                            stop + _MARGIN,
                            start,
                            run[0],
                        )
                    )
    if not scans:
        return medians
    # Each group's rows in its ranges (one index range scan each), sorted
    # apart: a few thousand rows each, where one sort of them all spills.
    query = SQL(
        """
        SELECT w.g, array_agg(m.days::float8 ORDER BY m.days)
          FROM (VALUES %(wanted)s) w(g, skip, take)
         CROSS JOIN LATERAL (
            SELECT s.days
              FROM (VALUES %(scans)s) v(g, bucket, lower, upper, start, stage)
             CROSS JOIN LATERAL (
                SELECT days FROM %(table)s
                 WHERE %(left)s AND stage_id = v.stage
                   AND %(bucket)s = v.bucket
                   AND date >= v.lower AND date < v.upper
                   AND %(local)s = v.start
             ) s
             WHERE v.g = w.g
             ORDER BY s.days OFFSET w.skip LIMIT w.take
         ) m
         GROUP BY w.g
        """,
        wanted=SQL(", ").join(wanted),
        scans=SQL(", ").join(scans),
        table=SQL.identifier(stay.TABLE),
        left=SQL(median._LEFT),
        bucket=SQL(_BUCKET),
        local=_local_period(env, granularity, "date"),
    )
    for index, values in env.execute_query(query):
        # As percentile_cont(0.5): the middle value, or the two middle ones
        # interpolated in double precision.
        low = values[0]
        middle = low if len(values) == 1 else low + (values[1] - low) * 0.5
        medians[group_keys[index]] = middle
    return medians
