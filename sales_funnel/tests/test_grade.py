"""The opportunity grade (商机等级) on the deals: valid opportunities,
pre-assessment, weighted score and thresholds, recomputed when inputs change,
resources by grade."""

from unittest.mock import patch

from odoo import Command, fields
from odoo.exceptions import AccessError

from ..models import crm_lead_grade
from .common import GradeCase


class TestGrade(GradeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.competitor = cls.env["res.partner"].create(
            {
                "name": "Rival Electric",
                "is_company": True,
                "sales_funnel_is_competitor": True,
            }
        )

    def test_deal_shows_grade_and_why(self):
        # 100,000: revenue band 2, nothing known of the customer; as its
        # salesperson sees it.
        lead = self.lead.with_user(self.salesman)
        self.assertEqual(lead.grade, "c")
        self.assertEqual(lead.grade_reason, "Weighted score")
        self.assertEqual(len(lead.grade_score_ids), 8)
        revenue = self._line(lead, self.revenue)
        self.assertEqual((revenue.value, revenue.score), (100000.0, 2))
        self.assertAlmostEqual(revenue.weight, 4 / 18, places=4)
        # Entered indicators count 3 until scored; no competitor scores 5.
        self.assertEqual(self._line(lead, self.urgency).score, 3)
        self.assertEqual(self._line(lead, self.competition).score, 5)
        self.assertAlmostEqual(
            lead.grade_score, sum(lead.grade_score_ids.mapped("contribution")), 2
        )

    def test_thresholds_give_the_grade(self):
        score = self.lead.grade_score
        self.matrix.with_user(self.manager).write(
            {"threshold_a": score - 0.01, "threshold_b": score - 1, "threshold_c": 1.0}
        )
        self.assertEqual(self.lead.grade, "a")
        self.matrix.with_user(self.manager).write(
            {"threshold_a": 5.0, "threshold_b": 4.9, "threshold_c": score + 0.01}
        )
        self.assertEqual(self.lead.grade, "d")

    def test_the_grade_follows_the_score_shown(self):
        # A threshold equal to the score shown (two decimals) gives that
        # grade, whatever decimals the weights leave behind.
        score = self.lead.grade_score
        self.matrix.with_user(self.manager).write(
            {"threshold_a": score, "threshold_b": score - 1, "threshold_c": 1.0}
        )
        self.assertEqual(self.lead.grade, "a")
        self.assertEqual(self.lead.grade_score, score)
        self.matrix.with_user(self.manager).write({"threshold_a": score + 0.01})
        self.assertEqual(self.lead.grade, "b")

    def test_amount_change_regrades(self):
        lead = self.lead.with_user(self.salesman)
        lead.expected_revenue = 1500000
        self.assertEqual(self._line(lead, self.revenue).score, 5)
        self.assertEqual(lead.grade, "b")

    def test_competitors_lower_the_score(self):
        lead = self.lead.with_user(self.salesman)
        before = lead.grade_score
        lead.competitor_ids = [Command.link(self.competitor.id)]
        self.assertEqual(self._line(lead, self.competition).score, 4)
        self.assertAlmostEqual(lead.grade_score, before - 1 / 9, places=2)

    def test_salesperson_scores_entered_indicators(self):
        lead = self.lead
        before = lead.grade_score
        self._enter(lead, self.urgency, "5")
        self._enter(lead, self.difficulty, "5")  # very hard: scores 1
        self.assertEqual(self._line(lead, self.urgency).score, 5)
        self.assertEqual(self._line(lead, self.difficulty).score, 1)
        self.assertAlmostEqual(lead.grade_score, before + 2 / 9 - 2 / 18, places=2)

    def test_other_salesperson_cannot_score_the_deal(self):
        with self.assertRaises(AccessError):
            self._enter(self.lead, self.urgency, "5", user=self.salesman2)
        self.assertFalse(self._line(self.lead, self.urgency).entered_score)

    def test_only_valid_opportunities_are_graded(self):
        lead = self.env["crm.lead"].create(
            {
                "name": "No customer yet",
                "type": "opportunity",
                "user_id": self.salesman.id,
                "expected_revenue": 50000,
            }
        )
        self.assertFalse(lead.grade)
        self.assertEqual(lead.grade_reason, "Not a valid opportunity")
        lead.partner_id = self.partner
        self.assertTrue(lead.grade)

    def test_strategic_account_is_always_a(self):
        self.partner.sales_funnel_strategic_account = True
        lead = self._new_lead("Small strategic deal", self.salesman, revenue=1000)
        self.assertEqual(lead.grade, "a")
        self.assertEqual(lead.grade_reason, "Pre-assessed: Strategic account")
        self.assertEqual(
            lead.grade_rule_id, self.env.ref("sales_funnel.crm_grade_rule_strategic")
        )

    def test_the_reason_reads_in_the_readers_language(self):
        # Graded by an English-speaking run; a Chinese-speaking salesperson
        # reads why in Chinese, an English one in English.
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"].search(
            [("name", "=", "sales_funnel")]
        )._update_translations(["zh_CN"])
        # As the web client asks: in the reader's language.
        chinese = self.env(context=dict(self.env.context, lang="zh_CN"))
        english = self.env(context=dict(self.env.context, lang="en_US"))
        scored = self.lead
        self.assertEqual(scored.grade_basis, "score")
        self.assertEqual(scored.with_env(chinese).grade_reason, "加权得分")
        self.assertEqual(scored.with_env(english).grade_reason, "Weighted score")
        self.partner.sales_funnel_strategic_account = True
        ruled = self._new_lead("Strategic deal", self.salesman, revenue=1000)
        self.assertEqual(ruled.grade_basis, "rule")
        rule_zh = ruled.grade_rule_id.with_env(chinese).name
        self.assertEqual(ruled.with_env(chinese).grade_reason, f"预评估：{rule_zh}")
        self.assertEqual(
            ruled.with_env(english).grade_reason, "Pre-assessed: Strategic account"
        )

    def test_failed_credit_check_is_always_d(self):
        self.partner.write(
            {"sales_funnel_strategic_account": True, "sales_funnel_credit_failed": True}
        )
        lead = self._new_lead("Big deal, bad payer", self.salesman, revenue=5e6)
        self.assertEqual(lead.grade, "d")
        self.assertEqual(
            lead.grade_reason, "Pre-assessed: Customer failed the credit check"
        )
        self.assertEqual(self._line(lead, self.risk).score, 1)

    def test_customer_history_counts_through_the_daily_regrade(self):
        lead = self.lead
        won = self._new_lead("Earlier order", self.salesman, revenue=600000)
        with self._at("2031-03-02 09:00:00"):
            won._move_past_gate(self.won, "Signed before the funnel was used")
            activity = lead.activity_schedule(
                "mail.mail_activity_data_call", user_id=self.salesman.id
            )
            activity.action_feedback("Called the plant manager")
        self.assertEqual(self._line(lead, self.customer_value).score, 1)
        with self._at("2031-03-03 02:00:00"):
            self.env["crm.lead"]._cron_regrade_opportunities()
        self.assertEqual(self._line(lead, self.customer_value).value, 600000.0)
        self.assertEqual(self._line(lead, self.customer_value).score, 4)
        self.assertEqual(self._line(lead, self.activity).value, 1.0)
        self.assertEqual(self._line(lead, self.activity).score, 2)
        self.assertEqual(
            lead.grade_date, fields.Datetime.to_datetime("2031-03-03 02:00:00")
        )
        # The activity leaves the 90 days: the next regrade forgets it.
        with self._at("2031-06-15 02:00:00"):
            self.env["crm.lead"]._cron_regrade_opportunities()
        self.assertEqual(self._line(lead, self.activity).score, 1)

    def test_won_deal_keeps_its_grade(self):
        lead = self.lead
        grade = lead.grade
        lead._move_past_gate(self.won, "Signed at the trade fair")
        lead.with_user(self.salesman).expected_revenue = 5e6
        self.assertEqual(lead.grade, grade)

    def test_stage_change_does_not_regrade(self):
        lead = self.lead
        with self._at("2031-01-05 10:00:00"):
            lead._grade()
        self._tick_all(lead)
        with self._at("2031-01-06 10:00:00"):
            lead.with_user(self.salesman).stage_id = self.development
        self.assertEqual(
            lead.grade_date, fields.Datetime.to_datetime("2031-01-05 10:00:00")
        )

    def test_grade_in_search_and_forecast_report(self):
        self.partner.sales_funnel_strategic_account = True
        self._new_lead("Strategic", self.salesman)
        Lead = self.env["crm.lead"].with_user(self.manager)
        self.assertEqual(Lead.search_count([("grade", "=", "a")]), 1)
        groups = dict(
            self.env["crm.funnel.forecast.report"]
            .with_user(self.manager)
            ._read_group([("state", "=", "open")], ["grade"], ["__count"])
        )
        self.assertEqual(groups.get("a"), 1)
        self.assertEqual(groups.get("c"), 1)

    def test_dashboard_pipeline_per_grade(self):
        data = self.env["crm.funnel.dashboard"].with_user(self.manager).get_data()
        rows = {row["grade"]: row for row in data["grades"]}
        self.assertEqual(rows["c"]["count"], 1)
        self.assertEqual(rows["c"]["amount"], 100000.0)


