import io
from contextlib import contextmanager

import psycopg2.errors

from odoo.tests import tagged
from odoo.tools import mute_logger

from ..controllers.xlsx_export import SalesFunnelXlsxController
from .common import AnalyticsCase

# The addon's screens that only read, and how the web client reads them.
REPORT_MODELS = (
    "crm.funnel.stage.report",
    "crm.funnel.forecast.report",
    "crm.funnel.pipeline.report",
    "crm.funnel.summary",
    "crm.stage.flow",
)


@tagged("post_install", "-at_install")
class TestReadOnlyEntryPoints(AnalyticsCase):
    """What a read replica serves: the entry points the web client calls to
    read are marked read-only (Odoo sends them to --db_replica_host), and they
    work in a read-only transaction (a write would fail there)."""

    def setUp(self):
        super().setUp()
        self.verification.max_days_in_stage = 5
        self.deal = self._create("Boiler", "2031-03-01 08:00:00")
        self._move(self.deal, self.development, "2031-03-03 08:00:00")
        other = self._create("Turbine", "2031-03-02 08:00:00", revenue=50000)
        self._walk(
            other,
            [
                (self.development, "2031-03-03 09:00:00"),
                (self.proposal, "2031-03-03 10:00:00"),
                (self.closing, "2031-03-03 11:00:00"),
            ],
        )
        self._win(other, "2031-03-04 08:00:00")
        self._create("Stuck pump", "2031-01-02 08:00:00", user=self.salesman2)

    @contextmanager
    def _read_only(self):
        """A read-only transaction, as on a replica: any write raises."""
        self.env.flush_all()
        cr = self.env.cr
        cr.execute("SAVEPOINT sales_funnel_read_only")
        cr.execute("SET TRANSACTION READ ONLY")
        try:
            yield
            self.env.flush_all()  # pending writes would be written now
        finally:
            cr.execute("ROLLBACK TO SAVEPOINT sales_funnel_read_only")
            self.env.invalidate_all()

    def _assert_read_only_method(self, model, method):
        func = getattr(type(self.env[model]), method)
        self.assertTrue(
            getattr(func, "_readonly", False), f"{model}.{method} is not read-only"
        )

    def test_the_read_only_check_catches_writes(self):
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(psycopg2.errors.ReadOnlySqlTransaction),
            self._read_only(),
        ):
            self.deal.name = "Renamed"

    def test_dashboard_on_a_replica(self):
        self._assert_read_only_method("crm.funnel.dashboard", "get_data")
        for user in (self.salesman, self.manager):
            with self._read_only():
                data = (
                    self.env["crm.funnel.dashboard"]
                    .with_user(user)
                    .get_data(period="this_year")
                )
                self.assertIn("funnel", data)

    def test_reports_and_kanban_on_a_replica(self):
        for method in ("web_read_group", "web_search_read", "read_progress_bar"):
            self._assert_read_only_method("crm.lead", method)
        for model in REPORT_MODELS:
            self._assert_read_only_method(model, "web_read_group")
        with self._at("2031-03-10 08:00:00"), self._read_only():
            for model in REPORT_MODELS:
                Report = (
                    self.env[model]
                    .with_user(self.manager)
                    .with_context(sales_funnel_as_of="2031-03-05")
                )
                groups = Report.web_read_group([], ["__count"], ["stage_id"])
                self.assertTrue(groups["groups"], model)
            Lead = self.env["crm.lead"].with_user(self.salesman)
            pipeline = Lead.web_search_read(
                [("type", "=", "opportunity")],
                {
                    "name": {},
                    "is_stuck": {},
                    "days_in_stage": {},
                    "fact_card_completeness": {},
                    "stage_id": {"fields": {"display_name": {}}},
                },
            )
            self.assertTrue(pipeline["records"])
            Lead.read_progress_bar(
                [("type", "=", "opportunity")],
                "stage_id",
                {
                    "field": "activity_state",
                    "colors": {"planned": "success", "overdue": "danger"},
                },
            )
            stuck = self.env["crm.lead"].with_user(self.manager)
            self.assertGreaterEqual(stuck.search_count([("is_stuck", "=", True)]), 1)

    def test_xlsx_export_on_a_replica(self):
        routing = SalesFunnelXlsxController.download.original_routing
        self.assertTrue(routing.get("readonly"))
        Lead = self.env["crm.lead"].with_user(self.manager)
        leads = Lead.search([("type", "=", "opportunity")])
        action = (
            self.env["crm.funnel.xlsx.export"]
            .with_user(self.manager)
            ._action_export(leads)
        )
        export_id = int(action["url"].rsplit("/", 1)[1])
        export = (
            self.env["crm.funnel.xlsx.export"].with_user(self.manager).browse(export_id)
        )
        with self._read_only():
            spool = io.BytesIO()
            export._write_workbook(spool)
            self.assertGreater(spool.tell(), 1000)
