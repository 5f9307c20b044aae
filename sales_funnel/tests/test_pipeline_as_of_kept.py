from odoo.tests import tagged

from ..report.crm_funnel_pipeline_report import PER_ROW
from ..report.crm_funnel_pipeline_sums import (
    DEADLINE_DELTAS,
    DELTAS,
    SPAN,
    add_deadline_sums,
)
from .common import AnalyticsCase

AGGREGATES = [
    "__count",
    "opportunity_count:sum",
    "amount:sum",
    "weighted_amount:sum",
    "win_rate:avg",
    "days_in_stage:avg",
]
GROUPINGS = [
    [],
    ["stage_id"],
    ["state"],
    ["user_id"],
    ["team_id"],
    ["company_id", "state"],
    ["stage_id", "user_id"],
    ["owner_id", "stage_id", "state"],
    # By expected closing (today's date_deadline): the sums per deadline month.
    ["stage_id", "date_deadline:month"],
    ["date_deadline:quarter", "state"],
    ["date_deadline:year", "user_id"],
]
DAYS = (
    "2026-02-28",
    "2026-03-01",
    "2026-03-05",
    "2026-03-10",
    "2026-03-16",
    "2026-03-31",
    "2026-04-01",
    "2026-04-30",
    "2026-05-02",
    "2027-01-01",
    False,  # today
)


