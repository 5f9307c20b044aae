from datetime import date
from unittest.mock import patch

from psycopg2 import errors

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import FunnelCase


class LossReportCase(FunnelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.competitor = cls.env["res.partner"].create(
            {
                "name": "江苏远方电气有限公司",
                "is_company": True,
                "sales_funnel_is_competitor": True,
            }
        )
        cls.reason_competitor = cls.env.ref("sales_funnel.crm_lost_reason_competitor")
        cls.reason_budget = cls.env.ref("sales_funnel.crm_lost_reason_budget")
        cls._tick_and_move(cls.lead, cls.development)

    @classmethod
    def _tick_and_move(cls, lead, stage):
        cls._tick_all(lead, lead.user_id)
        lead.with_user(lead.user_id).write({"stage_id": stage.id})

    def _wizard(self, leads, user=None, **vals):
        Wizard = (
            self.env["crm.lead.lost"]
            .with_user(user or self.salesman)
            .with_context(active_ids=leads.ids, active_model="crm.lead")
        )
        return Wizard.create({"lead_ids": [Command.set(leads.ids)], **vals})

    def _assert_still_open(self, lead):
        lead.invalidate_recordset()
        self.assertTrue(lead.active, "the opportunity was lost anyway")
        self.assertEqual(lead.probability, lead.stage_id.win_rate)
        self.assertFalse(lead.lost_reason_id)
        self.assertFalse(
            lead.stage_history_ids.filtered(lambda row: row.event == "lost"),
            "a loss was recorded",
        )

    @staticmethod
    def _is_lost(lead):
        """crm's own definition (the Lost filter): archived at probability 0."""
        return (
            lead.filtered_domain(
                [("active", "=", False), ("probability", "=", 0)]
            ).with_context(active_test=False)
            == lead
        )

    def _reports(self, lead):
        return self.env["crm.lead.loss.report"].search([("lead_id", "=", lead.id)])


@tagged("post_install", "-at_install")
class TestLossReportRequired(LossReportCase):
    """No opportunity is lost without a complete loss report, by any path."""

    def test_lost_wizard_refuses_an_incomplete_report(self):
        wizard = self._wizard(
            self.lead,
            lost_reason_id=self.reason_budget.id,
            customer_reason="Budget frozen.",
        )
        with self.assertRaises(UserError) as refusal:
            wizard.action_lost_reason_apply()
        self.assertIn("Our Analysis", str(refusal.exception))
        self.assertIn("How to Avoid It", str(refusal.exception))
        self._assert_still_open(self.lead)
        self.assertFalse(self._reports(self.lead))

    def test_lost_wizard_asks_for_the_competitor_when_the_reason_says_so(self):
        wizard = self._wizard(
            self.lead,
            **self._loss_report_vals(lost_reason_id=self.reason_competitor.id),
        )
        with self.assertRaises(UserError) as refusal:
            wizard.action_lost_reason_apply()
        self.assertIn("Winning Competitor", str(refusal.exception))
        self._assert_still_open(self.lead)

    def test_lost_wizard_with_a_complete_report(self):
        wizard = self._wizard(
            self.lead,
            **self._loss_report_vals(
                lost_reason_id=self.reason_competitor.id,
                competitor_id=self.competitor.id,
                competitor_price=88000.0,
                recontact_date=date(2031, 3, 1),
            ),
        )
        self.assertTrue(wizard.needs_loss_report)
        wizard.action_lost_reason_apply()
        lead = self.lead
        self.assertFalse(lead.active)
        self.assertEqual(lead.probability, 0)
        self.assertEqual(lead.lost_reason_id, self.reason_competitor)
        report = lead.loss_report_id
        self.assertEqual(report, self._reports(lead))
        self.assertEqual(report.stage_id, self.development, "lost at its stage")
        self.assertEqual(report.state, "to_review")
        self.assertTrue(report.date_lost)
        self.assertEqual(report.expected_revenue, 100000.0)
        self.assertEqual(report.competitor_id, self.competitor)
        self.assertEqual(report.competitor_price, 88000.0)
        self.assertEqual(report.analysis, "We never met the decision maker.")
        lost_rows = lead.stage_history_ids.filtered(lambda row: row.event == "lost")
        self.assertEqual(len(lost_rows), 1)

    def test_recontact_date_is_an_activity_for_the_salesperson(self):
        self._wizard(
            self.lead,
            user=self.manager,
            **self._loss_report_vals(recontact_date=date(2031, 3, 1)),
        ).action_lost_reason_apply()
        report = self.lead.loss_report_id
        activity = report.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.salesman, "the deal's salesperson")
        self.assertEqual(activity.date_deadline, date(2031, 3, 1))
        self.assertEqual(
            activity.activity_type_id,
            self.env.ref("sales_funnel.mail_activity_type_recontact"),
        )
        self.assertIn(self.partner.name, activity.summary)
        # A new date moves the activity, never adds a second one.
        report.with_user(self.salesman).recontact_date = date(2031, 4, 1)
        self.assertEqual(report.activity_ids.date_deadline, date(2031, 4, 1))
        self.assertEqual(len(report.activity_ids), 1)

    def test_lost_wizard_shows_the_report_already_started(self):
        self.env["crm.lead.loss.report"].with_user(self.salesman).create(
            {"lead_id": self.lead.id, "customer_reason": "Budget frozen."}
        )
        wizard = (
            self.env["crm.lead.lost"]
            .with_user(self.salesman)
            .with_context(default_lead_ids=self.lead.ids)
            .create({})
        )
        self.assertEqual(wizard.customer_reason, "Budget frozen.")
        wizard.write(self._loss_report_vals(customer_reason="Budget frozen."))
        wizard.action_lost_reason_apply()
        self.assertFalse(self.lead.active)
        self.assertEqual(len(self._reports(self.lead)), 1, "the same report, completed")

    def test_a_second_report_is_refused_by_name(self):
        Report = self.env["crm.lead.loss.report"].with_user(self.salesman)
        first = Report.create({"lead_id": self.lead.id, "customer_reason": "Budget."})
        lead2 = self._new_lead("Second deal", self.salesman)
        for vals_list in (
            [{"lead_id": self.lead.id}],
            [{"lead_id": lead2.id}, {"lead_id": lead2.id}],
        ):
            with self.assertRaisesRegex(UserError, "already has a loss report"):
                Report.create(vals_list)
        self.assertEqual(self._reports(self.lead), first)
        self.assertFalse(self._reports(lead2))

    def test_a_report_written_meanwhile_makes_odoo_run_the_request_again(self):
        # Two requests write a report for the same deal at once: the second
        # did not see the first when it checked. The database's index refuses
        # it, as a concurrency failure Odoo retries (not a raw error); the
        # retry finds the report and says so.
        Report = self.env["crm.lead.loss.report"].with_user(self.salesman)
        Report.create({"lead_id": self.lead.id})
        with patch.object(type(Report), "_check_no_open_report", lambda *a: None):
            with (
                self.assertRaises(errors.SerializationFailure),
                mute_logger("odoo.sql_db"),
                self.env.cr.savepoint(),
            ):
                Report.create({"lead_id": self.lead.id})
        with self.assertRaisesRegex(UserError, "already has a loss report"):
            Report.create({"lead_id": self.lead.id})

    def test_action_set_lost_through_rpc_is_refused_without_report(self):
        lead = self.lead.with_user(self.salesman)
        with self.assertRaises(UserError) as refusal:
            lead.action_set_lost(lost_reason_id=self.reason_budget.id)
        message = str(refusal.exception)
        self.assertIn("Substation retrofit", message)
        for label in ("Loss Reason", "Customer's Reason", "Our Analysis"):
            self.assertIn(label, message)
        self._assert_still_open(self.lead)

    def test_action_set_lost_with_a_report_created_first(self):
        Report = self.env["crm.lead.loss.report"].with_user(self.salesman)
        Report.create({"lead_id": self.lead.id, **self._loss_report_vals()})
        self.assertEqual(self.lead.loss_report_id.state, "draft")
        self.lead.with_user(self.salesman).action_set_lost(
            lost_reason_id=self.reason_budget.id
        )
        self.assertFalse(self.lead.active)
        self.assertEqual(self.lead.loss_report_id.state, "to_review")
        self.assertEqual(self.lead.loss_report_id.stage_id, self.development)

    def test_a_lost_reason_given_with_the_loss_is_the_reports(self):
        self.env["crm.lead.loss.report"].with_user(self.salesman).create(
            {"lead_id": self.lead.id, **self._loss_report_vals()}
        )
        other = self.env.ref("sales_funnel.crm_lost_reason_cancelled")
        self.lead.with_user(self.salesman).action_set_lost(lost_reason_id=other.id)
        self.assertEqual(self.lead.lost_reason_id, other)
        self.assertEqual(self.lead.loss_report_id.lost_reason_id, other)
        # A reason that names a competitor: the report must then name it.
        with self.assertRaises(ValidationError):
            self.lead.with_user(self.salesman).lost_reason_id = self.reason_competitor
        self.assertEqual(self.lead.loss_report_id.lost_reason_id, other)

    def test_archive_and_write_are_refused_without_report(self):
        lead = self.lead.with_user(self.salesman)
        for lose in (
            lead.action_archive,
            lead.toggle_active,
            lambda: lead.write({"active": False}),
        ):
            with self.assertRaises(UserError):
                lose()
            self._assert_still_open(self.lead)

    def test_several_deals_from_the_list(self):
        other = self._new_lead("Metering rollout", self.salesman, revenue=50000.0)
        leads = self.lead | other
        wizard = self._wizard(
            leads,
            **self._loss_report_vals(
                lost_reason_id=self.reason_competitor.id,
                competitor_id=self.competitor.id,
                competitor_price=88000.0,
            ),
        )
        self.assertTrue(wizard.several_opportunities)
        wizard.action_lost_reason_apply()
        self.assertFalse(any(leads.mapped("active")))
        reports = leads.loss_report_id
        self.assertEqual(len(reports), 2, "a report per deal")
        self.assertEqual(
            set(reports.mapped("analysis")), {"We never met the decision maker."}
        )
        self.assertEqual(reports.competitor_id, self.competitor)
        self.assertEqual(
            {(r.lead_id, r.stage_id, r.expected_revenue) for r in reports},
            {
                (self.lead, self.development, 100000.0),
                (other, self.verification, 50000.0),
            },
        )
        # The competitor's price is a figure of one deal: not copied.
        self.assertEqual(reports.mapped("competitor_price"), [0.0, 0.0])

    def test_several_deals_refused_all_stay_open(self):
        other = self._new_lead("Metering rollout", self.salesman)
        leads = (self.lead | other).with_user(self.salesman)
        with self.assertRaises(UserError) as refusal:
            leads.action_archive()
        self.assertIn("Substation retrofit", str(refusal.exception))
        self.assertIn("Metering rollout", str(refusal.exception))
        self._assert_still_open(self.lead)
        self._assert_still_open(other)

    def test_import_that_archives(self):
        Lead = self.env["crm.lead"].with_user(self.manager)
        result = Lead.load([".id", "active"], [[str(self.lead.id), "False"]])
        self.assertFalse(result["ids"])
        self.assertIn(
            "complete loss report", " ".join(m["message"] for m in result["messages"])
        )
        self._assert_still_open(self.lead)
        # The report comes in the same rows: "Loss Reports/…" columns.
        result = Lead.load(
            [
                ".id",
                "active",
                "loss_report_ids/lost_reason_id",
                "loss_report_ids/customer_reason",
                "loss_report_ids/analysis",
                "loss_report_ids/prevention",
            ],
            [
                [
                    str(self.lead.id),
                    "False",
                    self.reason_budget.name,
                    "Budget frozen.",
                    "No access to the decision maker.",
                    "Meet the decision maker early.",
                ]
            ],
        )
        self.assertEqual(result["ids"], [self.lead.id], result["messages"])
        self.assertFalse(self.lead.active)
        report = self.lead.loss_report_id
        self.assertEqual(report.customer_reason, "Budget frozen.")
        self.assertEqual(report.stage_id, self.development)
        self.assertEqual(report.state, "to_review")

    def test_created_lost_needs_its_report(self):
        Lead = self.env["crm.lead"].with_user(self.salesman)
        vals = {
            "name": "Old lost deal",
            "type": "opportunity",
            "partner_id": self.partner.id,
            "user_id": self.salesman.id,
            "active": False,
        }
        with self.assertRaises(UserError):
            Lead.create(vals)
        self.assertFalse(
            Lead.with_context(active_test=False).search(
                [("name", "=", "Old lost deal")]
            )
        )
        lead = Lead.create(
            {**vals, "loss_report_ids": [Command.create(self._loss_report_vals())]}
        )
        self.assertFalse(lead.active)
        self.assertEqual(lead.loss_report_id.state, "to_review")
        self.assertEqual(lead.loss_report_id.stage_id, lead.stage_id)

    def test_leads_archived_as_junk_need_no_report(self):
        junk = (
            self.env["crm.lead"]
            .with_user(self.salesman)
            .create(
                {"name": "Spam enquiry", "type": "lead", "user_id": self.salesman.id}
            )
        )
        junk.action_set_lost()
        self.assertFalse(junk.active)
        self.assertFalse(self._reports(junk))
        wizard = self._wizard(junk, lost_reason_id=self.reason_budget.id)
        self.assertFalse(wizard.needs_loss_report)


