from odoo.tests import tagged

from ..report.crm_funnel_stage_stay import TABLE, _stays
from .common import AnalyticsCase

COLUMNS = (
    "id, lead_id, stage_id, date, user_id, team_id, company_id, partner_id,"
    " is_opportunity, is_funnel_entry, still_in_stage, passed, won, days,"
    " date_won, date_funnel_entry, funnel_source, campaign_id, lead_date,"
    " date_conversion, amount, lead_won"
)


@tagged("post_install", "-at_install")
class TestStageStays(AnalyticsCase):
    """Stage Analysis reads rows kept by triggers in the writing transaction:
    they equal a recount from the whole stage history after every path."""

    def assertExact(self):
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(f"SELECT {COLUMNS} FROM {TABLE} ORDER BY id")  # noqa: S608
        kept = cr.fetchall()
        cr.execute(f"{_stays('SELECT id FROM crm_lead')} ORDER BY 1")
        self.assertEqual(kept, cr.fetchall())
        return kept

    def _rows(self, lead):
        # As a new request would: the report's rows are read afresh.
        self.env.flush_all()
        self.env.invalidate_all()
        report = self.env["crm.funnel.stage.report"].with_user(self.manager)
        return {
            row.stage_id: (row.state, row.user_id)
            for row in report.search([("lead_id", "=", lead.id)])
        }

    def test_every_path(self):
        deal = self._create("Deal", "2026-09-01 08:00:00")
        other = self._create("Other", "2026-09-01 09:00:00", user=self.salesman2)
        self.assertTrue(self.assertExact())
        self._move(deal, self.development, "2026-09-05 08:00:00")
        self._move(deal, self.proposal, "2026-09-09 08:00:00")
        self.assertEqual(
            self._rows(deal),
            {
                self.verification: ("passed", self.salesman),
                self.development: ("passed", self.salesman),
                self.proposal: ("in_stage", self.salesman),
            },
        )
        self.assertExact()
        self._write(deal, {"stage_id": self.development.id}, "2026-09-10 08:00:00")
        self.assertExact()
        # The salesperson changes: the rows follow the opportunity.
        self._write(deal, {"user_id": self.salesman2.id}, "2026-09-11 08:00:00")
        self.assertEqual(
            {user for _state, user in self._rows(deal).values()}, {self.salesman2}
        )
        self.assertExact()
        self._lose(other, "2026-09-12 08:00:00")
        self.assertEqual(
            self._rows(other), {self.verification: ("stopped", self.salesman2)}
        )
        self.assertExact()
        self._restore(other, "2026-09-13 08:00:00")
        self.assertExact()
        self._walk(
            deal,
            [
                (self.proposal, "2026-09-14 08:00:00"),
                (self.closing, "2026-09-15 08:00:00"),
            ],
        )
        self._win(deal, "2026-09-16 08:00:00")
        self.assertEqual(len(self._rows(deal)), 4)
        self.assertExact()
        deal.unlink()
        self.assertFalse(self._rows(deal))
        self.assertExact()

    def test_import_and_converted_lead(self):
        with self._at("2026-09-01 08:00:00"):
            result = (
                self.env["crm.lead"]
                .with_user(self.manager)
                .load(
                    ["name", "type", "stage_id/id"],
                    [
                        [
                            "Imported",
                            "opportunity",
                            "sales_funnel.crm_stage_verification",
                        ]
                    ],
                )
            )
        self.assertFalse(result["messages"], result["messages"])
        imported = self.env["crm.lead"].browse(result["ids"])
        self.assertEqual(list(self._rows(imported)), [self.verification])
        self.assertExact()
        raw = self._create("Raw", "2026-09-02 08:00:00", type="lead")
        self.assertFalse(self._rows(raw))
        self._write(
            raw,
            {"type": "opportunity", "funnel_source": "prospecting"},
            "2026-09-03 08:00:00",
        )
        self.assertEqual(list(self._rows(raw)), [self.verification])
        self.assertExact()

    def test_funnel_order_changed(self):
        deal = self._create("Deal", "2026-09-01 08:00:00")
        self._move(deal, self.development, "2026-09-05 08:00:00")
        self.assertEqual(self._rows(deal)[self.verification][0], "passed")
        # Development now comes before Verification: moving there was a step back.
        self.development.sequence = self.verification.sequence - 1
        self.assertEqual(self._rows(deal)[self.verification][0], "stopped")
        self.assertExact()
