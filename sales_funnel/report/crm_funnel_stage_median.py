"""Stage Analysis' median days in stage, exact, without sorting the rows.

Partial indexes keep the rows that left their stage sorted by days within a
few prefixes (stage; salesperson × stage; ...). A group whose rows are whole
runs of one index (a stage, a salesperson's stages, a stage's rows of the
user and the unassigned ones...) has its median at a known rank of those runs
taken together. Whether a group is whole runs is decided from the kept counts
(crm_funnel_stage_sums.py): its count equals the count of the runs it touches.

To reach that rank without stepping over half the rows, statement triggers
keep how many rows of each run fall in each of ~160 ranges of days (a
geometric scale, fixed): the ranges that hold the middle rows and the rank in
them follow, and only those ranges of each run are read (an index range scan)
and ranked. Other groups (by month, filtered on dates) read the rows.
"""

from odoo import models
from odoo.tools import SQL

from . import crm_funnel_stage_stay as stay
from .delta_sums import DeltaSums, create_triggers, drop_triggers, row_triggers

# The rows a median is taken over (the days of the rows that left the stage).
_LEFT = "is_opportunity AND NOT still_in_stage"
# Index prefixes, the cheapest first; the days follow.
PREFIXES = [
    (),
    ("stage_id",),
    ("user_id", "stage_id"),
    ("team_id", "stage_id"),
    ("stage_id", "is_funnel_entry", "passed"),
]
# Beyond this many runs (index scans) a group reads the rows.
MAX_RUNS = 16
# The dimensions of the kept sums that locate a row in every index.
CELL = ["stage_id", "user_id", "team_id", "is_funnel_entry", "state"]


def _index_name(prefix):
    return f"{stay.TABLE}_median_{'_'.join(prefix) or 'all'}_idx"


# Lower bounds of the ranges of days (range n starts at BOUNDS[n - 1]): 0, then
# from about 15 minutes on, 8 % wider each, to ten years; exact numerics.
BOUNDS = ["0"] + [f"{0.01 * 1.08**n:.6f}" for n in range(0, 160)]
_BOUNDS_SQL = f"ARRAY[{', '.join(BOUNDS)}]::numeric[]"


def _run_key(stay_alias, prefix):
    """SQL: the run of a row in the index of ``prefix``, as integers."""
    values = ", ".join(f"COALESCE({stay_alias}.{name}::int, 0)" for name in prefix)
    return f"ARRAY[{values}]::int[]"


def _histogram_rows(sign, rows):
    return " UNION ALL ".join(
        f"""
        SELECT '{"/".join(prefix)}' AS prefix, {_run_key("s", prefix)} AS run,
               width_bucket(s.days, {_BOUNDS_SQL}) AS bucket, {sign} AS cnt
          FROM {rows} s
         WHERE s.is_opportunity AND NOT s.still_in_stage AND s.days IS NOT NULL
        """
        for prefix in PREFIXES
    )


HISTOGRAM = DeltaSums(
    "crm_funnel_stage_days_delta",
    group="prefix, run, bucket",
    sums=["cnt"],
    columns_sql="prefix varchar NOT NULL, run integer[] NOT NULL,"
    " bucket integer NOT NULL, cnt integer NOT NULL",
)
_TRIGGERS = {
    **row_triggers(
        "sales_funnel_stage_days", stay.TABLE, [(HISTOGRAM.insert, _histogram_rows)]
    ),
    "sales_funnel_stage_days_truncate": (
        stay.TABLE,
        "TRUNCATE",
        "",
        f"DELETE FROM {HISTOGRAM.table}",
    ),
}
_FILL = f"DELETE FROM {HISTOGRAM.table};" + HISTOGRAM.insert(
    _histogram_rows(1, stay.TABLE)
)


_SETUP = (
    "".join(
        f"CREATE INDEX IF NOT EXISTS {_index_name(prefix)} ON {stay.TABLE}"
        f" ({', '.join((*prefix, 'days'))}) WHERE {_LEFT};"
        for prefix in PREFIXES
    )
    + HISTOGRAM.create_table()
    + create_triggers(_TRIGGERS)
)
_COMPACT = HISTOGRAM.compact()
_DROP = drop_triggers(_TRIGGERS) + HISTOGRAM.drop_table()


