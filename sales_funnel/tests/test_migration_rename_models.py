import importlib.util
from pathlib import Path

from odoo.tests import TransactionCase, tagged

SCRIPT = (
    Path(__file__).resolve().parent.parent
    / "migrations"
    / "18.0.1.1.0"
    / "pre-rename-models.py"
)


def _migration():
    spec = importlib.util.spec_from_file_location("pre_rename_models", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestRenameModelsMigration(TransactionCase):
    """A database installed with 18.0.1.0.0 keeps its records under the new
    crm.* model names (in a transaction rolled back after the test)."""

    def _as_released(self):
        """Put the Excel export back under its 18.0.1.0.0 names, in SQL."""
        cr = self.env.cr
        cr.execute(
            """
            UPDATE ir_model SET model = 'sales_funnel.xlsx.export'
             WHERE model = 'crm.funnel.xlsx.export';
            UPDATE ir_model_fields SET model = 'sales_funnel.xlsx.export'
             WHERE model = 'crm.funnel.xlsx.export';
            UPDATE ir_model SET model = 'sales_funnel.order.endpoint'
             WHERE model = 'crm.lead.handoff.endpoint';
            UPDATE ir_model_data
               SET name = replace(name, 'crm_funnel_xlsx_export',
                                  'sales_funnel_xlsx_export')
             WHERE module = 'sales_funnel' AND name LIKE '%crm_funnel_xlsx_export%';
            UPDATE ir_model_data SET name = 'model_sales_funnel_order_endpoint'
             WHERE module = 'sales_funnel'
               AND name = 'model_crm_lead_handoff_endpoint';
            ALTER TABLE crm_funnel_xlsx_export RENAME TO sales_funnel_xlsx_export;
            ALTER SEQUENCE crm_funnel_xlsx_export_id_seq
                RENAME TO sales_funnel_xlsx_export_id_seq;
            ALTER TABLE sales_funnel_xlsx_export
                RENAME CONSTRAINT crm_funnel_xlsx_export_pkey
                TO sales_funnel_xlsx_export_pkey;
            ALTER TABLE sales_funnel_xlsx_export
                RENAME CONSTRAINT crm_funnel_xlsx_export_create_uid_fkey
                TO sales_funnel_xlsx_export_create_uid_fkey;
            UPDATE ir_model_constraint
               SET name = 'sales_funnel_xlsx_export_create_uid_fkey'
             WHERE name = 'crm_funnel_xlsx_export_create_uid_fkey';
            """
        )

    def test_upgrade_keeps_exports_access_and_ids(self):
        Export = self.env["crm.funnel.xlsx.export"]
        export = Export.create(
            {"res_model": "crm.lead", "field_names": "name", "title": "Kept"}
        )
        access = self.env.ref("sales_funnel.access_crm_funnel_xlsx_export_salesman")
        model_ids = {
            name: self.env["ir.model"]._get_id(name)
            for name in ("crm.funnel.xlsx.export", "crm.lead.handoff.endpoint")
        }
        field = self.env.ref("sales_funnel.field_crm_funnel_xlsx_export__title")
        self.env.flush_all()
        self._as_released()
        self.env.invalidate_all()

        _migration().migrate(self.env.cr, "18.0.1.0.0")
        self.env.registry.clear_cache()  # the xmlid and model id lookups

        cr = self.env.cr
        cr.execute(
            "SELECT title FROM crm_funnel_xlsx_export WHERE id = %s", [export.id]
        )
        self.assertEqual(cr.fetchall(), [("Kept",)])
        cr.execute("SELECT to_regclass('sales_funnel_xlsx_export')")
        self.assertIsNone(cr.fetchone()[0])
        cr.execute("SELECT nextval('crm_funnel_xlsx_export_id_seq')")
        self.assertGreater(cr.fetchone()[0], export.id)
        cr.execute(
            "SELECT conname FROM pg_constraint"
            " WHERE conrelid = 'crm_funnel_xlsx_export'::regclass ORDER BY 1"
        )
        self.assertEqual(
            [name for (name,) in cr.fetchall()],
            [
                "crm_funnel_xlsx_export_create_uid_fkey",
                "crm_funnel_xlsx_export_pkey",
                "crm_funnel_xlsx_export_write_uid_fkey",
            ],
        )
        cr.execute(
            "SELECT model FROM ir_model WHERE model LIKE 'sales\\_funnel.%%'"
            " AND id IN %s",
            [tuple(model_ids.values())],
        )
        self.assertEqual(cr.fetchall(), [])
        # The same records under the new names: nothing recreated, nothing lost.
        for name, model_id in model_ids.items():
            self.assertEqual(self.env["ir.model"]._get_id(name), model_id)
        self.assertEqual(
            self.env.ref("sales_funnel.access_crm_funnel_xlsx_export_salesman"),
            access,
        )
        self.assertEqual(access.model_id.model, "crm.funnel.xlsx.export")
        self.assertEqual(
            self.env.ref("sales_funnel.field_crm_funnel_xlsx_export__title"), field
        )
        self.assertEqual(field.model, "crm.funnel.xlsx.export")