@tagged("post_install", "-at_install")
class TestLostStaysLost(LossReportCase):
    def setUp(self):
        super().setUp()
        self._lose(self.lead, recontact_date=date(2031, 3, 1))
        self.report = self.lead.loss_report_id

    def test_edits_never_reopen(self):
        lead = self.lead.with_user(self.salesman)
        lead.write(
            {
                "name": "Substation retrofit (phase 1)",
                "expected_revenue": 120000.0,
                "description": "Customer may come back next year.",
                "priority": "2",
            }
        )
        lead.invalidate_recordset()
        self.assertFalse(lead.active)
        self.assertEqual(lead.probability, 0)
        self.assertTrue(self._is_lost(lead))
        self.assertFalse(
            lead.stage_history_ids.filtered(lambda row: row.event == "restore")
        )
        # Neither back nor (criteria ticked, past the gate) forward.
        self._tick_all(self.lead)
        for stage in (self.verification, self.proposal):
            with self.assertRaises(UserError) as refusal:
                lead.write({"stage_id": stage.id})
            self.assertIn("Restore it first", str(refusal.exception))
        lead.invalidate_recordset()
        self.assertEqual(lead.stage_id, self.development)
        self.assertTrue(self._is_lost(lead))

    def test_restore_is_explicit_and_recorded(self):
        activity = self.report.activity_ids
        self.assertTrue(activity)
        self.lead.with_user(self.salesman).toggle_active()
        self.assertTrue(self.lead.active)
        restore = self.lead.stage_history_ids.filtered(
            lambda row: row.event == "restore"
        )
        self.assertEqual(len(restore), 1)
        self.assertEqual(restore.user_id, self.salesman)
        self.assertEqual(self.report.state, "restored")
        self.assertTrue(self.report.date_restored)
        self.assertFalse(activity.exists(), "no re-contact of a deal back in play")
        self.assertFalse(self.lead.loss_report_id)
        # Losing it again asks for a new report: the old loss is closed.
        with self.assertRaises(UserError):
            self.lead.with_user(self.salesman).action_set_lost()
        self.assertTrue(self.lead.active)
        self._lose(self.lead)
        self.assertEqual(len(self.lead.loss_report_ids), 2)

    def test_restore_by_write_and_unarchive(self):
        self.lead.with_user(self.salesman).write({"active": True})
        self.assertEqual(self.report.state, "restored")
        self._lose(self.lead)
        self.lead.with_user(self.salesman).action_unarchive()
        events = self.lead.stage_history_ids.mapped("event")
        self.assertEqual(events.count("restore"), 2)

    def test_the_report_of_a_lost_deal_stays(self):
        report = self.report.with_user(self.salesman)
        with self.assertRaises(ValidationError):
            report.analysis = "   "
        with self.assertRaises(UserError):
            report.unlink()
        with self.assertRaises(UserError):
            report.write({"stage_id": self.closing.id})
        with self.assertRaises(UserError):
            report.write({"date_lost": "2020-01-01 00:00:00"})
        self.assertEqual(report.stage_id, self.development)


