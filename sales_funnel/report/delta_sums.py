"""Sums kept exact by PostgreSQL itself.

Statement-level triggers append signed deltas to a table in the transaction
that changes the source rows; readers sum the deltas per group, and a job
folds them into one row per group. Used by the funnel forecast, the kanban,
the grades and the lead conversion (on crm_lead, ``lead_triggers``), the stage
flow (on the stage history) and Stage Analysis (on its stays), all through
``row_triggers``.
"""


class DeltaSums:
    """The SQL of one delta table: its rows are summed per ``group``."""

    def __init__(self, table, group, sums, columns_sql):
        self.table = table
        self.group = group
        self.sums = sums
        self.columns_sql = columns_sql  # column definitions of the table

    def insert(self, source, prefix=""):
        """INSERT the rows of ``source`` summed per group, zero sums left out."""
        sums = ", ".join(f"sum({name})" for name in self.sums)
        nonzero = " OR ".join(f"sum({name}) <> 0" for name in self.sums)
        return f"""
            {prefix}
            INSERT INTO {self.table} ({self.group}, {", ".join(self.sums)})
            SELECT {self.group}, {sums}
              FROM ({source}) AS rows
             GROUP BY {self.group}
            HAVING {nonzero}
        """

    def create_table(self):
        return f"CREATE TABLE IF NOT EXISTS {self.table} ({self.columns_sql});"

    def compact(self):
        """Fold the deltas into one row per group (same sums, fewer rows)."""
        columns = f"{self.group}, {', '.join(self.sums)}"
        return self.insert(
            f"SELECT {columns} FROM deleted",
            prefix=f"WITH deleted AS (DELETE FROM {self.table} RETURNING *)",
        )

    def drop_table(self):
        return f"DROP TABLE IF EXISTS {self.table};"


def changed_ids(columns, expressions=()):
    """SELECT of the ids of an UPDATE statement's rows (transition tables
    ``old_rows``/``new_rows``) whose ``columns`` changed: the only rows whose
    sums can move. ``expressions``: more values compared, each an SQL
    expression of the row ``{rows}`` (a part of a column: a date's month)."""
    old = [f"o.{name}" for name in columns]
    new = [f"n.{name}" for name in columns]
    for expression in expressions:
        old.append(expression.format(rows="o"))
        new.append(expression.format(rows="n"))
    return f"""
        SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
         WHERE ({", ".join(old)}) IS DISTINCT FROM ({", ".join(new)})
    """


def row_triggers(prefix, table, kept, columns=None):
    """The INSERT, UPDATE and DELETE statement triggers of ``table`` that keep
    sums: ``kept`` is a list of ``(insert, rows)``, ``insert(source)`` the
    statement that adds up ``source`` (``DeltaSums.insert``), ``rows(sign,
    source[, extra])`` the SELECT of a statement's rows with the sign of their
    contribution. An UPDATE takes out the old rows and puts in the new ones;
    with ``columns``, only of the rows (alias ``l``) whose ``columns``
    changed. Returns ``{name: (table, event, referencing, body)}``, named
    ``<prefix>_insert``, ``_update`` and ``_delete``."""
    changed, only_changed = "", ()
    if columns:
        changed = f"WITH changed AS ({changed_ids(columns)})"
        only_changed = ("AND l.id IN (SELECT id FROM changed)",)

    def each(statement):
        return ";".join(insert(statement(rows)) for insert, rows in kept)

    return {
        f"{prefix}_insert": (
            table,
            "INSERT",
            "NEW TABLE AS new_rows",
            each(lambda rows: rows(1, "new_rows")),
        ),
        f"{prefix}_update": (
            table,
            "UPDATE",
            "OLD TABLE AS old_rows NEW TABLE AS new_rows",
            each(
                lambda rows: (
                    changed
                    + rows(-1, "old_rows", *only_changed)
                    + " UNION ALL "
                    + rows(1, "new_rows", *only_changed)
                )
            ),
        ),
        f"{prefix}_delete": (
            table,
            "DELETE",
            "OLD TABLE AS old_rows",
            each(lambda rows: rows(-1, "old_rows")),
        ),
    }


def lead_triggers(prefix, kept, columns):
    """``row_triggers`` of ``crm_lead``: ``kept`` is a list of ``(DeltaSums,
    rows)``; an UPDATE moves only the leads whose ``columns`` changed."""
    return row_triggers(
        prefix, "crm_lead", [(deltas.insert, rows) for deltas, rows in kept], columns
    )


def create_triggers(triggers):
    """The functions and triggers of ``{name: (table, event, referencing,
    body)}``."""
    return "".join(
        trigger_function(name, body)
        + statement_trigger(name, table, event, referencing)
        for name, (table, event, referencing, body) in triggers.items()
    )


def drop_triggers(triggers):
    return "".join(
        drop_trigger(name, table) for name, (table, *_rest) in triggers.items()
    )


def trigger_function(name, body):
    return f"""
        CREATE OR REPLACE FUNCTION {name}() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            {body};
            RETURN NULL;
        END $$;
    """


def statement_trigger(name, table, event, referencing=""):
    """An AFTER … FOR EACH STATEMENT trigger calling the function ``name``."""
    if referencing:
        referencing = f"REFERENCING {referencing}"
    return f"""
        DROP TRIGGER IF EXISTS {name} ON {table};
        CREATE TRIGGER {name} AFTER {event} ON {table} {referencing}
            FOR EACH STATEMENT EXECUTE FUNCTION {name}();
    """


def drop_trigger(name, table):
    return f"""
        DROP TRIGGER IF EXISTS {name} ON {table};
        DROP FUNCTION IF EXISTS {name}();
    """
