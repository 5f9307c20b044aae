from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import AnalyticsCase

# The self-check day of the tests: Friday 14 March 2031, 08:00 UTC.
FRIDAY = "2031-03-14 08:00:00"


class SelfcheckCase(AnalyticsCase):
    """Li Na's funnel moved through the real write path in the first half of
    March 2031; her team leader (a salesperson leading 华东) and a sales manager.

    ========  =========  ======================  ==============  ===============
    deal      amount     path                    on 7 March      on 14 March
    ========  =========  ======================  ==============  ===============
    A         100,000    V 3/3, D 3/10           Verification    Development
    B          50,000    V 3/4, D 3/5, P 3/11,   Development     Development
                         back to D 3/12
    C          20,000    V 3/11                  —               Verification
    D          30,000    V 3/3 … C 3/6, won 3/13 Closing         won
    E          40,000    V 3/3, lost 3/12        Verification    lost
    F          10,000    V 2031-01-05            Verification    Verification
    ========  =========  ======================  ==============  ===============

    Flagged on 14 March: A (required criteria of Development not ticked), C
    (its next step was due on 12 March), F (stuck: 68 days in Verification,
    which allows 30).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.leader = new_test_user(
            cls.env,
            "sf_leader",
            groups="sales_team.group_sale_salesman",
            name="Wang Qiang",
        )
        cls.team = cls.env["crm.team"].create(
            {
                "name": "华东",
                "user_id": cls.leader.id,
                "member_ids": [Command.set((cls.salesman | cls.salesman2).ids)],
            }
        )
        cls.company.sales_funnel_selfcheck_weekday = "4"  # Friday
        cls.company.sales_funnel_selfcheck_deadline_days = 3
        cls.Selfcheck = cls.env["crm.funnel.selfcheck"]

    def _funnel(self):
        D, P, C = self.development, self.proposal, self.closing
        team = {"team_id": self.team.id}
        self.deal_f = self._create("F", "2031-01-05 08:00:00", revenue=10000, **team)
        self._tick_all(self.deal_f)
        self.deal_a = self._create(
            "A",
            "2031-03-03 08:00:00",
            revenue=100000,
            date_deadline="2031-03-28",
            **team,
        )
        self.deal_d = self._create("D", "2031-03-03 08:00:00", revenue=30000, **team)
        self.deal_e = self._create("E", "2031-03-03 08:00:00", revenue=40000, **team)
        self.deal_b = self._create(
            "B",
            "2031-03-04 08:00:00",
            revenue=50000,
            date_deadline="2031-05-10",
            **team,
        )
        self._walk(
            self.deal_d,
            [
                (D, "2031-03-04 08:00:00"),
                (P, "2031-03-05 08:00:00"),
                (C, "2031-03-06 08:00:00"),
            ],
        )
        self._move(self.deal_b, D, "2031-03-05 08:00:00")
        self._move(self.deal_a, D, "2031-03-10 08:00:00")
        self._move(self.deal_b, P, "2031-03-11 08:00:00")
        self.deal_c = self._create("C", "2031-03-11 08:00:00", revenue=20000, **team)
        self._tick_all(self.deal_c)
        self._move(self.deal_b, D, "2031-03-12 08:00:00")
        self._lose(self.deal_e, "2031-03-12 08:00:00")
        self._win(self.deal_d, "2031-03-13 08:00:00")
        # Only the activities of the story (stage entries may plan others).
        self.env["mail.activity"].search([("res_model", "=", "crm.lead")]).unlink()
        with self._at("2031-03-11 09:00:00"):
            self.deal_c.with_user(self.salesman).activity_schedule(
                "mail.mail_activity_data_call",
                date_deadline=fields.Date.to_date("2031-03-12"),
                summary="Call the buyer about the budget",
                user_id=self.salesman.id,
            )

    def _prepare(self, when=FRIDAY):
        with self._at(when):
            selfchecks = self.Selfcheck._cron_prepare_selfchecks()
            self.env.flush_all()
        return selfchecks

    def _mine(self):
        return self.Selfcheck.search([("user_id", "=", self.salesman.id)])


@tagged("post_install", "-at_install")
class TestSelfcheckJob(SelfcheckCase):
    def test_figures_of_the_week(self):
        self._funnel()
        self.env["crm.sales.target"].with_user(self.manager).create(
            [
                {
                    "user_id": self.salesman.id,
                    "period_type": "month",
                    "period_date": "2031-03-01",
                    "amount": 100000.0,
                },
                {
                    "user_id": self.salesman.id,
                    "period_type": "quarter",
                    "period_date": "2031-01-01",
                    "amount": 300000.0,
                },
            ]
        )
        with self._at("2031-02-25 10:00:00"):
            forecast = self.env["crm.forecast.submission"].with_user(self.salesman)
            forecast.create(
                {
                    "period_type": "month",
                    "date_from": "2031-03-01",
                    "amount": 60000.0,
                    "comment": "A closes in March; D is signed.",
                }
            ).action_submit()
        self._prepare()
        selfcheck = self._mine()
        self.assertEqual(len(selfcheck), 1)
        self.assertEqual(
            (selfcheck.week_start, selfcheck.date_deadline, selfcheck.state),
            (
                fields.Date.to_date("2031-03-10"),
                fields.Date.to_date("2031-03-17"),
                "draft",
            ),
        )
        self.assertEqual(selfcheck.team_id, self.team)
        # Per stage: (count, amount, weighted) now and on Friday 7 March.
        self.assertEqual(
            [
                (
                    line.stage_id,
                    (line.count, line.amount, line.weighted_amount),
                    (
                        line.count_before,
                        line.amount_before,
                        line.weighted_amount_before,
                    ),
                )
                for line in selfcheck.stage_line_ids
            ],
            [
                (self.verification, (2, 30000, 3000), (3, 150000, 15000)),
                (self.development, (2, 150000, 45000), (1, 50000, 15000)),
                (self.proposal, (0, 0, 0), (0, 0, 0)),
                (self.closing, (0, 0, 0), (1, 30000, 24000)),
            ],
        )
        self.assertEqual(
            (selfcheck.open_count, selfcheck.open_amount, selfcheck.weighted_amount),
            (4, 180000, 48000),
        )
        self.assertEqual(
            (
                selfcheck.open_count_before,
                selfcheck.open_amount_before,
                selfcheck.weighted_amount_before,
            ),
            (5, 230000, 54000),
        )
        # What changed since a week before (the first self-check).
        self.assertEqual(
            [
                (line.lead_id, line.event, line.to_stage_id, line.amount)
                for line in selfcheck.change_line_ids
            ],
            [
                (self.deal_a, "forward", self.development, 100000),
                (self.deal_b, "forward", self.proposal, 50000),
                (self.deal_c, "create", self.verification, 20000),
                (self.deal_b, "backward", self.development, 50000),
                (self.deal_e, "lost", self.verification, 40000),
                (self.deal_d, "won", self.won, 30000),
            ],
        )
        # The deals to look at, and why.
        lines = {line.lead_id: line for line in selfcheck.deal_line_ids}
        self.assertEqual(set(lines), {self.deal_a, self.deal_c, self.deal_f})
        self.assertTrue(lines[self.deal_a].criteria_missing_count)
        # Its card has what Verification asked for, not yet what Development asks.
        self.assertTrue(lines[self.deal_a].fact_card_incomplete)
        self.assertFalse(lines[self.deal_f].fact_card_incomplete)
        self.assertFalse(
            lines[self.deal_a].is_stuck or lines[self.deal_a].activity_overdue
        )
        self.assertEqual(lines[self.deal_c].reason, "Next step overdue")
        self.assertTrue(lines[self.deal_f].is_stuck)
        self.assertEqual(lines[self.deal_f].reason, "Stuck for 68 days")
        self.assertEqual(selfcheck.flagged_count, 3)
        # Month: 100000 target, 30000 won (D) + 30000 weighted (A, due 28 March),
        # 60000 submitted; the quarter has no forecast: won + weighted counts.
        self.assertEqual(
            (
                selfcheck.month_target,
                selfcheck.month_won,
                selfcheck.month_expected,
                selfcheck.month_forecast,
                selfcheck.month_forecast_submitted,
                selfcheck.month_gap,
            ),
            (100000, 30000, 60000, 60000, True, 40000),
        )
        self.assertEqual(
            (
                selfcheck.quarter_target,
                selfcheck.quarter_expected,
                selfcheck.quarter_forecast_submitted,
                selfcheck.quarter_gap,
            ),
            (300000, 60000, False, 240000),
        )
        self.assertEqual(selfcheck.quarter_target_basis, "Target of the quarter")
        # The salesperson has it on their activities, due on the deadline.
        activity = selfcheck.activity_ids
        self.assertEqual(activity.user_id, self.salesman)
        self.assertEqual(activity.date_deadline, selfcheck.date_deadline)

    def test_one_per_salesperson_per_week(self):
        self._funnel()
        # A colleague with a target but no deal gets one; the leader, with
        # neither, does not.
        self.env["crm.sales.target"].with_user(self.manager).create(
            {
                "user_id": self.salesman2.id,
                "period_type": "month",
                "period_date": "2031-03-01",
                "amount": 50000.0,
            }
        )
        # Not the self-check day (Thursday): nothing.
        self.assertFalse(self._prepare("2031-03-13 08:00:00"))
        first = self._prepare()
        self.assertEqual(first.user_id, self.salesman | self.salesman2)
        # Run again the same day, and on Saturday: nothing more.
        self.assertFalse(self._prepare())
        self.assertFalse(self._prepare("2031-03-15 08:00:00"))
        theirs = first.filtered(lambda selfcheck: selfcheck.user_id == self.salesman2)
        self.assertEqual((theirs.open_count, theirs.month_target), (0, 50000))
        self.assertEqual(
            theirs.stage_line_ids.mapped("count"), [0, 0, 0, 0], "an empty funnel"
        )
        # The next Friday: the second week's, listing the changes since the first.
        self._move(self.deal_c, self.development, "2031-03-18 08:00:00")
        second = self._prepare("2031-03-21 08:00:00")
        mine = second.filtered(lambda selfcheck: selfcheck.user_id == self.salesman)
        self.assertEqual(mine.week_start, fields.Date.to_date("2031-03-17"))
        self.assertEqual(
            [(line.lead_id, line.event) for line in mine.change_line_ids],
            [(self.deal_c, "forward")],
        )
        self.assertEqual(len(self._mine()), 2)

    def test_company_weekday_and_companies(self):
        self._funnel()
        self.company.sales_funnel_selfcheck_weekday = "0"  # Monday
        self.assertFalse(self._prepare())
        self.assertTrue(self._prepare("2031-03-17 08:00:00"))
        # A sales manager prepares them on another day (a salesperson hired
        # mid-week); a salesperson does not.
        with self._at("2031-03-26 08:00:00"), self.assertRaises(UserError):
            self.Selfcheck.with_user(self.salesman).action_prepare_selfchecks()
        with self._at("2031-03-26 08:00:00"):
            self.Selfcheck.with_user(self.manager).action_prepare_selfchecks()
        self.assertEqual(
            self._mine().mapped("week_start"),
            [fields.Date.to_date("2031-03-24"), fields.Date.to_date("2031-03-17")],
        )
        # Another company's self-check day does not prepare this company's.
        other = self.env["res.company"].create(
            {"name": "华南分公司", "sales_funnel_selfcheck_weekday": "4"}
        )
        self.assertEqual(other.sales_funnel_selfcheck_weekday, "4")
        self.assertFalse(self._prepare("2031-03-21 08:00:00"))

    def test_targets_of_the_self_checks_company_only(self):
        self._funnel()
        other = self.env["res.company"].create({"name": "华南分公司"})
        self.salesman.company_ids |= other
        Target = self.env["crm.sales.target"]
        for company, amount in ((self.company, 100000.0), (other, 70000.0)):
            Target.with_company(company).create(
                {
                    "user_id": self.salesman.id,
                    "company_id": company.id,
                    "period_type": "month",
                    "period_date": "2031-03-01",
                    "amount": amount,
                }
            )
        self._prepare()
        mine = self._mine().filtered(lambda check: check.company_id == self.company)
        # This company's target, not the sum of both companies'.
        self.assertEqual(mine.month_target, 100000)

    def test_queries_do_not_grow_with_the_deals(self):
        self._funnel()
        cr = self.env.cr
        with self._at(FRIDAY):
            self.env.flush_all()
            self.env.invalidate_all()
            start = cr.sql_log_count
            self.Selfcheck._cron_prepare_selfchecks()
            self.env.flush_all()
            few = cr.sql_log_count - start
        # Three times as many deals, stuck, overdue, moved, the next week.
        for index in range(12):
            lead = self._create(
                f"More {index}",
                "2031-01-10 08:00:00",
                revenue=1000 * (index + 1),
                team_id=self.team.id,
            )
            self._tick_all(lead)
            if index % 3 == 0:
                self._move(lead, self.development, "2031-03-19 08:00:00")
            if index % 3 == 1:
                with self._at("2031-03-18 08:00:00"):
                    lead.activity_schedule(
                        "mail.mail_activity_data_todo",
                        date_deadline=fields.Date.to_date("2031-03-19"),
                        user_id=self.salesman.id,
                    )
        with self._at("2031-03-21 08:00:00"):
            self.env.flush_all()
            self.env.invalidate_all()
            start = cr.sql_log_count
            second = self.Selfcheck._cron_prepare_selfchecks()
            self.env.flush_all()
            many = cr.sql_log_count - start
        self.assertGreater(len(second.deal_line_ids), 3 * 3)
        self.assertLessEqual(many, few, "the job's queries grow with the deals")


@tagged("post_install", "-at_install")
class TestSelfcheckSubmission(SelfcheckCase):
    def setUp(self):
        super().setUp()
        self._funnel()
        self._prepare()
        self.selfcheck = self._mine().with_user(self.salesman)

    def _check_deals(self):
        lines = {line.lead_id: line for line in self.selfcheck.deal_line_ids}
        with self._at("2031-03-14 10:00:00"):
            lines[self.deal_a].write({"note": "Demo planned with the plant manager."})
            lines[self.deal_f].write({"note": "Budget frozen until April."})
            lines[self.deal_c].write(
                {"next_step": "Call the buyer again", "next_step_date": "2031-03-17"}
            )
        return lines

    def test_check_plan_submit(self):
        with self.assertRaisesRegex(UserError, "plan for next week"):
            self.selfcheck.action_submit()
        self.selfcheck.plan = "<p>Visit 上海电力 on Tuesday; close A.</p>"
        with self.assertRaisesRegex(UserError, "Check every flagged deal"):
            self.selfcheck.action_submit()
        self.assertEqual(self.selfcheck.state, "draft")
        lines = self._check_deals()
        # The next step is an activity on the deal, for the salesperson.
        activity = lines[self.deal_c].activity_id
        self.assertEqual(
            (activity.res_id, activity.user_id, activity.summary),
            (self.deal_c.id, self.salesman, "Call the buyer again"),
        )
        self.assertEqual(self.selfcheck.unchecked_count, 0)
        with self._at("2031-03-14 11:00:00"):
            self.selfcheck.action_submit()
        self.assertEqual(self.selfcheck.state, "submitted")
        self.assertEqual(
            self.selfcheck.submit_date,
            fields.Datetime.to_datetime("2031-03-14 11:00:00"),
        )
        # The to-do of the week is done; the team leader is asked to review.
        self.assertFalse(
            self.selfcheck.activity_ids.filtered(lambda a: a.user_id == self.salesman)
        )
        self.assertEqual(self.selfcheck.sudo().activity_ids.user_id, self.leader)

    def test_submitted_is_kept(self):
        self._check_deals()
        self.selfcheck.plan = "<p>Close A.</p>"
        self.selfcheck.action_submit()
        line = self.selfcheck.deal_line_ids[0]
        for write in (
            lambda: self.selfcheck.write({"plan": "<p>Something else</p>"}),
            lambda: line.write({"note": "Changed my mind"}),
            lambda: self.selfcheck.action_submit(),
            lambda: self.selfcheck.stage_line_ids[0].write({"count": 9}),
            lambda: self.selfcheck.change_line_ids[0].unlink(),
            lambda: self.selfcheck.sudo().unlink(),
        ):
            with self.assertRaises(UserError):
                write()
        self.assertEqual(self.selfcheck.plan, "<p>Close A.</p>")
        self.assertEqual(self.selfcheck.stage_line_ids[0].count, 2)

    def test_nothing_by_hand(self):
        # Figures are the job's; the colleague and the leader do not fill it in.
        for user, vals in (
            (self.salesman, {"open_count": 1}),
            (self.salesman, {"state": "submitted"}),
            (self.leader, {"plan": "<p>Do it my way</p>"}),
            (self.manager, {"plan": "<p>Do it my way</p>"}),
        ):
            with self.assertRaises(UserError):
                self.selfcheck.with_user(user).write(vals)
        with self.assertRaises(UserError):
            self.Selfcheck.with_user(self.manager).create(
                {
                    "user_id": self.salesman.id,
                    "company_id": self.company.id,
                    "week_start": "2031-03-17",
                    "date": "2031-03-17 08:00:00",
                }
            )
        with self.assertRaises(UserError):
            self.selfcheck.deal_line_ids[0].write({"manager_comment": "Too early"})
        self.assertEqual(self.selfcheck.state, "draft")

    def test_reminder_after_the_deadline(self):
        Remind = self.Selfcheck._cron_remind_selfchecks
        with self._at("2031-03-17 20:00:00"):  # the deadline day: not late yet
            self.assertFalse(Remind())
        with self._at("2031-03-18 07:00:00"):
            self.assertEqual(Remind(), self.selfcheck)
            self.assertFalse(Remind(), "reminded once")
        message = self.selfcheck.message_ids.filtered(
            lambda m: "has not submitted" in (m.body or "")
        )
        self.assertEqual(len(message), 1)
        self.assertEqual(
            message.notified_partner_ids, (self.salesman | self.leader).partner_id
        )
        self.assertTrue(self.selfcheck.reminder_date)
        # Submitted self-checks are not reminded; the submission list says who.
        self._check_deals()
        self.selfcheck.plan = "<p>Close A.</p>"
        self.selfcheck.action_submit()
        self.assertFalse(
            self.Selfcheck.with_user(self.leader).search(
                [("state", "=", "draft"), ("week_start", "=", "2031-03-10")]
            )
        )

    def test_access(self):
        # The colleague sees neither the self-check nor its lines.
        with self.assertRaises(AccessError):
            self.selfcheck.with_user(self.salesman2).read(["plan"])
        self.assertFalse(
            self.env["crm.funnel.selfcheck.deal"]
            .with_user(self.salesman2)
            .search([("selfcheck_id", "=", self.selfcheck.id)])
        )
        # The team leader and a manager see it.
        self.assertEqual(
            self.Selfcheck.with_user(self.leader).search([]), self.selfcheck
        )
        self.assertIn(self.selfcheck, self.Selfcheck.with_user(self.manager).search([]))
        # A manager of another company does not.
        other = self.env["res.company"].create({"name": "华南分公司"})
        stranger = new_test_user(
            self.env,
            "sf_other_manager",
            groups="sales_team.group_sale_manager",
            company_id=other.id,
            company_ids=[Command.set(other.ids)],
        )
        self.assertFalse(self.Selfcheck.with_user(stranger).search([]))
        with self.assertRaises(AccessError):
            self.selfcheck.with_user(stranger).read(["plan"])