@tagged("post_install", "-at_install")
class TestLossReview(LossReportCase):
    def setUp(self):
        super().setUp()
        self._lose(self.lead)
        self.report = self.lead.loss_report_id

    def test_to_review_filter_and_review(self):
        Report = self.env["crm.lead.loss.report"].with_user(self.manager)
        self.assertIn(self.report, Report.search([("state", "=", "to_review")]))
        with self.assertRaises(UserError):
            self.report.with_user(self.salesman).action_review()
        self.report.with_user(self.manager).action_review()
        self.assertEqual(self.report.state, "reviewed")
        self.assertEqual(self.report.reviewed_by_id, self.manager)
        self.assertTrue(self.report.reviewed_date)
        self.assertNotIn(self.report, Report.search([("state", "=", "to_review")]))

    def test_reviewed_is_immutable_but_the_comment(self):
        self.report.with_user(self.manager).action_review()
        for user in (self.salesman, self.manager):
            with self.assertRaises(UserError):
                self.report.with_user(user).analysis = "Rewritten afterwards."
            with self.assertRaises(UserError):
                self.report.with_user(user).lost_reason_id = self.reason_competitor
        with self.assertRaises(UserError):
            self.lead.with_user(self.manager).lost_reason_id = self.env.ref(
                "sales_funnel.crm_lost_reason_cancelled"
            )
        self.assertEqual(self.report.analysis, "We never met the decision maker.")
        self.report.with_user(self.manager).manager_comment = "Coach earlier."
        self.assertEqual(self.report.manager_comment, "Coach earlier.")
        with self.assertRaises(UserError):
            self.report.with_user(self.salesman).manager_comment = "Not my fault."
        with self.assertRaises(UserError):
            self.report.with_user(self.manager).action_review()

    def test_review_fields_are_not_written_by_hand(self):
        with self.assertRaises(UserError):
            self.report.with_user(self.salesman).write(
                {"reviewed_by_id": self.salesman.id}
            )
        self.assertEqual(self.report.state, "to_review")


