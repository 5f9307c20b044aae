from lxml import etree

from odoo.tests import tagged

from .common import AnalyticsCase


@tagged("post_install", "-at_install")
class TestCompanySizeSlice(AnalyticsCase):
    """规模: the customer's company size slices the forecast, Stage Analysis and
    the pipeline as of a date, read from the company of the contact."""

    def setUp(self):
        super().setUp()
        Partner = self.env["res.partner"]
        self.partner.company_size = "large"
        contact = Partner.create({"name": "Wang Lei", "parent_id": self.partner.id})
        small = Partner.create(
            {"name": "Suzhou Valves", "is_company": True, "company_size": "small"}
        )
        when = "2026-11-02 08:00:00"
        self.big = self._create(
            "Big",
            when,
            revenue=100000,
            partner_id=contact.id,
            date_deadline="2026-12-10",
        )
        self._move(self.big, self.development, "2026-11-05 08:00:00")
        self.little = self._create(
            "Little",
            when,
            revenue=30000,
            partner_id=small.id,
            date_deadline="2026-12-10",
        )
        self.unknown = self._create(
            "Unknown",
            when,
            revenue=5000,
            partner_id=False,
            date_deadline="2026-12-10",
        )

    def _by_size(self, model, aggregate, **context):
        report = self.env[model].with_user(self.salesman).with_context(**context)
        return dict(report._read_group([], ["company_size"], [aggregate]))

    def test_forecast_by_company_size(self):
        self.assertEqual(
            self._by_size("crm.funnel.forecast.report", "amount:sum"),
            {"large": 100000, "small": 30000, False: 5000},
        )

    def test_stage_analysis_by_company_size(self):
        # The big deal entered Verification and Development; the others one stage.
        self.assertEqual(
            self._by_size("crm.funnel.stage.report", "entered_count:sum"),
            {"large": 2, "small": 1, False: 1},
        )

    def test_pipeline_as_of_by_company_size(self):
        self.assertEqual(
            self._by_size(
                "crm.funnel.pipeline.report",
                "amount:sum",
                sales_funnel_as_of="2026-11-03",
            ),
            {"large": 100000, "small": 30000, False: 5000},
        )

    def test_search_views_group_by_company_size(self):
        for model in (
            "crm.funnel.forecast.report",
            "crm.funnel.stage.report",
            "crm.funnel.pipeline.report",
        ):
            arch = self.env[model].get_view(view_type="search")["arch"]
            tree = etree.fromstring(arch)
            self.assertTrue(tree.xpath("//field[@name='company_size']"), model)
            self.assertEqual(
                tree.xpath("//filter[@name='group_company_size']/@context"),
                ["{'group_by': 'company_size'}"],
                model,
            )
