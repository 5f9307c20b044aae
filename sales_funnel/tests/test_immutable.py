import re

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.base.models.ir_model import MODULE_UNINSTALL_FLAG

from .common import HandoffCase


@tagged("post_install", "-at_install")
class TestImmutable(HandoffCase):
    """One rule for the records kept as they were recorded (history, overrides,
    hand-off attempts, snapshots, submitted forecasts, win-rate calibrations):
    the addon's own flow writes them; the salesperson, the manager and the
    administrator meet the same refusal when they try to create, change or
    delete one by hand."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.env.ref("base.user_admin")

    def _refused(self, records):
        """The refusal, naming the kind of record, in the user's language."""
        model = self.env["ir.model"]._get(records._name).name
        return self.assertRaisesRegex(
            UserError,
            re.escape(f"{model} records are kept as they were recorded"),
        )

    def _as_everyone(self, records):
        """``records`` as the salesperson, the manager, the administrator and
        the superuser see them."""
        users = (self.salesman, self.manager, self.admin)
        return [records.with_user(user) for user in users] + [records.sudo()]

    def _assert_kept(self, records, vals):
        """Nobody changes or deletes ``records``; they stay as recorded."""
        self.assertTrue(records)
        before = records.read(list(vals))
        for seen in self._as_everyone(records):
            with self._refused(records):
                seen.write(vals)
            with self._refused(records):
                seen.unlink()
        records.invalidate_recordset()
        self.assertEqual(records.exists(), records)
        self.assertEqual(records.read(list(vals)), before)

    def _assert_not_created(self, model, vals):
        """Nobody creates a ``model`` record by hand."""
        Model = self.env[model]
        count = Model.sudo().search_count([])
        for seen in self._as_everyone(Model):
            with self._refused(Model):
                seen.create(vals)
        self.assertEqual(Model.sudo().search_count([]), count)

    def _delete_opportunity(self, lead):
        """The manager deletes an opportunity: its records go with it."""
        lead.with_user(self.manager).unlink()
        self.assertFalse(lead.exists())

    def test_stage_change_writes_history_kept_as_recorded(self):
        self._tick_all(self.lead)
        self.lead.with_user(self.salesman).write({"stage_id": self.development.id})
        rows = self.lead.stage_history_ids
        self.assertEqual(rows.mapped("event"), ["forward", "create"])
        self._assert_kept(rows, {"win_rate": 99, "to_stage_id": self.closing.id})
        self._assert_not_created(
            "crm.lead.stage.history", {"lead_id": self.lead.id, "event": "won"}
        )
        self._delete_opportunity(self.lead)
        self.assertFalse(rows.exists())

    def test_gate_override_kept_as_decided(self):
        wizard = (
            self.env["crm.stage.gate.override.wizard"]
            .with_user(self.manager)
            .create(
                {
                    "lead_id": self.lead.id,
                    "stage_id": self.proposal.id,
                    "reason": "Framework agreement signed at group level",
                }
            )
        )
        wizard.action_confirm()
        override = self.lead.gate_override_ids
        self.assertEqual(len(override), 1)
        self.assertEqual(override.user_id, self.manager)
        self.assertEqual(self.lead.stage_id, self.proposal)
        self._assert_kept(override, {"reason": "Nothing to see here"})
        # Not even a sales manager records an override without moving the deal.
        self._assert_not_created(
            "crm.stage.gate.override",
            {"lead_id": self.lead.id, "reason": "Backdated approval"},
        )
        self._delete_opportunity(self.lead)
        self.assertFalse(override.exists())

    def test_handoff_attempts_kept_as_a_log(self):
        self._win(self.deal)
        self.env["crm.lead"]._cron_handoff()
        attempt = self.deal.handoff_attempt_ids
        self.assertEqual(attempt.status, "2")
        self._assert_kept(attempt, {"status": "-1", "message_text": "Forged"})
        self._assert_not_created(
            "crm.lead.handoff.attempt",
            {"lead_id": self.deal.id, "user_id": self.manager.id, "status": "2"},
        )
        # A deal whose hand-off failed (nothing created) may still be deleted.
        lead = self._new_lead("No lines", self.salesman, self.closing)
        self._win(lead)
        self.env["crm.lead"]._cron_handoff()
        failed = lead.handoff_attempt_ids
        self.assertEqual(failed.status, "-1")
        self._delete_opportunity(lead)
        self.assertFalse(failed.exists())

    def test_snapshots_taken_and_evaluated_by_the_cron_only(self):
        self.company.sales_funnel_snapshot_day = 1
        Snapshot = self.env["crm.forecast.snapshot"]
        with self._at("2031-11-01 08:00:00"):
            Snapshot._cron_forecast_snapshots()
        december = Snapshot.search(
            [("company_id", "=", self.company.id), ("date_from", "=", "2031-12-01")]
        )
        self.assertTrue(december)
        self.assertEqual(set(december.mapped("state")), {"pending"})
        with self._at("2032-01-02 08:00:00"):
            Snapshot._cron_forecast_snapshots()
        self.assertEqual(set(december.mapped("state")), {"evaluated"})
        self._assert_kept(december, {"system_amount": 1, "state": "pending"})
        self._assert_not_created(
            "crm.forecast.snapshot",
            {
                "snapshot_date": "2031-11-01",
                "company_id": self.company.id,
                "level": "company",
                "period_type": "month",
                "date_from": "2031-12-01",
                "date_to": "2031-12-31",
            },
        )

    def test_forecast_mutable_while_draft_kept_once_submitted(self):
        Submission = self.env["crm.forecast.submission"].with_user(self.salesman)
        with self._at("2031-11-15 10:00:00"):
            draft = Submission.create({"period_type": "month"})
            Submission.create({"period_type": "quarter"}).unlink()
            draft.write({"amount": 1000, "comment": "Budget confirmed"})
            draft.action_submit()
        self.assertEqual(draft.state, "submitted")
        self.assertEqual(draft.amount, 1000)
        self._assert_kept(draft, {"amount": 1, "comment": "oops"})
        for seen in self._as_everyone(draft):
            with self._refused(draft):
                seen.action_submit()
        # Submitting means action_submit: no forecast is created as submitted...
        with self._refused(draft):
            Submission.create({"period_type": "month", "state": "submitted"})
        # ...and a submitted one is duplicated into a new draft.
        copy = draft.with_user(self.salesman).copy()
        self.assertEqual((copy.state, copy.submit_date), ("draft", False))

    def test_win_rate_calibrations_kept_as_adopted(self):
        self.verification.with_user(self.manager).action_adopt_historical_win_rate()
        log = self.verification.win_rate_log_ids
        self.assertEqual(len(log), 1)
        self.assertEqual(log.user_id, self.manager)
        self.assertEqual(log.new_win_rate, self.verification.win_rate)
        self._assert_kept(log, {"new_win_rate": 50, "won_count": 3})
        # Not even a sales manager logs a calibration without adopting it.
        self._assert_not_created(
            "crm.stage.win.rate.log",
            {"stage_id": self.verification.id, "new_win_rate": 50},
        )
        # Uninstalling the addon removes them.
        log.with_context(**{MODULE_UNINSTALL_FLAG: True}).unlink()
        self.assertFalse(log.exists())

    def test_opportunity_does_not_rewrite_its_history(self):
        self._tick_all(self.lead)
        self.lead.with_user(self.salesman).write(
            {"stage_id": self.development.id, "name": "Substation retrofit II"}
        )
        rows = self.lead.stage_history_ids
        with self._refused(rows):
            self.lead.with_user(self.manager).write(
                {"stage_history_ids": [Command.update(rows[0].id, {"win_rate": 1})]}
            )
        self.assertEqual(self.lead.stage_history_ids, rows)
