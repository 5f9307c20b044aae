from unittest.mock import patch

from odoo.sql_db import Cursor
from odoo.tests import tagged

from ..report import crm_funnel_stage_median as median
from ..report import crm_funnel_stage_median_period as period_median
from ..report import crm_funnel_stage_stay as stay
from ..report import crm_funnel_stage_sums as sums
from ..report.crm_funnel_stage_report import PER_ROW
from .common import AnalyticsCase

MEASURES = [
    "__count",
    "entered_count:sum",
    "passed_count:sum",
    "won_count:sum",
    "pass_rate:avg",
    "historical_win_rate:avg",
    "win_rate:avg",
    "days_in_stage:avg",
    "median_days_in_stage:avg",
    "days_to_won:avg",
    "cycle_days:avg",
]
GROUPBYS = [
    [],
    ["stage_id"],
    ["stage_id", "user_id"],
    ["user_id"],
    ["team_id", "stage_id"],
    ["company_id"],
    ["state"],
    ["is_funnel_entry", "stage_id"],
    ["date:month"],
    ["stage_id", "date:quarter"],
]
# The pivot by month entered (rows by stage, columns by month, their totals).
MONTH_GROUPBYS = [
    ["stage_id", "date:month"],
    ["date:month"],
    ["date:quarter"],
    ["stage_id", "date:year"],
]
# Zones of whole hours (one with summer time); Kolkata is UTC+5:30.
WHOLE_HOUR_ZONES = ("UTC", "Asia/Shanghai", "America/New_York")


