from unittest.mock import patch

from odoo.sql_db import Cursor
from odoo.tests import tagged

from ..report.crm_funnel_source_report import PER_ROW
from ..report.crm_funnel_source_sums import AGGREGATES, MONTHLY, TOTALS
from .common import AnalyticsCase

MEASURES = [spec for spec in AGGREGATES if spec != "__count"]
EVERY_GROUP = (
    "funnel_source",
    "campaign_id",
    "step",
    "stage_id",
    "user_id",
    "team_id",
    "company_id",
    "date:month",
)


@tagged("post_install", "-at_install")
class TestSourceSums(AnalyticsCase):
    """Source Effectiveness' pivot and graph read sums kept by triggers: they
    equal the per-row answer for every grouping, filter and user, after every
    write path, and the per-row rows are not read to answer them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Campaign = cls.env["utm.campaign"]
        cls.expo = Campaign.create({"title": "Smart Energy Expo"})
        cls.mailing = Campaign.create({"title": "Spring Mailing"})

    def _pool_lead(self, name, when, **vals):
        with self._at(when):
            lead = self.env["crm.lead"].create(
                {
                    "name": name,
                    "type": "lead",
                    "partner_id": self.partner.id,
                    "user_id": False,
                    **vals,
                }
            )
            self.env.flush_all()
        return lead

    def _story(self):
        """Leads of the pool (qualified, dropped, waiting), deals of every
        source over two months, moved on, back, won and lost."""
        expo, mailing = self.expo.id, self.mailing.id
        waiting = self._pool_lead("Waiting", "2026-01-02 09:00:00", campaign_id=expo)
        dropped = self._pool_lead("Dropped", "2026-01-31 23:30:00", campaign_id=expo)
        self._write(dropped, {"active": False}, "2026-02-03 09:00:00")
        qualified = self._pool_lead(
            "Qualified",
            "2026-01-04 09:00:00",
            campaign_id=mailing,
            user_id=self.salesman.id,
            expected_revenue=50000.5,
        )
        with self._at("2026-01-06 10:17:23"):
            qualified.with_user(self.salesman).convert_opportunity(self.partner)
            self.env.flush_all()
        self._move(qualified, self.development, "2026-01-20 09:00:00")
        won = self._create(
            "Won", "2026-01-05 09:00:00", revenue=300000.25, campaign_id=expo
        )
        self._walk(
            won,
            [
                (self.development, "2026-01-15 09:00:00"),
                (self.proposal, "2026-01-25 09:00:01"),
                (self.closing, "2026-02-05 09:00:00"),
            ],
        )
        self._win(won, "2026-02-20 13:13:13")
        back = self._create(
            "Back and forth", "2026-02-07 09:00:00", user=self.salesman2, revenue=1
        )
        self._move(back, self.development, "2026-02-08 09:00:00")
        self._move(back, self.verification, "2026-02-09 09:00:00")
        lost = self._create("Lost", "2026-02-08 09:00:00", referred="Mr Wang")
        self._lose(lost, "2026-02-12 09:00:00")
        return waiting, qualified, won, back, lost

    def _answers(self, report, domain, groupby, aggregates=MEASURES):
        self.env.invalidate_all()
        fast = report._read_group(domain, groupby, ["__count", *aggregates])
        rows = report.with_context(**{PER_ROW: True})._read_group(
            domain, groupby, ["__count", *aggregates]
        )
        return fast, rows

    def assertAgrees(self, domain=(), groupby=EVERY_GROUP, users=None):
        for user in users or [self.manager]:
            fast, rows = self._answers(
                self.env["crm.funnel.source.report"].with_user(user),
                list(domain),
                list(groupby),
            )
            self.assertTrue(rows)
            self.assertEqual(fast, rows, f"{user.name}: {domain} by {groupby}")

    def test_fast_equals_per_row(self):
        self._story()
        users = [self.manager, self.salesman, self.salesman2]
        groupings = [
            [],
            ["funnel_source"],
            ["funnel_source", "campaign_id"],
            ["funnel_source", "step"],
            ["funnel_source", "step", "stage_id"],
            ["step", "stage_id"],
            ["campaign_id", "user_id"],
            ["team_id", "company_id"],
            ["date:month", "funnel_source"],
            ["date:year"],
            list(EVERY_GROUP),
        ]
        domains = [
            [],
            [("funnel_source", "=", "campaign")],
            [("campaign_id", "in", [self.expo.id, self.mailing.id])],
            [("campaign_id", "=", False)],
            ["|", ("user_id", "=", self.salesman.id), ("step", "!=", "lead")],
            [("stage_id", "=", self.development.id)],
            [("step", "not in", ["won", "lead"])],
            [("date", ">=", "2026-02-01 00:00:00"), ("date", "<", "2026-03-01")],
        ]
        for groupby in groupings:
            for domain in domains:
                self.assertAgrees(domain, groupby, users)
        # The pivot as it opens (read_group of the web client, every measure).
        Report = self.env["crm.funnel.source.report"].with_user(self.salesman)
        for groupby in (["funnel_source", "campaign_id"], ["funnel_source", "step"]):
            self.assertEqual(
                Report.read_group([], MEASURES, groupby, lazy=False),
                Report.with_context(**{PER_ROW: True}).read_group(
                    [], MEASURES, groupby, lazy=False
                ),
            )

    def test_figures(self):
        """The kept sums give the figures a user reads (not only the rows'):
        the expo's leads, deals and rates."""
        self._story()
        Report = self.env["crm.funnel.source.report"].with_user(self.manager)
        [(leads, qualification, deals, won, amount, win_rate, cycle)] = (
            Report._read_group(
                [("campaign_id", "=", self.expo.id)],
                [],
                [
                    "lead_count:sum",
                    "qualification_rate:avg",
                    "opportunity_count:sum",
                    "won_count:sum",
                    "won_amount:sum",
                    "win_rate:avg",
                    "cycle_days:avg",
                ],
            )
        )
        self.assertEqual((leads, qualification, deals, won), (2, 0.0, 1, 1))
        self.assertEqual((amount, win_rate), (300000.25, 100.0))
        # 46 days 4:13:13 from arrival to the win.
        self.assertAlmostEqual(cycle, 46 + 15193 / 86400, places=6)

    def test_a_request_cannot_name_the_table(self):
        # The key that points the report at a kept table, sent by a client
        # with a table name: ignored, the rows read are the report's own.
        self._story()
        Report = self.env["crm.funnel.source.report"].with_user(self.salesman)
        expected = Report.search_read([], ["lead_id", "step"], order="id")
        self.assertTrue(expected)
        for table in ("crm_lead", "crm_funnel_source_monthly", "res_users"):
            sent = Report.with_context(_source_report_kept=table)
            self.assertEqual(
                sent.search_read([], ["lead_id", "step"], order="id"), expected
            )
            self.assertEqual(
                sent.read_group([], MEASURES, ["funnel_source"], lazy=False),
                Report.read_group([], MEASURES, ["funnel_source"], lazy=False),
            )

    def test_fast_path_taken(self):
        self._story()
        self.env.flush_all()
        Report = self.env["crm.funnel.source.report"].with_user(self.manager)
        queries = []
        execute = Cursor.execute

        def spy(cr, query, params=None, log_exceptions=True):
            queries.append(str(getattr(query, "code", query)))
            return execute(cr, query, params, log_exceptions)

        groupby = ["funnel_source", "campaign_id"]
        Report._read_group([], groupby, MEASURES)  # the record rules, cached
        with patch.object(Cursor, "execute", spy), self.assertQueryCount(1):
            Report._read_group([], groupby, MEASURES)
        self.assertIn(TOTALS.table, queries[-1])
        self.assertNotIn("crm_lead_stage_history", queries[-1])
        # A drill-down to the records reads the rows.
        queries.clear()
        with patch.object(Cursor, "execute", spy):
            Report._read_group([], ["lead_id"], ["__count"])
        self.assertNotIn("_delta", " ".join(queries))
        self.assertIn("crm_lead_stage_history", " ".join(queries))
        # By month of arrival: the monthly sums, in UTC and in a user's time
        # zone of whole hours; in one of half hours (India): the rows.
        for tz in ("UTC", "Asia/Shanghai", "America/New_York"):
            queries.clear()
            with patch.object(Cursor, "execute", spy):
                Report.with_context(tz=tz)._read_group([], ["date:month"], ["__count"])
            self.assertIn(MONTHLY.table, queries[-1], tz)
        queries.clear()
        with patch.object(Cursor, "execute", spy):
            Report.with_context(tz="Asia/Kolkata")._read_group(
                [], ["date:month"], ["__count"]
            )
        self.assertNotIn("_delta", " ".join(queries))

    def test_months_of_the_users_time_zone(self):
        # "Dropped" arrived on 31 January 23:30 UTC: 1 February in Shanghai,
        # still January in New York. Each user's months, and a filter on
        # each one's February, from the sums equal the rows'.
        self._story()
        Report = self.env["crm.funnel.source.report"].with_user(self.manager)
        februaries = {
            "UTC": "2026-02-01 00:00:00",
            "Asia/Shanghai": "2026-01-31 16:00:00",
            "America/New_York": "2026-02-01 05:00:00",
        }
        for tz, start in februaries.items():
            local = Report.with_context(tz=tz)
            for groupby in (["date:month"], ["date:month", "funnel_source", "step"]):
                fast, rows = self._answers(local, [], groupby)
                self.assertEqual(fast, rows, f"{tz} by {groupby}")
            fast, rows = self._answers(local, [("date", ">=", start)], ["step"])
            self.assertEqual(fast, rows, tz)
        # The pool's three leads by month, from the sums: January holds all
        # three in New York, two in Shanghai (Dropped is in February there).
        for tz, counts in (("America/New_York", [3]), ("Asia/Shanghai", [2, 1])):
            groups = Report.with_context(tz=tz)._read_group(
                [("step", "=", "lead")], ["date:month"], ["__count"]
            )
            self.assertEqual([count for _month, count in groups], counts, tz)

    def test_every_write_path(self):
        """A change shows at once, in the same transaction."""
        waiting, qualified, won, back, lost = self._story()
        self.assertAgrees()
        # The lead pool: claimed, qualified.
        waiting.with_user(self.salesman).action_claim()
        self.assertAgrees()
        with self._at("2026-02-25 09:00:00"):
            waiting.with_user(self.salesman).convert_opportunity(self.partner)
        self.assertAgrees()
        # Another campaign, salesperson, amount.
        self._write(
            qualified,
            {"campaign_id": self.expo.id, "user_id": self.salesman2.id},
            "2026-02-26 09:00:00",
        )
        self._write(back, {"expected_revenue": 12345.678}, "2026-02-26 10:00:00")
        self.assertAgrees()
        self._restore(lost, "2026-02-27 09:00:00")
        self._move(lost, self.development, "2026-02-28 09:00:00")
        self.assertAgrees()
        # An import.
        with self._at("2026-03-01 08:00:00"):
            result = (
                self.env["crm.lead"]
                .with_user(self.manager)
                .load(
                    ["name", "type", "stage_id/id", "funnel_source"],
                    [
                        [
                            "Imported",
                            "opportunity",
                            "sales_funnel.crm_stage_verification",
                            "referral",
                        ]
                    ],
                )
            )
        self.assertFalse(result["messages"], result["messages"])
        self.assertAgrees()
        # SQL of the addon's own code (sources filled in one UPDATE).
        self.env.cr.execute(
            "UPDATE crm_lead SET funnel_source = NULL WHERE type = 'lead'"
        )
        self.env["crm.lead"].invalidate_model(["funnel_source"])
        self.env["crm.lead"]._fill_missing_funnel_sources()
        self.assertAgrees()
        # A stage that becomes a won stage, and the funnel order changed
        # (Stage Analysis' rows rebuilt).
        self.proposal.write({"is_won": True, "win_rate": 100})
        self.assertAgrees()
        self.proposal.write({"is_won": False, "win_rate": 60})
        self.development.sequence = self.verification.sequence - 1
        self.assertAgrees()
        # Deleted: its steps go, the funnel stages it reached with them.
        won.unlink()
        self.assertAgrees()
        # Compaction keeps the sums.
        self.env["crm.funnel.source.report"]._cron_compact()
        self.assertAgrees(users=[self.manager, self.salesman])