@tagged("post_install", "-at_install")
class TestLossReportAccess(LossReportCase):
    def setUp(self):
        super().setUp()
        self._lose(self.lead)
        self.report = self.lead.loss_report_id

    def test_salesperson_sees_own_manager_all(self):
        Report = self.env["crm.lead.loss.report"]
        self.assertEqual(
            Report.with_user(self.salesman).search([("id", "=", self.report.id)]),
            self.report,
        )
        self.assertFalse(
            Report.with_user(self.salesman2).search([("id", "=", self.report.id)])
        )
        with self.assertRaises(AccessError):
            self.report.with_user(self.salesman2).read(["analysis"])
        with self.assertRaises(AccessError):
            Report.with_user(self.salesman2).create(
                {
                    "lead_id": self._new_lead("Theirs", self.salesman).id,
                    **self._loss_report_vals(),
                }
            )
        self.assertEqual(
            Report.with_user(self.manager).search([("id", "=", self.report.id)]),
            self.report,
        )

    def test_other_company_sees_nothing(self):
        other_company = self.env["res.company"].create({"name": "深圳分公司"})
        outsider = new_test_user(
            self.env,
            "sf_loss_outsider",
            groups="sales_team.group_sale_manager",
            company_id=other_company.id,
            company_ids=[Command.set(other_company.ids)],
        )
        self.assertFalse(
            self.env["crm.lead.loss.report"].with_user(outsider).search([])
        )


