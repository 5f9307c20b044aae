import random
from calendar import monthrange
from datetime import date, datetime
from unittest.mock import patch

from odoo import Command
from odoo.tests import new_test_user, tagged

from odoo.addons.sales_funnel.report.crm_funnel_forecast_kept import (
    PER_ROW_KEY,
    CrmFunnelForecastReport,
)

from .common import AnalyticsCase

MEASURES = (
    "amount:sum",
    "weighted_amount:sum",
    "committed_amount:sum",
    "won_amount:sum",
    "forecast_amount:sum",
    "opportunity_count:sum",
)
GROUPBYS = [
    [],
    ["stage_id", "date:month"],
    ["date:month", "stage_id"],
    ["user_id"],
    ["team_id", "date:quarter"],
    ["company_id", "date:year"],
    ["state", "user_id"],
    ["is_closing", "team_id"],
]
DOMAINS = [
    [],
    # The search view's quarter filter and the Period filter of a quarter.
    [("date", ">=", "2026-04-01"), ("date", "<", "2026-07-01")],
    [("date", ">=", "2026-04-01"), ("date", "<=", "2026-06-30")],
    [("state", "=", "open")],
    [("state", "=", "won"), ("date", ">", "2026-02-28")],
    [("is_closing", "=", True)],
    ["|", ("team_id", "=", False), ("stage_id.is_won", "=", True)],
]


