from odoo.tests import tagged

from .common import AnalyticsCase


@tagged("post_install", "-at_install")
class TestSourceReport(AnalyticsCase):
    """Source Effectiveness (市场部各种活动效果的考评): per source and campaign,
    leads → opportunities → stages reached → won, checked against a recount."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Campaign = cls.env["utm.campaign"]
        cls.expo = Campaign.create({"title": "Smart Energy Expo"})
        cls.mailing = Campaign.create({"title": "Spring Mailing"})
        cls.newcomer = cls.env["res.partner"].create(
            {"name": "常州金坛新材料有限公司", "is_company": True}
        )

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

    def _qualify(self, lead, when):
        with self._at(when):
            lead.with_user(lead.user_id).convert_opportunity(lead.partner_id)
            self.env.flush_all()

    def _story(self):
        """Expo: three leads (one qualified, one disqualified) and a deal won;
        a mailing lead qualified and moved on; one deal of each other source."""
        expo = self.expo.id
        self._pool_lead("Expo visitor A", "2026-01-02 09:00:00", campaign_id=expo)
        dropped = self._pool_lead(
            "Expo visitor B", "2026-01-02 09:00:00", campaign_id=expo
        )
        with self._at("2026-01-03 09:00:00"):
            dropped.write(
                {
                    "active": False,
                    "lost_reason_id": self.env.ref(
                        "sales_funnel.crm_lost_reason_pool_no_need"
                    ).id,
                }
            )
        qualified = self._pool_lead(
            "Expo visitor C",
            "2026-01-02 09:00:00",
            campaign_id=expo,
            user_id=self.salesman.id,
            expected_revenue=80000,
        )
        self._qualify(qualified, "2026-01-10 09:00:00")
        won = self._create(
            "Expo deal", "2026-01-05 09:00:00", revenue=300000, campaign_id=expo
        )
        self._walk(
            won,
            [
                (self.development, "2026-01-15 09:00:00"),
                (self.proposal, "2026-01-25 09:00:00"),
                (self.closing, "2026-02-05 09:00:00"),
            ],
        )
        self._win(won, "2026-02-20 09:00:00")
        mailing = self._pool_lead(
            "Mailing reply",
            "2026-01-04 09:00:00",
            campaign_id=self.mailing.id,
            user_id=self.salesman.id,
            expected_revenue=50000,
        )
        self._qualify(mailing, "2026-01-06 09:00:00")
        self._move(mailing, self.development, "2026-01-20 09:00:00")
        found = self._create(
            "Found deal",
            "2026-01-07 09:00:00",
            user=self.salesman2,
            revenue=100000,
            partner_id=self.newcomer.id,
        )
        self._move(found, self.development, "2026-01-21 09:00:00")
        referred = self._create(
            "Referred deal", "2026-01-08 09:00:00", revenue=70000, referred="Mr Wang"
        )
        self._lose(referred, "2026-02-01 09:00:00")
        return won

    def _figures(self, Report, groupby):
        measures = [
            "lead_count:sum",
            "opportunity_count:sum",
            "won_count:sum",
            "opportunity_amount:sum",
            "won_amount:sum",
            "qualification_rate:avg",
            "win_rate:avg",
            "cycle_days:avg",
        ]
        return {
            tuple(
                key.id if hasattr(key, "id") else key for key in row[: len(groupby)]
            ): tuple(
                round(value, 2) if isinstance(value, float) else value
                for value in row[len(groupby) :]
            )
            for row in Report._read_group([], groupby, measures)
        }

    def test_figures_per_source_and_campaign(self):
        self._story()
        Report = self.env["crm.funnel.source.report"].with_user(self.manager)
        figures = self._figures(Report, ["funnel_source", "campaign_id"])
        self.assertEqual(
            figures[("campaign", self.expo.id)],
            (3, 2, 1, 380000, 300000, 33.33, 50.0, 46.0),
        )
        self.assertEqual(
            figures[("campaign", self.mailing.id)],
            (1, 1, 0, 50000, 0, 100.0, 0.0, False),
        )
        self.assertEqual(
            figures[("prospecting", False)], (0, 1, 0, 100000, 0, False, 0.0, False)
        )
        self.assertEqual(
            figures[("referral", False)], (0, 1, 0, 70000, 0, False, 0.0, False)
        )

    def test_counts_match_a_recount(self):
        """Every source's counts and amounts, recounted from the opportunities
        and their stage history."""
        self._story()
        Lead = self.env["crm.lead"].with_context(active_test=False)
        records = Lead.search([])
        Report = self.env["crm.funnel.source.report"].with_user(self.manager)
        figures = self._figures(Report, ["funnel_source"])
        for source, row in figures.items():
            mine = records.filtered(lambda r, s=source[0]: r.funnel_source == s)
            opportunities = mine.filtered(lambda r: r.type == "opportunity")
            won = opportunities.filtered(lambda r: r.active and r.stage_id.is_won)
            pool = mine.filtered(lambda r: r.type == "lead" or r.date_conversion)
            self.assertEqual(row[0], len(pool), source)
            self.assertEqual(row[1], len(opportunities), source)
            self.assertEqual(row[2], len(won), source)
            self.assertEqual(row[3], sum(opportunities.mapped("expected_revenue")))
            self.assertEqual(row[4], sum(won.mapped("expected_revenue")))
        reached = {
            (source, stage.id): count
            for source, stage, count in Report._read_group(
                [("step", "=", "stage")], ["funnel_source", "stage_id"], ["__count"]
            )
        }
        recount = {}
        for history in self.env["crm.lead.stage.history"].search(
            [("event", "in", ("create", "forward", "backward"))]
        ):
            lead = history.lead_id
            if lead.type == "opportunity" and not history.to_stage_id.is_won:
                recount.setdefault((lead.funnel_source, history.to_stage_id.id), set())
                recount[(lead.funnel_source, history.to_stage_id.id)].add(lead.id)
        self.assertEqual(reached, {key: len(ids) for key, ids in recount.items()})
        # Campaigns: the expo's won deal and qualified lead and the mailing's
        # lead entered Verification; only the won deal reached Closing.
        self.assertEqual(reached[("campaign", self.verification.id)], 3)
        self.assertEqual(reached[("campaign", self.closing.id)], 1)

    def test_step_rates(self):
        """Won from each step: the expo's won deal over the records that
        reached the step."""
        self._story()
        Report = self.env["crm.funnel.source.report"].with_user(self.manager)
        rates = {
            (step, stage.id): (count, rate)
            for step, stage, count, rate in Report._read_group(
                [("campaign_id", "=", self.expo.id)],
                ["step", "stage_id"],
                ["reached_count:sum", "step_win_rate:avg"],
            )
        }
        self.assertEqual(rates[("lead", False)], (3, 0.0))
        self.assertEqual(rates[("opportunity", False)], (2, 50.0))
        self.assertEqual(rates[("stage", self.verification.id)], (2, 50.0))
        self.assertEqual(rates[("stage", self.development.id)], (1, 100.0))
        self.assertEqual(rates[("won", False)], (1, False))

    def test_salesperson_sees_their_own(self):
        self._story()
        Report = self.env["crm.funnel.source.report"].with_user(self.salesman2)
        figures = self._figures(Report, ["funnel_source"])
        # Their own deal, and the unassigned leads of the pool.
        self.assertEqual(figures[("prospecting",)][1], 1)
        self.assertEqual(figures[("campaign",)][:3], (2, 0, 0))
