from odoo import Command
from odoo.tests import new_test_user, tagged

from .common import HandoffCase


@tagged("post_install", "-at_install")
class TestHandoffActivity(HandoffCase):
    """A failed hand-off gives the sales secretary an activity on the deal with
    the message in their language; a successful retry marks it done."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("zh_CN")
        cls.secretary.lang = "en_US"
        cls.secretary_zh = new_test_user(
            cls.env,
            "sf_secretary_zh",
            groups="sales_funnel.group_sales_secretary",
            name="吴芳",
            lang="zh_CN",
        )
        cls.activity_type = cls.env.ref(
            "sales_funnel.mail_activity_type_handoff_failed"
        )

    def _activities(self, lead, done=False):
        return (
            self.env["mail.activity"]
            .with_context(active_test=False)
            .search(
                [
                    ("res_model", "=", "crm.lead"),
                    ("res_id", "=", lead.id),
                    ("activity_type_id", "=", self.activity_type.id),
                    ("active", "=", not done),
                ]
            )
        )

    def _note(self, activity, user):
        return activity.with_user(user).with_context(lang=user.lang).note

    def test_failure_retry_failure_then_success(self):
        self.deal.line_ids = [Command.clear()]
        self._win(self.deal)
        self.env["crm.lead"]._cron_handoff()  # the job fails: no lines
        self.assertEqual(self.deal.handoff_status, "-1")
        activities = self._activities(self.deal)
        # Each secretary, not the sales managers (who hold the group too).
        self.assertEqual(activities.user_id, self.secretary | self.secretary_zh)
        mine = activities.filtered(lambda act: act.user_id == self.secretary)
        theirs = activities - mine
        self.assertIn("Missing lines", self._note(mine, self.secretary))
        self.assertIn("缺少产品明细", self._note(theirs, self.secretary_zh))
        # The secretary sees it in their activities, and opens the deal.
        self.assertEqual(
            self.env["mail.activity"]
            .with_user(self.secretary)
            .search(
                [("id", "in", activities.ids), ("user_id", "=", self.secretary.id)]
            ),
            mine,
        )

        # The retry fails again, for another reason: no second activity, the
        # message is the new one.
        self.deal.line_ids = [Command.create({"product_id": self.switchgear.id})]
        self.switchgear.sale_ok = False
        self.deal.with_user(self.secretary).action_handoff()
        self.assertEqual(self.deal.handoff_status, "-1")
        self.assertEqual(self._activities(self.deal), activities)
        self.assertIn("Product not saleable", self._note(mine, self.secretary))
        self.assertNotIn("Missing lines", self._note(mine, self.secretary))

        # Fixed: the retry succeeds and the activities are done.
        self.switchgear.sale_ok = True
        self.deal.with_user(self.secretary).action_handoff()
        self.assertIn(self.deal.handoff_status, ("1", "2"))
        self.assertFalse(self._activities(self.deal))
        self.assertEqual(self._activities(self.deal, done=True), activities)
        self.assertFalse(
            self.deal.with_user(self.secretary).activity_ids.filtered(
                lambda act: act.activity_type_id == self.activity_type
            )
        )

    def test_without_a_secretary_the_team_leader_is_told(self):
        (self.secretary | self.secretary_zh).active = False
        self.team.user_id = self.manager
        self.deal.line_ids = [Command.clear()]
        self._win(self.deal)
        self.env["crm.lead"]._cron_handoff()
        self.assertEqual(self._activities(self.deal).user_id, self.manager)
