from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged

from .common import ForecastCase


@tagged("post_install", "-at_install")
class TestForecastSubmission(ForecastCase):
    """提交预测: the system proposes, the salesperson commits and explains."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        o = cls._opportunity
        # December 2031: 100000×10% + 200000×30% + 50000×50% + 40000×80% = 127000
        o(cls.salesman, cls.verification, 100000, "2031-12-01")
        o(cls.salesman, cls.development, 200000, "2031-12-15")
        o(cls.salesman, cls.proposal, 50000, "2031-12-31")
        o(cls.salesman, cls.closing, 40000, "2031-12-20")
        # Not in Li Na's December forecast:
        o(cls.salesman, cls.closing, 500000, "2032-01-10")  # next quarter
        o(cls.salesman, cls.closing, 70000, "2031-11-30")  # November
        o(cls.salesman, cls.won, 90000, "2031-12-10")  # won
        o(  # lost, with its loss report
            cls.salesman,
            cls.proposal,
            80000,
            "2031-12-10",
            active=False,
            loss_report_ids=[Command.create(cls._loss_report_vals())],
        )
        o(cls.salesman, cls.proposal, 60000, "2031-12-10", type="lead")  # a lead
        o(cls.salesman2, cls.development, 100000, "2031-12-05")  # colleague
        cls.company2 = cls.env["res.company"].create({"name": "SF Beijing"})
        cls.salesman.company_ids |= cls.company2
        cls.env["crm.lead"].with_company(cls.company2).create(
            {
                "name": "Beijing deal",
                "type": "opportunity",
                "user_id": cls.salesman.id,
                "team_id": False,
                "stage_id": cls.closing.id,
                "expected_revenue": 10000,
                "date_deadline": "2031-12-10",
                "company_id": cls.company2.id,
            }
        )

    def test_system_forecast_is_the_weighted_amount(self):
        with self._at("2031-11-15 10:00:00"):
            submission = self._submission(self.salesman)
        self.assertEqual(submission.user_id, self.salesman)
        self.assertEqual(str(submission.date_from), "2031-12-01")
        self.assertEqual(str(submission.date_to), "2031-12-31")
        self.assertEqual(submission.system_amount, 127000)
        self.assertEqual(submission.amount, 127000)
        with self._at("2031-11-15 10:00:00"):
            quarter = self._submission(self.salesman, period_type="quarter")
        self.assertEqual(str(quarter.date_from), "2032-01-01")
        self.assertEqual(str(quarter.date_to), "2032-03-31")
        self.assertEqual(quarter.system_amount, 400000)
        # The other company: its own opportunities only.
        beijing = (
            self.env["crm.forecast.submission"]
            .with_company(self.company2)
            .create(
                {
                    "user_id": self.salesman.id,
                    "date_from": "2031-12-01",
                    "company_id": self.company2.id,
                }
            )
        )
        self.assertEqual(beijing.system_amount, 8000)
        team = self.env["crm.forecast.submission"].create(
            {"level": "team", "team_id": self.team.id, "date_from": "2031-12-01"}
        )
        self.assertEqual(team.system_amount, 127000 + 30000)
        company = self.env["crm.forecast.submission"].create(
            {"level": "company", "date_from": "2031-12-01"}
        )
        self.assertEqual(company.system_amount, 127000 + 30000)

    def test_submitting_with_form_defaults(self):
        with self._at("2031-11-15 10:00:00"):
            form = Form(self.env["crm.forecast.submission"].with_user(self.salesman))
            self.assertEqual(form.level, "salesperson")
            self.assertEqual(form.user_id, self.salesman)
            self.assertEqual(form.system_amount, 127000)
            form.period_type = "quarter"
            self.assertEqual(str(form.date_from), "2032-01-01")
            self.assertEqual(form.amount, 400000)
            submission = form.save()
            submission.action_submit()
        self.assertEqual(submission.state, "submitted")
        self.assertEqual(submission.amount, 400000)
        self.assertEqual(str(submission.submit_date), "2031-11-15 10:00:00")

    def test_comment_required_when_adjusted(self):
        submission = self._submission(self.salesman, date_from="2031-12-01")
        submission.amount = 100000
        with self.assertRaises(ValidationError):
            submission.action_submit()
        self.assertEqual(submission.state, "draft")
        submission.comment = "Closing deal slips to January"
        submission.action_submit()
        self.assertEqual(submission.state, "submitted")
        self.assertEqual(submission.amount, 100000)
        self.assertEqual(submission.system_amount, 127000)

    def test_period_must_start_a_month_or_quarter(self):
        with self.assertRaises(ValidationError):
            self._submission(self.salesman, date_from="2031-12-05")
        with self.assertRaises(ValidationError):
            self._submission(
                self.salesman, period_type="quarter", date_from="2031-12-01"
            )

    def test_submitted_forecast_is_kept_as_submitted(self):
        submission = self._submission(self.salesman, date_from="2031-12-01")
        submission.action_submit()
        for user in (self.salesman, self.manager):
            with self.assertRaises(UserError):
                submission.with_user(user).write({"amount": 1, "comment": "oops"})
            with self.assertRaises(UserError):
                submission.with_user(user).unlink()
            with self.assertRaises(UserError):
                submission.with_user(user).action_submit()
        with self.assertRaises(UserError):
            submission.sudo().write({"state": "draft"})
        # Later pipeline changes do not touch it.
        self._opportunity(self.salesman, self.closing, 100000, "2031-12-02")
        submission.invalidate_recordset()
        self.assertEqual(submission.system_amount, 127000)
        self.assertEqual(submission.amount, 127000)
        self.assertEqual(submission.state, "submitted")

    def test_system_figure_refreshed_at_submission(self):
        draft = self._submission(self.salesman, date_from="2031-12-01")
        self._opportunity(self.salesman, self.closing, 100000, "2031-12-02")
        draft.action_submit()
        self.assertEqual(draft.system_amount, 207000)
        self.assertEqual(draft.amount, 207000)

    def test_salesperson_submits_own_only(self):
        with self.assertRaises(AccessError):
            self._submission(
                self.salesman, user_id=self.salesman2.id, date_from="2031-12-01"
            )
        with self.assertRaises(AccessError):
            self._submission(
                self.salesman,
                level="team",
                team_id=self.team.id,
                date_from="2031-12-01",
            )
        other = self._submission(self.salesman2, date_from="2031-12-01")
        with self.assertRaises(AccessError):
            other.with_user(self.salesman).read(["amount"])

    def test_team_forecast_beside_members_forecasts(self):
        mine = self._submission(self.salesman, date_from="2031-12-01")
        mine.write({"amount": 100000, "comment": "Closing deal may slip"})
        mine.action_submit()
        theirs = self._submission(self.salesman2, date_from="2031-12-01")
        theirs.action_submit()
        # A resubmission replaces the earlier one in the team's sum.
        again = self._submission(self.salesman, date_from="2031-12-01")
        again.write({"amount": 110000, "comment": "Closing deal is back"})
        again.action_submit()
        self._submission(self.salesman2, date_from="2031-12-01")  # draft: not counted

        team = self._submission(
            self.manager, level="team", team_id=self.team.id, date_from="2031-12-01"
        )
        self.assertEqual(team.system_amount, 157000)
        self.assertEqual(team.members_amount, 110000 + 30000)
        team.write({"amount": 135000, "comment": "Members are optimistic"})
        team.action_submit()
        self.assertEqual(team.amount, 135000)
        members = self.env["crm.forecast.submission"].search(
            team.action_open_member_submissions()["domain"]
        )
        self.assertEqual(len(members), 4)

        # The manager sees the team's submissions; members see the team's
        # forecast but not each other's.
        Submission = self.env["crm.forecast.submission"]
        everything = mine | theirs | again | team
        self.assertEqual(
            Submission.with_user(self.manager).search([]) & everything, everything
        )
        self.assertEqual(
            Submission.with_user(self.salesman).search([]) & everything,
            mine | again | team,
        )