class TestResourcesByGrade(GradeCase):
    def test_reaching_a_plans_the_grade_activities(self):
        self.env.ref("sales_funnel.crm_grade_policy_a").with_user(
            self.manager
        ).activity_plan_id = self.env.ref("sales_funnel.mail_activity_plan_grade_a")
        self.partner.sales_funnel_strategic_account = True
        lead = self._new_lead("Strategic", self.salesman)
        self.assertEqual(lead.grade, "a")
        self.assertIn(
            "Grade A: agree the account plan with your manager",
            lead.activity_ids.mapped("summary"),
        )
        self.assertEqual(lead.activity_ids[:1].user_id, self.salesman)

    def test_neglected_a_deal(self):
        self.partner.sales_funnel_strategic_account = True
        with self._at("2031-05-01 09:00:00"):
            lead = self._new_lead("Strategic", self.salesman)
            lead.activity_ids.unlink()
        Lead = self.env["crm.lead"].with_user(self.manager)
        with self._at("2031-05-06 09:00:00"):
            self.assertFalse(lead.with_user(self.manager).grade_neglected)
            self.assertNotIn(lead, Lead.search([("grade_neglected", "=", True)]))
        with self._at("2031-05-09 09:00:00"):
            lead.invalidate_recordset(["grade_neglected"])
            self.assertTrue(lead.with_user(self.manager).grade_neglected)
            self.assertIn(lead, Lead.search([("grade_neglected", "=", True)]))
            # Planning the next step takes it off the list.
            lead.activity_schedule(
                "mail.mail_activity_data_todo", user_id=self.salesman.id
            )
            self.assertNotIn(lead, Lead.search([("grade_neglected", "=", True)]))

    def test_focus_view_lists_a_deals_by_salesperson(self):
        self.partner.sales_funnel_strategic_account = True
        strategic = self._new_lead("Strategic", self.salesman2)
        action = self.env.ref("sales_funnel.crm_lead_action_grade_focus")
        self.assertIn("search_default_grade_a", action.context)
        Lead = self.env["crm.lead"].with_user(self.manager)
        groups = Lead._read_group(
            [("grade", "=", "a"), ("type", "=", "opportunity")],
            ["user_id"],
            ["__count"],
        )
        self.assertEqual(groups, [(self.salesman2, 1)])
        self.assertEqual(strategic.grade, "a")