@tagged("post_install", "-at_install")
class TestPipelineAsOfKeptSums(AnalyticsCase):
    """The pivot of the pipeline as of a date, summed from the figures kept by
    PostgreSQL, equals the per-row answer for any day, filter and grouping."""

    def setUp(self):
        super().setUp()
        D, P, C = self.development, self.proposal, self.closing
        self.team = self.env["crm.team"].create({"name": "East"})
        self.team2 = self.env["crm.team"].create({"name": "West"})
        # Forward, back and forward again; the amount raised after some days.
        # Expected closings in several months, quarters and years; one none.
        one = self._create(
            "One", "2026-03-01 08:00:00", revenue=100000, date_deadline="2026-05-31"
        )
        self._move(one, D, "2026-03-10 08:00:00")
        self._write(one, {"expected_revenue": 150000}, "2026-03-20 08:00:00")
        self._move(one, P, "2026-04-01 08:00:00")
        self._move(one, D, "2026-04-03 23:30:00")
        self._move(one, C, "2026-04-30 17:00:00")
        # Lost, then restored and moved on; lost again in another month.
        two = self._create(
            "Two", "2026-03-05 08:00:00", revenue=50000, date_deadline="2026-05-01"
        )
        self._lose(two, "2026-03-15 08:00:00")
        self._restore(two, "2026-04-02 01:00:00")
        self._move(two, D, "2026-04-10 08:00:00")
        self._lose(two, "2026-05-01 20:00:00")
        # Handed over twice, to another team, its amount cut in between.
        three = self._create(
            "Three", "2026-03-12 08:00:00", revenue=80000, date_deadline="2026-07-15"
        )
        self._write(three, {"user_id": self.salesman2.id}, "2026-03-18 08:00:00")
        self._write(three, {"expected_revenue": 60000}, "2026-03-31 16:30:00")
        self._write(
            three,
            {"user_id": self.salesman.id, "team_id": self.team2.id},
            "2026-04-20 08:00:00",
        )
        # Created after most of the days looked at, in the first team.
        self._create(
            "Four",
            "2026-04-05 08:00:00",
            revenue=70000,
            team_id=self.team.id,
            date_deadline="2027-01-10",
        )
        # Through the funnel and won; then its amount corrected.
        five = self._create(
            "Five", "2026-03-02 08:00:00", revenue=20000, date_deadline="2026-04-30"
        )
        self._walk(
            five,
            [(D, "2026-03-06 08:00:00"), (P, "2026-03-09 08:00:00")],
        )
        self._move(five, C, "2026-03-20 08:00:00")
        self._win(five, "2026-03-25 08:00:00")
        self._write(five, {"expected_revenue": 25000}, "2026-04-15 08:00:00")
        # Without salesperson, moved at the turn of a day in Shanghai.
        six = self._create(
            "Six", "2026-03-01 15:59:00", user=self.salesman2, revenue=30000
        )
        self._write(six, {"user_id": False}, "2026-03-10 16:00:00")
        self._move(six, D, "2026-03-31 16:00:00")
        self.leads = one | two | three | five | six

    def _report(self, day, tz="UTC", user=None, per_row=False):
        return (
            self.env["crm.funnel.pipeline.report"]
            .with_user(user or self.manager)
            .with_context(sales_funnel_as_of=day, tz=tz, **{PER_ROW: per_row})
        )

    def _answer(self, report, domain, groupby):
        rows = report._read_group(domain, groupby, AGGREGATES)
        return sorted(
            (
                tuple(value.id if hasattr(value, "_name") else value for value in row)
                for row in rows
            ),
            key=repr,
        )

    def assertSameAnswer(self, day, domain, groupby, tz="UTC", user=None):
        kept = self._answer(self._report(day, tz, user), domain, groupby)
        per_row = self._answer(self._report(day, tz, user, True), domain, groupby)
        self.assertEqual(len(kept), len(per_row), (day, tz, domain, groupby))
        for kept_row, row in zip(kept, per_row, strict=True):
            for kept_value, value in zip(kept_row, row, strict=True):
                if isinstance(value, float) and kept_value is not None:
                    self.assertAlmostEqual(kept_value, value, places=6)
                else:
                    self.assertEqual(
                        kept_value, value, (day, tz, domain, groupby, kept_row, row)
                    )

    def assertSameEverywhere(self, days=DAYS):
        domains = [
            [],
            [("state", "=", "open")],
            [("user_id", "=", self.salesman2.id)],
            [("stage_id", "in", (self.development | self.proposal).ids)],
            ["|", ("state", "=", "won"), ("team_id", "=", self.team2.id)],
        ]
        for tz in ("UTC", "Asia/Shanghai"):
            for day in days:
                for domain in domains:
                    for groupby in GROUPINGS:
                        self.assertSameAnswer(day, domain, groupby, tz)

    def test_same_answer_as_per_row(self):
        self.assertSameEverywhere()
        # Not a figure of nothing: the days see the opportunities move.
        report = self._report("2026-03-16")
        self.assertEqual(
            report._read_group([("state", "=", "open")], [], ["__count"]), [(4,)]
        )
        # Six entered Development on 31 March 16:00 UTC: 1 April in Shanghai.
        in_development = [("stage_id", "=", self.development.id)]
        for tz, count in (("UTC", 2), ("Asia/Shanghai", 1)):
            report = self._report("2026-03-31", tz)
            self.assertEqual(
                report._read_group(in_development, [], ["__count"]), [(count,)]
            )

    def test_salesperson_rule(self):
        for user in (self.salesman, self.salesman2):
            for day in ("2026-03-16", "2026-04-25", False):
                for groupby in (["stage_id"], ["state", "user_id"]):
                    self.assertSameAnswer(day, [], groupby, user=user)
        # Three is sf_sales's today: theirs on every day, whoever had it then.
        report = self._report("2026-03-25", user=self.salesman)
        users = dict(report._read_group([], ["user_id"], ["__count"]))
        self.assertEqual(users[self.salesman2], 1)

    def test_a_request_cannot_switch_to_the_kept_rows(self):
        # The key of the kept rows sent by a client: ignored, the records
        # listed are the report's rows.
        report = self._report("2026-03-16")
        expected = report.search_read([], ["lead_id", "stage_id"], order="id")
        self.assertTrue(expected)
        sent = report.with_context(sales_funnel_pipeline_kept_sums=True)
        self.assertEqual(
            sent.search_read([], ["lead_id", "stage_id"], order="id"), expected
        )

    def test_fast_path_taken(self):
        report = self._report("2026-03-16", "Asia/Shanghai")
        self._answer(report, [("state", "=", "open")], ["stage_id", "user_id"])
        with self.assertQueriesContain(["FROM crm_funnel_pipeline_delta"]):
            report._read_group(
                [("state", "=", "open")],
                ["stage_id", "user_id"],
                ["__count", "amount:sum", "weighted_amount:sum"],
            )
        # A slice the sums do not keep (the customer) is read per row.
        with self.assertQueriesContain(["DISTINCT ON"]):
            report._read_group([], ["partner_id"], ["__count"])

    def test_other_write_paths_keep_the_sums(self):
        one = self.leads.filtered(lambda lead: lead.name == "One")
        three = self.leads.filtered(lambda lead: lead.name == "Three")
        six = self.leads.filtered(lambda lead: lead.name == "Six")
        # Today's columns: all the spans of the opportunity move.
        one.write({"team_id": self.team.id})
        # A tracked change forgotten (its message deleted).
        three.message_ids.filtered(
            lambda message: message.tracking_value_ids.filtered(
                lambda tracking: tracking.field_id.name == "expected_revenue"
            )
        ).unlink()
        # A message re-dated by SQL, an opportunity deleted, a lead again.
        self.env.cr.execute(
            "UPDATE mail_message SET date = date - interval '20 days'"
            " WHERE id IN (SELECT mail_message_id FROM mail_tracking_value"
            " WHERE field_id = %s) AND model = 'crm.lead' AND res_id = %s",
            [self.env["ir.model.fields"]._get("crm.lead", "user_id").id, six.id],
        )
        self.leads.filtered(lambda lead: lead.name == "Five").unlink()
        self.env["crm.lead"].create(
            {"name": "Seven", "type": "lead", "user_id": self.salesman.id}
        )
        # The won stage is no longer won, then again.
        self.won.is_won = False
        self.assertSameEverywhere(days=["2026-03-25", "2026-04-20", False])
        self.won.is_won = True
        self.assertSameEverywhere(days=["2026-03-16", "2026-04-01", False])

    def test_recount_equals_kept(self):
        self._lead("One").date_deadline = "2026-08-03"
        self._report(False)._cron_compact()
        self.assertSameEverywhere(days=["2026-03-10", "2026-04-02", False])
        self.env.flush_all()
        kept = [self._sums(deltas) for deltas in (DELTAS, DEADLINE_DELTAS)]
        self.assertTrue(all(kept))
        self.env.cr.execute(
            f"DELETE FROM {SPAN}; DELETE FROM {DELTAS.table};"
            f" DELETE FROM {DEADLINE_DELTAS.table};"
        )
        self.env.cr.execute(
            "SELECT sales_funnel_pipeline_refresh("
            "ARRAY(SELECT lead_id FROM crm_lead_stage_history))"
        )
        self.assertEqual([self._sums(d) for d in (DELTAS, DEADLINE_DELTAS)], kept)

    def test_upgrade_fills_by_deadline(self):
        """A database kept before the sums by deadline month (18.0.1.3.0):
        the upgrade adds them from the spans, equal to those kept since."""
        self._lead("Two").date_deadline = "2026-11-11"
        self.env.flush_all()
        kept = self._sums(DEADLINE_DELTAS)
        self.env.cr.execute(
            f"DROP TABLE {DEADLINE_DELTAS.table};"
            f" ALTER TABLE {SPAN} DROP COLUMN deadline_month;"
        )
        add_deadline_sums(self.env.cr)
        self.assertEqual(self._sums(DEADLINE_DELTAS), kept)
        self.assertSameEverywhere(days=["2026-03-16", "2026-05-02", False])

    def _sums(self, deltas):
        self.env.cr.execute(
            f"""
            SELECT {deltas.group}, {", ".join(f"sum({s})" for s in deltas.sums)}
              FROM {deltas.table} GROUP BY {deltas.group}
            HAVING {" OR ".join(f"sum({s}) <> 0" for s in deltas.sums)}
             ORDER BY {deltas.group}
            """
        )
        return self.env.cr.fetchall()

    def _lead(self, name):
        return (
            self.env["crm.lead"]
            .with_context(active_test=False)
            .search([("name", "=", name)])
        )

    def _by_deadline_month(self, day, domain=()):
        """{(stage, month): count} of the kept answer, checked against the
        per-row one."""
        groupby = ["stage_id", "date_deadline:month"]
        self.assertSameAnswer(day, list(domain), groupby)
        rows = self._report(day)._read_group(list(domain), groupby, ["__count"])
        return {(stage.name, month and str(month)): n for stage, month, n in rows}

    def test_expected_closing_moves(self):
        """Every write path moves an opportunity's figures to the month of
        its expected closing today, on every day it was in the pipeline."""
        days = ["2026-03-05", "2026-03-16", "2026-04-02", "2026-05-02", False]
        one, two = self._lead("One"), self._lead("Two")
        V, D = self.verification.name, self.development.name
        self.assertEqual(
            self._by_deadline_month("2026-03-16", [("lead_id", "=", one.id)]),
            {(D, "2026-05-01"): 1},
        )
        # Within its month: nothing moves.
        one.date_deadline = "2026-05-02"
        self.assertSameEverywhere(days=days)
        # Another month (ORM), then none.
        one.date_deadline = "2026-09-30"
        self.assertEqual(
            self._by_deadline_month("2026-03-16", [("lead_id", "=", one.id)]),
            {(D, "2026-09-01"): 1},
        )
        self.assertSameEverywhere(days=days)
        two.date_deadline = False
        self.assertEqual(
            self._by_deadline_month("2026-03-05", [("lead_id", "=", two.id)]),
            {(V, False): 1},
        )
        self.assertSameEverywhere(days=days)
        # By SQL, several opportunities in one statement.
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET date_deadline = date_deadline + 62"
            " WHERE id = ANY(%s) AND date_deadline IS NOT NULL",
            [self.leads.ids],
        )
        self.env.invalidate_all()
        self.assertEqual(
            self._by_deadline_month("2026-03-16", [("lead_id", "=", one.id)]),
            {(D, "2026-12-01"): 1},
        )
        self.assertSameEverywhere(days=days)
        # Then a stage change, a loss, a restore, a deletion and a new one.
        self._move(self._lead("Four"), self.development, "2026-05-05 08:00:00")
        self.assertSameEverywhere(days=["2026-05-04", "2026-05-05", False])
        self._lose(one, "2026-05-06 08:00:00")
        self.assertSameEverywhere(days=["2026-05-06", False])
        self._restore(one, "2026-05-07 08:00:00")
        one.date_deadline = "2026-06-01"
        self.assertSameEverywhere(days=["2026-05-06", "2026-05-07", False])
        self._create(
            "Eight", "2026-05-08 08:00:00", revenue=10000, date_deadline="2026-06-30"
        )
        self._lead("Three").unlink()
        self.assertSameEverywhere(days=["2026-03-16", "2026-05-08", False])

    def test_expected_closing_fast_path(self):
        report = self._report("2026-03-16", "Asia/Shanghai")
        groupby = ["stage_id", "date_deadline:month"]
        self._answer(report, [("state", "=", "open")], groupby)  # caches filled
        with self.assertQueriesContain(["FROM crm_funnel_pipeline_deadline_delta"]):
            report._read_group([("state", "=", "open")], groupby, ["__count"])
        # A filter on the expected closing, or its week: per row.
        for domain, groupby in (
            ([("date_deadline", ">=", "2026-05-15")], ["date_deadline:month"]),
            ([], ["date_deadline:week"]),
        ):
            report._read_group(domain, groupby, ["__count"])  # caches filled
            with self.assertQueriesContain(["DISTINCT ON"]):
                report._read_group(domain, groupby, ["__count"])
            self.assertSameAnswer("2026-03-16", domain, groupby)