@tagged("post_install", "-at_install")
class TestLossAnalysis(LossReportCase):
    def test_why_where_to_whom(self):
        self.env["crm.lead.loss.report"].search([]).lead_id.unlink()
        deals = [
            ("A", self.verification, 10000.0, self.reason_budget, False),
            ("B", self.development, 20000.0, self.reason_competitor, True),
            ("C", self.development, 30000.0, self.reason_competitor, True),
            ("D", self.verification, 40000.0, self.reason_competitor, True),
        ]
        for name, stage, revenue, reason, competitor in deals:
            lead = self._new_lead(name, self.salesman, revenue=revenue)
            if stage != self.verification:
                self._tick_and_move(lead, stage)
            self._lose(
                lead,
                lost_reason_id=reason.id,
                competitor_id=competitor and self.competitor.id,
            )
        # Restored deals are not losses.
        back = self._new_lead("E", self.salesman, revenue=99999.0)
        self._lose(back)
        back.action_unarchive()
        groups = (
            self.env["crm.lead.loss.report"]
            .with_user(self.manager)
            ._read_group(
                [("state", "in", ("to_review", "reviewed"))],
                ["lost_reason_id", "stage_id", "competitor_id", "user_id"],
                ["__count", "expected_revenue:sum"],
            )
        )
        figures = {
            (reason, stage, competitor, user): (count, amount)
            for reason, stage, competitor, user, count, amount in groups
        }
        empty = self.env["res.partner"]
        self.assertEqual(
            figures,
            {
                (self.reason_budget, self.verification, empty, self.salesman): (
                    1,
                    10000.0,
                ),
                (
                    self.reason_competitor,
                    self.development,
                    self.competitor,
                    self.salesman,
                ): (2, 50000.0),
                (
                    self.reason_competitor,
                    self.verification,
                    self.competitor,
                    self.salesman,
                ): (1, 40000.0),
            },
        )
