from odoo.tests.common import TransactionCase


class TestDemoData(TransactionCase):
    """The demo is data: nothing of it in a database without demo data."""

    def test_no_demo_model(self):
        own = [
            name
            for name, model in self.env.registry.items()
            if model._original_module == "sales_funnel"
        ]
        self.assertIn("crm.lead.stage.history", own)
        self.assertFalse(
            [name for name in own if "demo" in name],
            "the addon registers a model for its demo in every database",
        )

    def test_no_demo_helper_without_demo_data(self):
        addon = self.env["ir.module.module"].search([("name", "=", "sales_funnel")])
        if addon.demo:
            self.skipTest("a database with demo data")
        actions = self.env["ir.actions.server"].browse(
            self._addon_ids("ir.actions.server")
        )
        self.assertFalse(
            actions.filtered(lambda action: action.name.startswith("Demo:")),
            "demo helpers in a database without demo data",
        )

    def _addon_ids(self, model):
        return (
            self.env["ir.model.data"]
            .search([("module", "=", "sales_funnel"), ("model", "=", model)])
            .mapped("res_id")
        )