def setup_medians(env):
    """The indexes, the kept histogram and its triggers (filled when new)."""
    cr = env.cr
    cr.execute("SELECT to_regclass(%s)", [HISTOGRAM.table])
    new = cr.fetchone()[0] is None
    cr.execute(_SETUP)
    if new:
        cr.execute(_FILL)


def compact_medians(env):
    env.cr.execute(_COMPACT)


def drop_medians(env):
    env.cr.execute(_DROP)


def _project(cell, prefix):
    """The values of ``prefix`` of a cell {stage_id, user_id, …, state}."""
    return tuple(
        cell["state"] == "passed" if name == "passed" else cell[name] for name in prefix
    )


def _lower(bucket):
    return BOUNDS[bucket - 1] if bucket > 0 else "-Infinity"


def _upper(bucket):
    return BOUNDS[bucket] if bucket < len(BOUNDS) else "Infinity"


def _candidates(prefix, nulls, items):
    """SQL: (group, days) of the rows of the runs ``items`` [(group, run, lower,
    upper)] whose values in ``nulls`` are NULL, in their ranges of days: one
    index range scan per run, planned once."""
    keys = [name for name in prefix if name not in nulls]
    conditions = [SQL(_LEFT), SQL("days >= v.lower AND days < v.upper")]
    conditions += [SQL("%s IS NULL", SQL.identifier(name)) for name in nulls]
    conditions += [
        SQL("%s = %s", SQL.identifier(name), SQL.identifier("v", f"k{index}"))
        for index, name in enumerate(keys)
    ]
    rows = SQL(", ").join(
        SQL(
            "(%s)",
            SQL(", ").join(
                [
                    SQL("%s", group),
                    SQL("%s::numeric", lower),
                    SQL("%s::numeric", upper),
                    *(
                        SQL("%s", value)
                        for name, value in zip(prefix, run, strict=True)
                        if name not in nulls
                    ),
                ]
            ),
        )
        for group, run, lower, upper in items
    )
    columns = ", ".join(["g", "lower", "upper", *(f"k{i}" for i in range(len(keys)))])
    return SQL(
        "SELECT v.g, s.days FROM (VALUES %s) v(%s)"
        " CROSS JOIN LATERAL (SELECT days FROM %s WHERE %s) s",
        rows,
        SQL(columns),
        SQL.identifier(stay.TABLE),
        SQL(" AND ").join(conditions),
    )


def _histograms(env, prefix, runs):
    """{run: {range: rows}} of the runs of the index of ``prefix``."""
    # The run as PostgreSQL writes an int[]: {stage,user,…}, 0 for none.
    keys = ["{" + ",".join(str(int(value or 0)) for value in run) + "}" for run in runs]
    rows = env.execute_query(
        SQL(
            "SELECT run::text, bucket, SUM(cnt) FROM %s"
            " WHERE prefix = %s AND run::text = ANY(%s)"
            " GROUP BY run, bucket HAVING SUM(cnt) <> 0",
            SQL.identifier(HISTOGRAM.table),
            "/".join(prefix),
            keys,
        )
    )
    by_key = dict(zip(keys, runs, strict=True))
    result = {run: {} for run in runs}
    for key, bucket, count in rows:
        result[by_key[key]][bucket] = count
    return result


def _ranges(histograms, low, high):
    """(lower bound, upper bound, rank of ``low`` from the lower bound on) of
    the ranges of days that hold the rows ranked ``low`` to ``high``."""
    merged = {}
    for histogram in histograms:
        for bucket, count in histogram.items():
            merged[bucket] = merged.get(bucket, 0) + count
    before, first, last = 0, None, None
    for bucket in sorted(merged):
        if first is None and low < before + merged[bucket]:
            first, offset = bucket, low - before
        if high < before + merged[bucket]:
            last = bucket
            break
        before += merged[bucket]
    if first is None or last is None:  # the counts disagree: every row
        return "-Infinity", "Infinity", low
    return _lower(first), _upper(last), offset