@tagged("post_install", "-at_install")
class TestStageSums(AnalyticsCase):
    """Stage Analysis answers its pivot from sums kept by triggers: the same
    figures, to the last digit, as reading its rows, medians included."""

    def setUp(self):
        super().setUp()
        V, D, P, C = self.verification, self.development, self.proposal, self.closing
        self.unassigned = self.env["res.users"]
        deals = []
        # Entries near a month's end (kept by hour) and in mid-month.
        starts = [
            "2026-01-31 20:00:00",
            "2026-02-01 03:00:00",
            "2026-02-14 10:30:00",
            "2026-02-28 23:59:59",
            "2026-03-10 08:00:00",
            "2026-03-31 16:00:00",
            "2026-04-01 00:00:00",
        ]
        owners = [self.salesman, self.salesman2, self.salesman]
        for index, start in enumerate(starts):
            deal = self._create(f"Deal {index}", start, user=owners[index % 3])
            deals.append(deal)
        # Days in stage all different, so the medians of odd and even counts
        # (the middle one, the two middle ones averaged) differ.
        self._walk(deals[0], [(D, "2026-02-03 09:00:00"), (P, "2026-02-20 10:00:00")])
        self._walk(deals[1], [(D, "2026-02-02 05:00:00"), (P, "2026-02-09 17:00:00")])
        self._move(deals[1], C, "2026-03-02 12:00:00")
        self._win(deals[1], "2026-03-20 12:00:00")
        self._move(deals[2], D, "2026-02-25 10:30:00")
        self._lose(deals[2], "2026-03-05 10:30:00")
        self._walk(deals[3], [(D, "2026-03-07 01:00:00"), (V, "2026-03-09 01:00:00")])
        self._move(deals[3], D, "2026-03-12 07:00:00")
        self._lose(deals[4], "2026-03-13 08:00:00")
        self._walk(
            deals[5],
            [
                (D, "2026-04-02 16:00:00"),
                (P, "2026-04-05 16:00:00"),
                (C, "2026-04-15 16:00:00"),
            ],
        )
        self._win(deals[5], "2026-04-30 22:00:00")
        # Unassigned: the salespeople's record rule shows it to everyone.
        self._write(deals[6], {"user_id": False}, "2026-04-01 01:00:00")
        self._move(deals[6], D, "2026-04-08 00:00:00")
        self.deals = deals
        self.Report = self.env["crm.funnel.stage.report"]

    def _both(self, report, domain, groupby):
        fast = report._read_group(domain, groupby, MEASURES)
        rows = report.with_context(**{PER_ROW: True})._read_group(
            domain, groupby, MEASURES
        )
        return fast, rows

    def assertSameAsRows(self, report, domain, groupby):
        fast, rows = self._both(report, domain, groupby)
        self.assertEqual(fast, rows, f"{report.env.user.login} {domain} {groupby}")
        return fast

    def assertKeptEqualRecount(self):
        """Every kept table holds the sums a recount from the rows gives."""
        self.env.flush_all()
        kept_tables = (
            (sums.DELTAS, sums._delta_rows(1, stay.TABLE)),
            (sums.PERIOD_DELTAS, sums._delta_rows(1, stay.TABLE)),
            (median.HISTOGRAM, median._histogram_rows(1, stay.TABLE)),
            (period_median.HISTOGRAM, period_median.histogram_rows(1, stay.TABLE)),
        )
        for deltas, rows in kept_tables:
            totals = ", ".join(f"sum({name})" for name in deltas.sums)
            nonzero = " OR ".join(f"sum({name}) <> 0" for name in deltas.sums)
            grouped = (
                f"SELECT {deltas.group}, {totals} FROM %s GROUP BY {deltas.group}"
                f" HAVING {nonzero} ORDER BY {deltas.group}"
            )
            self.env.cr.execute(grouped % deltas.table)
            kept = self.env.cr.fetchall()
            self.env.cr.execute(grouped % f"({rows}) AS recount")
            self.assertEqual(kept, self.env.cr.fetchall(), deltas.table)
            self.assertTrue(kept)

    def _queries(self, report, groupby):
        """The SQL queries of the pivot's read of ``groupby``."""
        seen = []
        execute = Cursor.execute

        def spy(cr, query, params=None, log_exceptions=True):
            seen.append(str(query))
            return execute(cr, query, params, log_exceptions)

        with patch.object(Cursor, "execute", spy):
            report._read_group([], groupby, MEASURES)
        return seen

    def assertMonthMediansKept(self, report):
        """By month entered in a zone of whole hours, the rows' figures,
        medians included, without reading the rows (the report's query is the
        only one on ``outcome``); in Kolkata the rows are read, same figures."""
        medians = set()
        for tz in WHOLE_HOUR_ZONES:
            zoned = report.with_context(tz=tz)
            for groupby in MONTH_GROUPBYS:
                seen = self._queries(zoned, groupby)
                self.assertFalse(
                    [query for query in seen if "outcome" in query], (tz, groupby)
                )
                for row in self.assertSameAsRows(zoned, [], groupby):
                    medians.add(
                        row[len(groupby) + MEASURES.index("median_days_in_stage:avg")]
                    )
        kolkata = report.with_context(tz="Asia/Kolkata")
        for groupby in MONTH_GROUPBYS:
            seen = self._queries(kolkata, groupby)
            self.assertTrue([query for query in seen if "outcome" in query])
            self.assertSameAsRows(kolkata, [], groupby)
        return medians

    def test_medians_by_month_from_kept_counts(self):
        medians = self.assertMonthMediansKept(self.Report.with_user(self.manager))
        # Medians of one middle row and of two were compared.
        self.assertGreater(len(medians - {None, False}), 10)
        # As the web client asks (read_group, the pivot's measures).
        zoned = self.Report.with_user(self.manager).with_context(tz="Asia/Shanghai")
        fields = [spec for spec in MEASURES if spec != "__count"]
        groupby = ["stage_id", "date:month"]
        self.assertEqual(
            zoned.read_group([], fields, groupby, lazy=False),
            zoned.with_context(**{PER_ROW: True}).read_group(
                [], fields, groupby, lazy=False
            ),
        )
        # A salesperson's record rule leaves rows out: the rows, same figures.
        mine = self.Report.with_user(self.salesman).with_context(tz="Asia/Shanghai")
        self.assertSameAsRows(mine, [], ["stage_id", "date:month"])

    def test_medians_by_month_follow_every_change(self):
        report = self.Report.with_user(self.manager)
        V, D, P = self.verification, self.development, self.proposal
        # Created at 01:00 on 1 May in Shanghai (30 April in UTC, New York).
        deal = self._create("Late April", "2026-04-30 17:00:00")
        self.assertMonthMediansKept(report)
        self.assertKeptEqualRecount()
        self._walk(deal, [(D, "2026-05-31 20:00:00"), (P, "2026-06-02 03:00:00")])
        self.assertMonthMediansKept(report)
        self._move(deal, D, "2026-06-10 09:00:00")  # back
        self._move(self.deals[6], V, "2026-04-30 23:00:00")  # back
        self.assertMonthMediansKept(report)
        self.assertKeptEqualRecount()
        self._lose(self.deals[0], "2026-05-05 08:00:00")
        self.assertMonthMediansKept(report)
        self._restore(self.deals[0], "2026-05-09 08:00:00")
        self.assertMonthMediansKept(report)
        self.assertKeptEqualRecount()
        self.env["crm.funnel.stage.sums"]._cron_compact()
        self.assertMonthMediansKept(report)
        self.assertKeptEqualRecount()
        deal.unlink()
        self.assertMonthMediansKept(report)
        self.assertKeptEqualRecount()

    def test_kept_sums_equal_the_rows(self):
        self.assertKeptEqualRecount()
        domains = [
            [],
            [("stage_id", "=", self.development.id)],
            [("state", "=", "passed")],
            [("state", "in", ("stopped", "in_stage"))],
            [("user_id", "=", self.salesman.id)],
            [("is_funnel_entry", "=", True)],
            [("team_id", "!=", False)],
            # The Entered On filter of March in Shanghai (UTC+8), as sent.
            [
                ("date", ">=", "2026-02-28 16:00:00"),
                ("date", "<=", "2026-03-31 15:59:59"),
            ],
        ]
        medians = set()
        for user in (self.manager, self.salesman, self.salesman2):
            for tz in ("Asia/Shanghai", "America/New_York", "UTC"):
                report = self.Report.with_user(user).with_context(tz=tz)
                for domain in domains:
                    for groupby in GROUPBYS:
                        for row in self.assertSameAsRows(report, domain, groupby):
                            medians.add(
                                row[
                                    len(groupby)
                                    + MEASURES.index("median_days_in_stage:avg")
                                ]
                            )
        # Medians of the middle row and of two middle rows were compared.
        self.assertGreater(len(medians - {None, False}), 10)

    def test_summary_of_the_stages_and_the_fast_path(self):
        report = self.Report.with_user(self.manager)
        summary = report._stage_summary()
        self.assertEqual(summary[self.verification.id]["entered"], 7)
        self.env.invalidate_all()
        # The pivot as it opens: the kept sums, the medians' counts and ranges,
        # one read of the rows' index; never the rows themselves.
        seen = []
        execute = Cursor.execute

        def spy(cr, query, params=None, log_exceptions=True):
            seen.append(str(query))
            return execute(cr, query, params, log_exceptions)

        with patch.object(Cursor, "execute", spy), self.assertQueryCount(5):
            report._read_group([], ["stage_id"], MEASURES)
        self.assertFalse([query for query in seen if "outcome" in query])
        with self.assertQueryCount(2):  # the rows: measures, then medians
            report.with_context(**{PER_ROW: True})._read_group(
                [], ["stage_id"], MEASURES
            )

    def test_changes_show_at_once(self):
        report = self.Report.with_user(self.manager)

        def development():
            entered = {
                stage: count
                for stage, count in report._read_group(
                    [], ["stage_id"], ["entered_count:sum"]
                )
            }
            return entered[self.development]

        before = development()
        deal = self._create("New", "2026-05-01 08:00:00")
        self._move(deal, self.development, "2026-05-04 08:00:00")
        self.assertEqual(development(), before + 1)
        self.assertSameAsRows(report, [], ["stage_id", "user_id"])
        self.assertKeptEqualRecount()
        # Lost, reassigned, and a stage change back: still the rows' figures.
        self._lose(self.deals[0], "2026-05-05 08:00:00")
        self._write(
            self.deals[3], {"user_id": self.salesman2.id}, "2026-05-06 08:00:00"
        )
        self._write(
            self.deals[6], {"stage_id": self.verification.id}, "2026-05-07 08:00:00"
        )
        for groupby in GROUPBYS:
            self.assertSameAsRows(report, [], groupby)
        self.assertKeptEqualRecount()
        mine = self.Report.with_user(self.salesman2)
        self.assertIn(
            self.deals[3],
            mine.search([]).lead_id,
        )
        self.assertSameAsRows(mine, [], ["stage_id"])
        # Folding the deltas changes nothing; nor does a new funnel order.
        self.env["crm.funnel.stage.sums"]._cron_compact()
        self.assertSameAsRows(report, [], ["stage_id", "state"])
        self.assertKeptEqualRecount()
        self.development.sequence = self.verification.sequence - 1
        for groupby in GROUPBYS:
            self.assertSameAsRows(report, [], groupby)
        self.assertKeptEqualRecount()
        deal.unlink()
        self.assertEqual(development(), before)
        self.assertSameAsRows(report, [], ["stage_id"])
        self.assertKeptEqualRecount()
