from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .test_selfcheck import SelfcheckCase


@tagged("post_install", "-at_install")
class TestSelfcheckReview(SelfcheckCase):
    """The manager's one-to-one review (一对一检查) of a submitted self-check."""

    def setUp(self):
        super().setUp()
        self._funnel()
        self._prepare()
        self.selfcheck = self._mine()
        mine = self.selfcheck.with_user(self.salesman)
        for line in mine.deal_line_ids:
            line.note = "Looked at it."
        mine.plan = "<p>Close A; visit the plant of F.</p>"
        with self._at("2031-03-14 11:00:00"):
            mine.action_submit()
        self.review = self.selfcheck.with_user(self.leader)
        self.line_a = self.review.deal_line_ids.filtered(
            lambda line: line.lead_id == self.deal_a
        )

    def test_review_with_actions_and_sign_off(self):
        self.assertTrue(self.review.can_review)
        with self._at("2031-03-17 09:00:00"):
            self.line_a.manager_comment = "Get the criteria ticked before the demo."
            self.review.write(
                {
                    "guidance": "<p>Fewer new leads, more depth on A and B.</p>",
                    "action_ids": [
                        fields.Command.create(
                            {
                                "name": "Book the demo with the plant manager",
                                "lead_id": self.deal_a.id,
                                "date_deadline": "2031-03-20",
                            }
                        ),
                        fields.Command.create(
                            {
                                "name": "Clean up the stuck deals",
                                "date_deadline": "2031-03-21",
                            }
                        ),
                    ],
                }
            )
        on_deal, general = self.review.action_ids
        # Each agreed action is an activity for the salesperson (the default
        # owner): on the deal, else on the self-check.
        self.assertEqual(on_deal.user_id, self.salesman)
        self.assertEqual(
            (
                on_deal.activity_id.res_model,
                on_deal.activity_id.res_id,
                on_deal.activity_id.user_id,
                on_deal.activity_id.date_deadline,
            ),
            (
                "crm.lead",
                self.deal_a.id,
                self.salesman,
                fields.Date.to_date("2031-03-20"),
            ),
        )
        self.assertEqual(
            (general.activity_id.res_model, general.activity_id.res_id),
            ("crm.funnel.selfcheck", self.selfcheck.id),
        )
        self.assertIn(
            "Book the demo with the plant manager",
            self.deal_a.with_user(self.salesman).activity_ids.mapped("summary"),
        )
        # The salesperson reads the comments and the guidance, writes neither,
        # and does not sign off their own review.
        mine = self.selfcheck.with_user(self.salesman)
        line = mine.deal_line_ids.filtered(lambda line: line.lead_id == self.deal_a)
        self.assertEqual(
            line.manager_comment, "Get the criteria ticked before the demo."
        )
        self.assertIn("more depth", mine.guidance)
        for attempt in (
            lambda: line.write({"manager_comment": "All fine"}),
            lambda: mine.write({"guidance": "<p>All fine</p>"}),
            mine.action_sign_off,
        ):
            with self.assertRaises(UserError):
                attempt()
        # Signed off: reviewer, date, and the review activity done.
        with self._at("2031-03-17 10:00:00"):
            self.review.action_sign_off()
        self.assertEqual(
            (
                self.selfcheck.state,
                self.selfcheck.reviewer_id,
                self.selfcheck.review_date,
            ),
            (
                "reviewed",
                self.leader,
                fields.Datetime.to_datetime("2031-03-17 10:00:00"),
            ),
        )
        self.assertFalse(
            self.selfcheck.activity_ids.filtered(lambda a: a.user_id == self.leader)
        )

    def test_signed_review_is_kept(self):
        self.review.guidance = "<p>Keep going.</p>"
        self.review.action_sign_off()
        action_vals = {"name": "Late idea", "selfcheck_id": self.selfcheck.id}
        for user in (self.leader, self.manager):
            review = self.selfcheck.with_user(user)
            for attempt in (
                lambda review=review: review.write({"guidance": "<p>Changed</p>"}),
                lambda review=review: review.deal_line_ids[0].write(
                    {"manager_comment": "Changed"}
                ),
                lambda user=user: (
                    self.env["crm.funnel.selfcheck.action"]
                    .with_user(user)
                    .create(action_vals)
                ),
                review.action_sign_off,
            ):
                with self.assertRaises(UserError):
                    attempt()
        self.assertEqual(self.selfcheck.guidance, "<p>Keep going.</p>")
        self.assertEqual(self.selfcheck.reviewer_id, self.leader)

    def test_who_reviews(self):
        # A colleague of the team is not its leader: no review (and no access).
        with self.assertRaises(UserError):
            self.selfcheck.with_user(self.salesman2).action_sign_off()
        # A sales manager reviews any salesperson's self-check.
        manager = self.selfcheck.with_user(self.manager)
        self.assertTrue(manager.can_review)
        manager.write({"guidance": "<p>Good week.</p>"})
        manager.action_sign_off()
        self.assertEqual(self.selfcheck.reviewer_id, self.manager)

    def test_no_review_before_submission(self):
        self._prepare("2031-03-21 08:00:00")
        draft = self._mine().filtered(lambda s: s.state == "draft")
        self.assertEqual(len(draft), 1)
        with self.assertRaisesRegex(UserError, "not submitted yet"):
            draft.with_user(self.leader).action_sign_off()
        with self.assertRaisesRegex(UserError, "not submitted yet"):
            self.env["crm.funnel.selfcheck.action"].with_user(self.leader).create(
                {"name": "Too early", "selfcheck_id": draft.id}
            )
