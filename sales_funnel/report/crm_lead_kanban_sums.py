"""The pipeline kanban's column figures, kept exact by PostgreSQL itself.

The kanban's columns show, per stage, the number of opportunities and the
sums and averages of the card fields (``web_read_group``); each column's card
list asks the same count again (``search_count`` up to 10,001). At a million
opportunities each of these reads the whole table. Statement triggers on
crm_lead append signed deltas (count, and per kept field the sum and the number
of non-NULL values, for ``sum`` and ``avg``) per company × team × salesperson ×
stage × active × type to crm_lead_kanban_delta, in the transaction of the
change. Every row of crm_lead is counted (leads, archived ones too), so a
domain on those six columns reads the deltas instead of the opportunities:
the ORM's own WHERE clause of crm_lead, record rules included, runs on the
delta table under crm_lead's alias (``models/crm_lead_kanban.py``).
"""

from .delta_sums import DeltaSums, create_triggers, drop_triggers, lead_triggers

# The columns a domain may test to be answered from the deltas.
GROUP_COLUMNS = ("company_id", "team_id", "user_id", "stage_id", "active", "type")
# The numeric fields of the kanban whose sum and average are kept.
KEPT_FIELDS = (
    "expected_revenue",
    "prorated_revenue",
    "recurring_revenue",
    "recurring_revenue_monthly",
    "probability",
    "color",
    "grade_score",
)


def count_column(fname):
    """The delta column of the number of non-NULL values of ``fname``."""
    return f"{fname}_n"


def _lead_rows(sign, rows, extra=""):
    values = ", ".join(
        f"{sign} * COALESCE(l.{f}, 0)::numeric AS {f},"
        f" {sign} * (l.{f} IS NOT NULL)::int AS {count_column(f)}"
        for f in KEPT_FIELDS
    )
    return f"""
        SELECT {", ".join(f"l.{c}" for c in GROUP_COLUMNS)}, {sign} AS cnt, {values}
          FROM {rows} l
         WHERE TRUE {extra}
    """


DELTAS = DeltaSums(
    "crm_lead_kanban_delta",
    group=", ".join(GROUP_COLUMNS),
    sums=["cnt"] + [c for f in KEPT_FIELDS for c in (f, count_column(f))],
    columns_sql="company_id integer, team_id integer, user_id integer,"
    " stage_id integer, active boolean, type varchar, cnt integer NOT NULL, "
    + ", ".join(
        f"{f} numeric NOT NULL, {count_column(f)} integer NOT NULL" for f in KEPT_FIELDS
    ),
)

# Only rows whose grouped or summed columns changed move the sums.
_TRIGGERS = lead_triggers(
    "sales_funnel_kanban", [(DELTAS, _lead_rows)], GROUP_COLUMNS + KEPT_FIELDS
)
SETUP = DELTAS.create_table() + create_triggers(_TRIGGERS)
FILL = DELTAS.insert(_lead_rows(1, "crm_lead"))
COMPACT = DELTAS.compact()
REBUILD = f"DELETE FROM {DELTAS.table}; {FILL}"
DROP = drop_triggers(_TRIGGERS) + DELTAS.drop_table()


def drop_kanban_sums(env):
    """Uninstall: crm_lead keeps no trigger of ours."""
    env.cr.execute(DROP)