def _cheapest_runs(cells, count, universe):
    """(prefix, runs) of the index whose runs hold exactly the rows of the
    group, the fewest runs first; None when no index does."""
    best = None
    for prefix in PREFIXES:
        runs = {_project(cell, prefix) for cell in cells}
        if len(runs) > MAX_RUNS or (best and len(runs) >= len(best[1])):
            continue
        if sum(universe[prefix].get(run, 0) for run in runs) == count:
            best = (prefix, sorted(runs, key=repr))
    return best


def _universe(sums):
    """{prefix: {run: rows that left the stage}} over every row."""
    groups = sums._read_group([], CELL, ["days_count:sum"])
    universe = {prefix: {} for prefix in PREFIXES}
    for *values, count in groups:
        cell = _cell(values)
        for prefix in PREFIXES:
            run = _project(cell, prefix)
            universe[prefix][run] = universe[prefix].get(run, 0) + count
    return universe


def _cell(values):
    return {
        name: (value.id or None) if isinstance(value, models.BaseModel) else value
        for name, value in zip(CELL, values, strict=True)
    }


def exact_medians(sums, every_row_sums, domain, groupby, key_of, keys):
    """{group key: median} of the groups ``keys`` of ``groupby`` whose rows
    are whole index runs or that have no row that left its stage (None); the
    others are left out. ``key_of`` turns group values into a key; ``sums``:
    crm.funnel.stage.sums (``every_row_sums``: the same, its cheapest table for
    every row), ``domain`` with the record rules."""
    extra = [name for name in CELL if name not in groupby]
    size = len(groupby)
    groups = {}
    for row in sums._read_group(domain, [*groupby, *extra], ["days_count:sum"]):
        count = row[-1]
        if not count:
            continue
        values = dict(zip([*groupby, *extra], row[:-1], strict=True))
        key = key_of(row[:size])
        cells, total = groups.get(key, ([], 0))
        cells.append(_cell([values[name] for name in CELL]))
        groups[key] = (cells, total + count)
    medians = {key: None for key in keys if key not in groups}
    if not groups:
        return medians
    universe = _universe(every_row_sums)
    chosen = {}
    for index, (cells, count) in enumerate(groups.values()):
        runs = _cheapest_runs(cells, count, universe)
        if runs is not None:
            chosen[index] = (*runs, count)
    histograms = {}
    for prefix, runs, _count in chosen.values():
        histograms.setdefault(prefix, set()).update(runs)
    histograms = {
        prefix: _histograms(sums.env, prefix, sorted(runs, key=repr))
        for prefix, runs in histograms.items()
    }
    scans, wanted = {}, []
    for index, (prefix, runs, count) in chosen.items():
        low, high = (count - 1) // 2, count // 2
        lower, upper, offset = _ranges(
            [histograms[prefix][run] for run in runs], low, high
        )
        wanted.append(SQL("(%s, %s, %s)", index, offset + 1, offset + 1 + high - low))
        for run in runs:
            nulls = tuple(
                name for name, value in zip(prefix, run, strict=True) if value is None
            )
            scans.setdefault((prefix, nulls), []).append((index, run, lower, upper))
    if not wanted:
        return medians
    query = SQL(
        """
        WITH candidate AS (%s),
        ranked AS (
            SELECT g, days,
                   row_number() OVER (PARTITION BY g ORDER BY days) AS rank
              FROM candidate
        )
        SELECT r.g, array_agg(r.days::float8 ORDER BY r.rank)
          FROM ranked r
          JOIN (VALUES %s) w(g, first, last) ON w.g = r.g
         WHERE r.rank BETWEEN w.first AND w.last
         GROUP BY r.g
        """,
        SQL(" UNION ALL ").join(
            _candidates(prefix, nulls, items)
            for (prefix, nulls), items in scans.items()
        ),
        SQL(", ").join(wanted),
    )
    group_keys = list(groups)
    for index, values in sums.env.execute_query(query):
        # As percentile_cont(0.5): the middle value, or the two middle ones
        # interpolated in double precision.
        low = values[0]
        middle = low if len(values) == 1 else low + (values[1] - low) * 0.5
        medians[group_keys[index]] = middle
    return medians
