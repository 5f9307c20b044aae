"""The addon's models outside the crm.* namespace are renamed (18.0.1.1.0).

- ``sales_funnel.order.endpoint`` -> ``crm.lead.handoff.endpoint`` (abstract:
  no table, no records);
- ``sales_funnel.xlsx.export`` -> ``crm.funnel.xlsx.export`` (transient): its
  table with its sequence, primary key and foreign keys, and its access right.

Before the module is loaded, the model, its fields, their external ids and the
table take the new names, so that the upgrade finds them under the new names
instead of creating new ones and deleting the old ones (and their data).
"""

import logging

from odoo.tools import SQL

_logger = logging.getLogger(__name__)

MODELS = [
    ("sales_funnel.order.endpoint", "crm.lead.handoff.endpoint"),
    ("sales_funnel.xlsx.export", "crm.funnel.xlsx.export"),
]
XMLIDS = [
    (
        "access_sales_funnel_xlsx_export_salesman",
        "access_crm_funnel_xlsx_export_salesman",
    ),
]


def migrate(cr, version):
    if not version:
        return
    for old, new in MODELS:
        rename_model(cr, old, new)
        rename_table(cr, old.replace(".", "_"), new.replace(".", "_"))
    for old, new in XMLIDS:
        cr.execute(
            "UPDATE ir_model_data SET name = %s WHERE module = 'sales_funnel' "
            "AND name = %s",
            [new, old],
        )


def rename_model(cr, old, new):
    """The ir.model record, its fields and their external ids."""
    cr.execute("UPDATE ir_model SET model = %s WHERE model = %s", [new, old])
    if not cr.rowcount:
        return
    _logger.info("Model %s renamed to %s", old, new)
    cr.execute("UPDATE ir_model_fields SET model = %s WHERE model = %s", [new, old])
    cr.execute(
        "UPDATE ir_model_fields SET relation = %s WHERE relation = %s", [new, old]
    )
    cr.execute("UPDATE ir_model_data SET model = %s WHERE model = %s", [new, old])
    old_, new_ = old.replace(".", "_"), new.replace(".", "_")
    cr.execute(
        """
        UPDATE ir_model_data
           SET name = %(new_name)s
         WHERE module = 'sales_funnel' AND model = 'ir.model'
           AND name = %(old_name)s
        """,
        {"old_name": f"model_{old_}", "new_name": f"model_{new_}"},
    )
    cr.execute(
        """
        UPDATE ir_model_data
           SET name = %(new_prefix)s || substr(name, length(%(old_prefix)s) + 1)
         WHERE module = 'sales_funnel' AND model = 'ir.model.fields'
           AND starts_with(name, %(old_prefix)s)
        """,
        {"old_prefix": f"field_{old_}__", "new_prefix": f"field_{new_}__"},
    )


def rename_table(cr, old, new):
    """The table, its sequence, indexes and constraints named after it."""
    cr.execute("SELECT to_regclass(%s)", [old])
    if cr.fetchone()[0] is None:
        return  # an abstract model
    cr.execute(
        SQL("ALTER TABLE %s RENAME TO %s", SQL.identifier(old), SQL.identifier(new))
    )
    cr.execute("SELECT to_regclass(%s)", [f"{old}_id_seq"])
    if cr.fetchone()[0] is not None:
        cr.execute(
            SQL(
                "ALTER SEQUENCE %s RENAME TO %s",
                SQL.identifier(f"{old}_id_seq"),
                SQL.identifier(f"{new}_id_seq"),
            )
        )
    # Constraints (the primary key's index follows its constraint), then the
    # other indexes.
    cr.execute(
        """
        SELECT conname FROM pg_constraint
         WHERE conrelid = %s::regclass AND starts_with(conname, %s)
        """,
        [new, f"{old}_"],
    )
    for (name,) in cr.fetchall():
        renamed = new + name[len(old) :]
        cr.execute(
            SQL(
                "ALTER TABLE %s RENAME CONSTRAINT %s TO %s",
                SQL.identifier(new),
                SQL.identifier(name),
                SQL.identifier(renamed),
            )
        )
        cr.execute(
            "UPDATE ir_model_constraint SET name = %s WHERE name = %s",
            [renamed, name],
        )
    cr.execute(
        """
        SELECT indexname FROM pg_indexes
         WHERE tablename = %s AND starts_with(indexname, %s)
        """,
        [new, f"{old}_"],
    )
    for (name,) in cr.fetchall():
        cr.execute(
            SQL(
                "ALTER INDEX %s RENAME TO %s",
                SQL.identifier(name),
                SQL.identifier(new + name[len(old) :]),
            )
        )
    _logger.info("Table %s renamed to %s", old, new)
