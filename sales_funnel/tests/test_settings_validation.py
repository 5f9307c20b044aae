from odoo.exceptions import ValidationError
from odoo.tests import new_test_user, tagged

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestSettingsValidation(FunnelCase):
    """Nonsense settings are refused where they are typed, and nothing changes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = new_test_user(
            cls.env,
            "sf_settings_admin",
            groups="base.group_system,sales_team.group_sale_manager",
        )
        cls.company.write(
            {
                "sales_funnel_order_endpoint_url": "https://erp.example.com/api/orders",
                "sales_funnel_order_endpoint_timeout": 10,
                "sales_funnel_snapshot_day": 1,
                "sales_funnel_tolerance_salesperson": 35.0,
                "sales_funnel_tolerance_team": 25.0,
                "sales_funnel_tolerance_company": 20.0,
            }
        )

    def _save_settings(self, **values):
        settings = self.env["res.config.settings"].with_user(self.admin)
        settings.create(values).execute()

    def _assert_refused(self, record, field_name, value, save, message):
        """``save(value)`` is refused with ``message``; after the rollback of
        the refused request the record is as it was."""
        before = record[field_name]
        # Odoo's assertRaises rolls back to a savepoint, as a request would.
        with self.assertRaises(ValidationError) as refusal:
            save(value)
        self.assertIn(message, str(refusal.exception))
        self.assertEqual(record[field_name], before, f"{field_name} = {value!r} kept")

    def test_settings_refuse_nonsense(self):
        company = self.company
        cases = [
            ("sales_funnel_tolerance_salesperson", -5.0, "between 0 and 100"),
            ("sales_funnel_tolerance_salesperson", 500.0, "between 0 and 100"),
            ("sales_funnel_tolerance_team", -0.5, "between 0 and 100"),
            ("sales_funnel_tolerance_company", 101.0, "between 0 and 100"),
            ("sales_funnel_order_endpoint_timeout", -1, "between 1 and 300 seconds"),
            ("sales_funnel_order_endpoint_timeout", 0, "between 1 and 300 seconds"),
            ("sales_funnel_order_endpoint_timeout", 3600, "between 1 and 300 seconds"),
            ("sales_funnel_order_endpoint_url", "erp.example.com/api", "not a web"),
            ("sales_funnel_order_endpoint_url", "not a url", "not a web"),
            ("sales_funnel_order_endpoint_url", "file:///etc/passwd", "not a web"),
            ("sales_funnel_order_endpoint_url", "ftp://erp.example.com", "not a web"),
            ("sales_funnel_order_endpoint_url", "https://", "not a web"),
            ("sales_funnel_snapshot_day", 0, "between 1 and 28"),
            ("sales_funnel_snapshot_day", 31, "between 1 and 28"),
        ]
        for field_name, value, message in cases:
            with self.subTest(field=field_name, value=value):
                # Typed in the settings by an administrator...
                self._assert_refused(
                    company,
                    field_name,
                    value,
                    lambda value, field_name=field_name: self._save_settings(
                        **{field_name: value}
                    ),
                    message,
                )
                # ... or on the company itself.
                self._assert_refused(
                    company,
                    field_name,
                    value,
                    lambda value, field_name=field_name: company.with_user(
                        self.admin
                    ).write({field_name: value}),
                    message,
                )

    def test_settings_accept_sensible_values(self):
        self._save_settings(
            sales_funnel_tolerance_salesperson=0.0,
            sales_funnel_tolerance_team=100.0,
            sales_funnel_order_endpoint_timeout=300,
            sales_funnel_order_endpoint_url="http://10.0.0.5:8080/orders",
            sales_funnel_snapshot_day=28,
        )
        self.assertEqual(self.company.sales_funnel_tolerance_team, 100.0)
        self.assertEqual(
            self.company.sales_funnel_order_endpoint_url, "http://10.0.0.5:8080/orders"
        )
        # No order system at all is fine too.
        self._save_settings(sales_funnel_order_endpoint_url=False)
        self.assertFalse(self.company.sales_funnel_order_endpoint_url)

    def test_stage_days_refuse_negative(self):
        stage = self.proposal.with_user(self.manager)
        for field_name, value, message in [
            ("max_days_in_stage", -3, "cannot be negative"),
            ("entry_activity_days", -1, "cannot be due before the entry"),
        ]:
            with self.subTest(field=field_name):
                self._assert_refused(
                    stage,
                    field_name,
                    value,
                    lambda value, field_name=field_name: stage.write(
                        {field_name: value}
                    ),
                    message,
                )
        with self.assertRaises(ValidationError):
            self.env["crm.stage"].with_user(self.manager).create(
                {"name": "Negotiation", "max_days_in_stage": -3}
            )
        stage.write({"max_days_in_stage": 0, "entry_activity_days": 0})
        self.assertEqual(stage.max_days_in_stage, 0)
        # Win rates outside 0-100 were already refused.
        with self.assertRaises(ValidationError):
            stage.write({"win_rate": 120})

    def test_funnel_health_refuses_nonsense_thresholds(self):
        Health = self.env["crm.funnel.health.wizard"].with_user(self.salesman)
        period = {"date_from": "2026-12-01", "date_to": "2026-12-31"}
        for values, message in [
            ({"date_from": "2027-01-01"}, "after its end"),
            ({"balance_tolerance": -10}, "cannot be negative"),
            ({"low_conversion_ratio": 150}, "between 0 and 100"),
            ({"low_conversion_ratio": -1}, "between 0 and 100"),
            ({"inspection_days": -1}, "cannot be negative"),
        ]:
            with self.subTest(values=values):
                with self.assertRaises(ValidationError) as refusal:
                    Health.create({**period, **values})
                self.assertIn(message, str(refusal.exception))
