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
from .delta_sums import DeltaSums, drop_trigger, statement_trigger, trigger_function

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
    """name: (event, referencing, body)"""
    return {
        "sales_funnel_stage_days_period_insert": (
            "INSERT",
            "NEW TABLE AS new_rows",
            HISTOGRAM.insert(histogram_rows(1, "new_rows")),
        ),
        "sales_funnel_stage_days_period_delete": (
            "DELETE",
            "OLD TABLE AS old_rows",
            HISTOGRAM.insert(histogram_rows(-1, "old_rows")),
        ),
        "sales_funnel_stage_days_period_update": (
            "UPDATE",
            "OLD TABLE AS old_rows NEW TABLE AS new_rows",
            HISTOGRAM.insert(
                histogram_rows(-1, "old_rows")
                + " UNION ALL "
                + histogram_rows(1, "new_rows")
            ),
        ),
        "sales_funnel_stage_days_period_truncate": (
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
        + "".join(
            trigger_function(name, body)
            + statement_trigger(name, stay.TABLE, event, ref)
            for name, (event, ref, body) in _triggers().items()
        )
    )


def _drop_sql():
    return (
        "".join(drop_trigger(name, stay.TABLE) for name in _triggers())
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


def _histograms(env, granularity, runs):
    """{(run, period start): {range: rows}} of the runs ``runs``."""
    keys = ["{" + ",".join(str(int(value or 0)) for value in run) + "}" for run in runs]
    by_key = dict(zip(keys, runs, strict=True))
    rows = env.execute_query(
        SQL(
            "SELECT run::text, %(start)s, bucket, SUM(cnt) FROM %(table)s"
            " WHERE prefix = %(prefix)s AND run::text = ANY(%(keys)s)"
            " GROUP BY 1, 2, 3 HAVING SUM(cnt) <> 0",
            start=_local_period(env, granularity, "period"),
            table=SQL.identifier(HISTOGRAM.table),
            prefix=_PREFIX_NAME,
            keys=keys,
        )
    )
    result = {}
    for key, start, bucket, count in rows:
        result.setdefault((by_key[key], start), {})[bucket] = count
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


def exact_period_medians(sums, domain, groupby, key_of, keys):
    """{group key: median} of the groups ``keys`` of ``groupby`` (one date
    grouping among them) whose rows are whole stages of a period, or that have
    no row that left its stage (None); the others are left out. ``sums``:
    crm.funnel.stage.sums by period, ``domain`` with the record rules,
    ``key_of`` turns group values into a key."""
    dates = [spec for spec in groupby if spec.split(":")[0] == "date"]
    if len(dates) != 1:
        return {}
    date_spec = dates[0]
    granularity = date_spec.partition(":")[2]
    size = len(groupby)
    # {key: (period start, stages, rows that left their stage)}
    groups = {}
    for row in sums._read_group(
        domain,
        [*groupby, *(["stage_id"] * ("stage_id" not in groupby))],
        ["days_count:sum"],
    ):
        count = row[-1]
        if not count:
            continue
        values = dict(zip([*groupby, "stage_id"], row[:-1], strict=False))
        key = key_of(row[:size])
        start, runs, total = groups.get(key, (values[date_spec], set(), 0))
        runs.add((values["stage_id"].id,))
        groups[key] = (start, runs, total + count)
    medians = {key: None for key in keys if key not in groups}
    chosen = {
        key: (start, sorted(runs), count)
        for key, (start, runs, count) in groups.items()
        if start and len(runs) <= median.MAX_RUNS
    }
    if not chosen:
        return medians
    histograms = _histograms(
        sums.env,
        granularity,
        sorted({run for _start, runs, _count in chosen.values() for run in runs}),
    )
    scans, group_keys = [], []
    for key, (start, runs, count) in chosen.items():
        counts = [histograms.get((run, start), {}) for run in runs]
        low, high = (count - 1) // 2, count // 2
        found = _buckets(counts, low, high)
        # The group is whole stages of its period when it has as many rows
        # as they have (a record rule or a filter leaves some out): else its
        # median is read from the rows.
        if sum(sum(c.values()) for c in counts) != count or found is None:
            continue
        buckets, offset = found
        index = len(group_keys)
        group_keys.append(key)
        stop = start + relativedelta(**_LENGTH[granularity])
        for run, histogram in zip(runs, counts, strict=True):
            for bucket in buckets:
                if histogram.get(bucket):
                    scans.append(
                        SQL(
                            "(%s, %s, %s, %s::int, %s::timestamp, %s::timestamp,"
                            " %s::timestamp, %s::int)",
                            index,
                            offset + 1,
                            offset + 1 + high - low,
                            bucket,
                            start - _MARGIN,
                            stop + _MARGIN,
                            start,
                            run[0],
                        )
                    )
    if not scans:
        return medians
    # The rows of each group in its ranges (one index range scan each), ranked;
    # the ranks wanted travel with them (a join to them is planned badly).
    query = SQL(
        """
        WITH candidate AS (
            SELECT v.g, v.first, v.last, s.days
              FROM (VALUES %(scans)s)
                   v(g, first, last, bucket, lower, upper, start, stage)
             CROSS JOIN LATERAL (
                SELECT days FROM %(table)s
                 WHERE %(left)s AND stage_id = v.stage
                   AND %(bucket)s = v.bucket
                   AND date >= v.lower AND date < v.upper
                   AND %(local)s = v.start
             ) s
        ), ranked AS (
            SELECT g, first, last, days,
                   row_number() OVER (PARTITION BY g ORDER BY days) AS rank
              FROM candidate
        )
        SELECT g, array_agg(days::float8 ORDER BY rank)
          FROM ranked
         WHERE rank BETWEEN first AND last
         GROUP BY g
        """,
        scans=SQL(", ").join(scans),
        table=SQL.identifier(stay.TABLE),
        left=SQL(median._LEFT),
        bucket=SQL(_BUCKET),
        local=_local_period(sums.env, granularity, "date"),
    )
    for index, values in sums.env.execute_query(query):
        # As percentile_cont(0.5): the middle value, or the two middle ones
        # interpolated in double precision.
        low = values[0]
        middle = low if len(values) == 1 else low + (values[1] - low) * 0.5
        medians[group_keys[index]] = middle
    return medians