class TestGradeQueries(GradeCase):
    def _count_grading(self, count):
        """Queries of regrading ``count`` deals of as many customers whose
        amounts changed behind the ORM's back (scores and grades change)."""
        partners = self.env["res.partner"].create(
            [{"name": f"Customer {n}", "is_company": True} for n in range(count)]
        )
        leads = self.env["crm.lead"].create(
            [
                {
                    "name": f"Deal {n}",
                    "type": "opportunity",
                    "partner_id": partner.id,
                    "expected_revenue": 10000,
                }
                for n, partner in enumerate(partners)
            ]
        )
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.env.cr.execute(
            "UPDATE crm_lead SET expected_revenue = 2000000 WHERE id IN %s",
            [tuple(leads.ids)],
        )
        self.env.invalidate_all()
        self.env.cr.flush()
        before = self.env.cr.sql_log_count
        leads._grade()
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.env.cr.flush()
        self.assertEqual(set(leads.mapped("grade")), {"b"})
        return self.env.cr.sql_log_count - before

    def test_grading_is_batched(self):
        self._count_grading(2)  # warm the caches
        few = self._count_grading(3)
        many = self._count_grading(12)
        self.assertEqual(many, few, "grading costs queries per deal")


class TestRegradeJob(GradeCase):
    def test_many_deals_are_left_to_the_job(self):
        others = self.env["crm.lead"].create(
            [
                {
                    "name": f"Deal {n}",
                    "type": "opportunity",
                    "partner_id": self.partner.id,
                    "expected_revenue": 100000,
                }
                for n in range(3)
            ]
        )
        leads = self.lead | others
        cron = self.env.ref("sales_funnel.ir_cron_regrade_opportunities")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        with patch.object(crm_lead_grade, "REGRADE_BATCH", 2):
            # A new pre-assessment rule: too many deals to regrade at once.
            self.env["crm.grade.rule"].with_user(self.manager).create(
                {
                    "name": "Big customer",
                    "grade": "a",
                    "domain": f"[('partner_id', '=', {self.partner.id})]",
                }
            )
            self.assertEqual(set(leads.mapped("grade")), {"c"})
            self.assertEqual(leads.mapped("grade_date"), [False] * 4)
            self.assertEqual(
                self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]),
                triggers + 1,
            )
            # The job works through them a batch at a time, as the runner
            # calls it (its progress), and all at once called directly.
            progress = self.env["ir.cron.progress"].create({"cron_id": cron.id})
            Lead = self.env["crm.lead"].with_context(ir_cron_progress_id=progress.id)
            self.assertEqual(Lead._cron_regrade_opportunities(), 2)
            self.assertEqual((progress.done, progress.remaining), (2, 2))
            self.assertEqual(len(leads.filtered(lambda lead: lead.grade == "a")), 2)
            self.assertEqual(self.env["crm.lead"]._cron_regrade_opportunities(), 0)
        self.assertEqual(set(leads.mapped("grade")), {"a"})
        self.assertEqual(
            set(leads.mapped("grade_reason")), {"Pre-assessed: Big customer"}
        )