@tagged("post_install", "-at_install")
class TestForecastKeptSums(AnalyticsCase):
    """Forecast Details answers its pivot from the kept sums: the same groups,
    counts and amounts as per opportunity, at once after any change."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        currency = env.ref("base.EUR")
        currency.active = True
        # 1 unit of the main currency = 0.5 EUR: 1 EUR counts as 2.
        env["res.currency.rate"].create(
            {
                "currency_id": currency.id,
                "rate": 0.5,
                "name": "2026-01-01",
                "company_id": cls.company.id,
            }
        )
        cls.branch = env["res.company"].create(
            {"name": "Frankfurt GmbH", "currency_id": currency.id}
        )
        cls.team_a = env["crm.team"].create({"name": "East China"})
        cls.team_b = env["crm.team"].create({"name": "Frankfurt"})
        # Team B's pipeline closes in its own stage.
        cls.review = env["crm.stage"].create(
            {
                "name": "Contract Review",
                "sequence": 50,
                "win_rate": 90,
                "team_id": cls.team_b.id,
            }
        )
        cls.manager.write(
            {"tz": "Asia/Shanghai", "company_ids": [Command.link(cls.branch.id)]}
        )
        cls.salesman.tz = "America/New_York"
        cls.seller = new_test_user(
            env,
            "sf_sales_branch",
            groups="sales_team.group_sale_salesman",
            company_id=cls.branch.id,
            company_ids=[Command.set(cls.branch.ids)],
        )
        cls.leads = cls._varied_leads()
        # Closed on 31 March at 20:00 UTC: 1 April in Shanghai.
        cls.april_deal = cls._new_won(
            "April in Shanghai", 5000.0, closed="2026-03-31 20:00:00"
        )
        # Created won (no closing date): dated by its entry into the stage.
        cls.created_won = cls._new_won(
            "Created won", 7000.0, entered="2026-06-30 22:00:00"
        )

    @classmethod
    def _varied_leads(cls):
        rng = random.Random(13)
        stages = [
            cls.verification,
            cls.development,
            cls.proposal,
            cls.closing,
            cls.review,
            cls.won,
        ]
        users = [cls.salesman, cls.salesman2, cls.seller, cls.env["res.users"]]
        teams = [cls.team_a, cls.team_b, cls.env["crm.team"]]
        vals_list = []
        for index in range(60):
            user = rng.choice(users)
            company = cls.branch if user == cls.seller else cls.company
            month = rng.randint(1, 12)
            vals_list.append(
                {
                    "name": f"Deal {index}",
                    "type": "opportunity",
                    "partner_id": cls.partner.id,
                    "user_id": user.id,
                    "team_id": rng.choice(teams).id,
                    "company_id": company.id,
                    "stage_id": rng.choice(stages).id,
                    "expected_revenue": rng.choice([0.0, 1234.56, 50000.0, 99999.99]),
                    "date_deadline": rng.choice(
                        [False, date(2026, month, rng.choice([1, 15, 28]))]
                    ),
                }
            )
        leads = cls.env["crm.lead"].create(vals_list)
        for lead in leads.filtered("stage_id.is_won"):
            # Around month starts, at UTC hours of another month elsewhere.
            month = rng.randint(2, 11)
            last_day = monthrange(2026, month - 1)[1]
            lead.date_closed = rng.choice(
                [
                    datetime(2026, month, 1, rng.choice([1, 4, 13])),
                    datetime(2026, month - 1, last_day, rng.choice([10, 17, 23])),
                    datetime(2026, month, 15, 12),
                ]
            )
        for lead in leads[:3]:
            cls.env["crm.lead.loss.report"].create(
                {"lead_id": lead.id, **cls._loss_report_vals()}
            )
        leads[:3].action_set_lost()
        leads[3].type = "lead"
        return leads

    @classmethod
    def _new_won(cls, name, revenue, closed=False, entered=False):
        lead = cls.env["crm.lead"].create(
            {
                "name": name,
                "type": "opportunity",
                "partner_id": cls.partner.id,
                "user_id": cls.salesman.id,
                "team_id": cls.team_a.id,
                "stage_id": cls.won.id,
                "expected_revenue": revenue,
            }
        )
        lead.write({"date_closed": closed, "date_last_stage_update": entered})
        return lead

    def _reports(self):
        """The report as the administrator (UTC), a manager in Shanghai with
        both companies, a salesperson in New York (own and unassigned deals)
        and the branch's salesperson (its currency)."""
        report = self.env["crm.funnel.forecast.report"]
        return [
            report.with_context(tz="UTC"),
            report.with_user(self.manager).with_context(
                tz="Asia/Shanghai",
                allowed_company_ids=[self.company.id, self.branch.id],
            ),
            report.with_user(self.salesman).with_context(tz="America/New_York"),
            report.with_user(self.seller).with_context(
                tz="Asia/Kolkata", allowed_company_ids=self.branch.ids
            ),
        ]

    def _pivot(self, report, domain, groupby, measures=MEASURES):
        """What the pivot shows: the groups, their labels, counts and amounts
        (weighted amounts are floating point: summed in another order, they
        differ in the last bits, 1e-6 here is a millionth of a cent)."""
        groups = report.read_group(domain, list(measures), groupby, lazy=False)
        return [
            {
                key: round(value, 6) if isinstance(value, float) else value
                for key, value in group.items()
            }
            for group in groups
        ]

    def _assert_same_as_per_row(self, report, domain, groupby, measures=MEASURES):
        with patch.object(
            CrmFunnelForecastReport,
            "_kept_query",
            autospec=True,
            side_effect=CrmFunnelForecastReport._kept_query,
        ) as kept:
            fast = self._pivot(report, domain, groupby, measures)
        self.assertTrue(kept.called, "answered from the kept sums")
        per_row = self._pivot(
            report.with_context(**{PER_ROW_KEY: True}), domain, groupby, measures
        )
        if fast != per_row:
            self.fail(
                f"{report.env.user.name} {domain} {groupby}: kept sums only "
                f"{[group for group in fast if group not in per_row]}, per row only "
                f"{[group for group in per_row if group not in fast]}"
            )
        return fast

    def test_pivot_equals_per_row_answer(self):
        for report in self._reports():
            for domain in DOMAINS:
                for groupby in GROUPBYS:
                    self._assert_same_as_per_row(report, domain, groupby)
        # What the web client sends when it opens the pivot: the arch's
        # measures (and the row count) by stage and month.
        self._assert_same_as_per_row(
            self._reports()[1],
            DOMAINS[1],
            ["stage_id", "date:month"],
            ["weighted_amount:sum", "won_amount:sum", "forecast_amount:sum"],
        )

    def test_won_deal_in_the_month_of_the_users_time_zone(self):
        report = self.env["crm.funnel.forecast.report"]
        won = [("state", "=", "won"), ("user_id", "=", self.salesman.id)]
        for tz, month in [
            ("Asia/Shanghai", date(2026, 4, 1)),
            ("UTC", date(2026, 3, 1)),
            ("America/New_York", date(2026, 3, 1)),
        ]:
            dated = report.with_context(tz=tz)
            self.env.invalidate_all()  # the dates of another time zone
            [row] = dated.search([("lead_id", "=", self.april_deal.id)])
            self.assertEqual(row.date.replace(day=1), month, tz)
            months = self._assert_same_as_per_row(dated, won, ["date:month"])
            self.assertIn(
                month.strftime("%B %Y"), [group["date:month"] for group in months]
            )
        # Entered the won stage on 30 June 22:00 UTC: 1 July in Shanghai.
        july = [("date", ">=", "2026-07-01"), ("date", "<", "2026-08-01")] + won
        june = [("date", ">=", "2026-06-01"), ("date", "<=", "2026-06-30")] + won
        for tz, domain in [("Asia/Shanghai", july), ("UTC", june)]:
            dated = report.with_context(tz=tz)
            [total] = self._assert_same_as_per_row(dated, domain, [])
            self.assertGreaterEqual(total["won_amount"], 7000.0, tz)

    def test_every_change_shows_at_once(self):
        manager = self._reports()[1]
        open_deal = self.leads.filtered(
            lambda lead: (
                lead.active
                and lead.type == "opportunity"
                and lead.stage_id in (self.proposal | self.closing)
                and lead.date_deadline
                and lead.user_id == self.salesman
            )
        )[0]
        won_deal = self.leads.filtered(
            lambda lead: (
                lead.active
                and lead.type == "opportunity"
                and lead.stage_id.is_won
                and lead.company_id == self.company
            )
        )[0]
        changes = [
            lambda: open_deal.write({"expected_revenue": 31415.92}),
            lambda: open_deal.write({"stage_id": self.verification.id}),
            lambda: open_deal.write({"date_deadline": "2027-05-31"}),
            lambda: open_deal.write({"user_id": self.salesman2.id}),
            lambda: won_deal.write({"date_closed": "2027-03-31 20:00:00"}),
            lambda: won_deal.write({"stage_id": self.proposal.id}),
            lambda: self._lose(open_deal),
            lambda: self.leads[10].unlink(),
            lambda: self.review.write({"win_rate": 60.0}),
            lambda: self.closing.write({"sequence": 60}),
        ]
        before = self._assert_same_as_per_row(
            manager, [], ["stage_id", "date:month", "user_id"]
        )
        for index, change in enumerate(changes):
            change()
            after = self._assert_same_as_per_row(
                manager, [], ["stage_id", "date:month", "user_id"]
            )
            self.assertTrue(after != before, f"change {index} shows")
            before = after

    def test_other_slices_run_per_row(self):
        report = self._reports()[1]
        with patch.object(
            CrmFunnelForecastReport, "_kept_query", autospec=True
        ) as kept:
            for domain, groupby, measures in [
                ([], ["partner_id"], list(MEASURES)),
                ([], ["date:week"], MEASURES),
                ([], ["stage_id"], ["win_rate:avg"]),
                ([("date", ">=", "2026-04-15")], ["stage_id"], MEASURES),
                ([("lead_id.name", "ilike", "Deal")], ["stage_id"], MEASURES),
                ([("grade", "=", "a")], [], MEASURES),
            ]:
                report.read_group(domain, measures, groupby, lazy=False)
            self.assertTrue(report.search([]))
        kept.assert_not_called()
