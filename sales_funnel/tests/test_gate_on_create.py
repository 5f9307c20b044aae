from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestGateOnCreate(FunnelCase):
    """A new opportunity enters the funnel at the first stage: creating,
    importing or copying it into a later stage is held to the gate."""

    def _vals(self, name, stage=None, **extra):
        vals = {
            "name": name,
            "type": "opportunity",
            "partner_id": self.partner.id,
            "user_id": self.salesman.id,
            "expected_revenue": 50000.0,
        }
        if stage:
            vals["stage_id"] = stage.id
        vals.update(extra)
        return vals

    def _named(self, name):
        return (
            self.env["crm.lead"]
            .with_context(active_test=False)
            .search([("name", "=", name)])
        )

    def _assert_refused_for_criteria(self, message, stages):
        for stage in stages:
            self.assertIn(stage.name + ":", message)
            self.assertIn(self._required(stage)[0].name, message)
        self.assertIn(f"Create it in {self.verification.name}", message)

    # Salesperson: every path into a later stage is refused
    # ------------------------------------------------------------------

    def test_rpc_create_in_closing_refused(self):
        Lead = self.env["crm.lead"].with_user(self.salesman)
        with self.assertRaises(UserError) as refusal:
            Lead.create(self._vals("Closing at once", self.closing))
        self._assert_refused_for_criteria(
            str(refusal.exception),
            self.verification | self.development | self.proposal,
        )
        self.assertIn("“Closing at once”", str(refusal.exception))
        self.assertFalse(self._named("Closing at once"))
        # The same deal created in the first stage enters the funnel.
        deal = Lead.create(self._vals("Closing at once", self.verification))
        self.assertEqual(deal.stage_id, self.verification)
        self.assertEqual(deal.stage_history_ids.event, "create")
        self.assertFalse(deal.gate_override_ids)

    def test_create_in_won_refused_and_not_queued(self):
        queued = self.env["crm.lead"].search_count([("handoff_queued", "=", True)])
        Lead = self.env["crm.lead"].with_user(self.salesman)
        with self.assertRaises(UserError) as refusal:
            Lead.create(self._vals("Won at once", self.won))
        self._assert_refused_for_criteria(str(refusal.exception), self.stages)
        self.assertFalse(self._named("Won at once"))
        self.assertEqual(
            self.env["crm.lead"].search_count([("handoff_queued", "=", True)]), queued
        )

    def test_kanban_quick_create_in_later_column_refused(self):
        Lead = (
            self.env["crm.lead"]
            .with_user(self.salesman)
            .with_context(
                default_stage_id=self.development.id, default_type="opportunity"
            )
        )
        with self.assertRaises(UserError) as refusal:
            Lead.name_create("Quick card")
        self._assert_refused_for_criteria(str(refusal.exception), self.verification)
        with self.assertRaises(UserError):
            Lead.create({"name": "Quick card"})
        self.assertFalse(self._named("Quick card"))
        # The first column still takes quick cards, and a lead needs no stage.
        first = Lead.with_context(default_stage_id=self.verification.id)
        card = first.browse(first.name_create("Quick card")[0])
        self.assertEqual(card.stage_id, self.verification)
        Lead = self.env["crm.lead"].with_user(self.salesman)
        lead = Lead.browse(
            Lead.with_context(default_type="lead").name_create("Just a lead")[0]
        )
        self.assertEqual(lead.type, "lead")
        self.assertFalse((card | lead).gate_override_ids)

    def test_import_of_new_row_refused(self):
        result = (
            self.env["crm.lead"]
            .with_user(self.salesman)
            .load(
                ["name", "type", "stage_id/id", "expected_revenue"],
                [
                    [
                        "Old deal A",
                        "opportunity",
                        "sales_funnel.crm_stage_verification",
                        "1000",
                    ],
                    [
                        "Old deal B",
                        "opportunity",
                        "sales_funnel.crm_stage_proposal",
                        "2000",
                    ],
                ],
            )
        )
        self.assertFalse(result["ids"])
        errors = " ".join(m["message"] for m in result["messages"])
        self.assertIn("Old deal B", errors)
        self.assertIn(self._required(self.development)[0].name, errors)
        self.assertFalse(self._named("Old deal A") | self._named("Old deal B"))

    def test_copy_lands_in_first_stage_or_is_gated(self):
        deal = self._new_lead("Proposal deal", self.salesman, self.proposal)
        deal = deal.with_user(self.salesman)
        # Duplicated from a kanban column (its default stage in the context).
        copy = deal.with_context(default_stage_id=self.proposal.id).copy()
        self.assertEqual(copy.stage_id, self.verification)
        self.assertEqual(copy.probability, 10)
        self.assertEqual(
            copy.current_criterion_ids.criterion_id, self.verification.criterion_ids
        )
        self.assertFalse(copy.gate_override_ids)
        # Asking for the stage of the original is held to the gate.
        with self.assertRaises(UserError) as refusal:
            deal.copy({"name": "Proposal deal (copy)", "stage_id": self.proposal.id})
        self._assert_refused_for_criteria(
            str(refusal.exception), self.verification | self.development
        )
        self.assertFalse(self._named("Proposal deal (copy)"))

    # Sales manager: a later stage with a written reason, kept as an override
    # ------------------------------------------------------------------

    def test_manager_creates_in_later_stage_with_reason(self):
        Lead = self.env["crm.lead"].with_user(self.manager)
        deal = Lead.create(
            self._vals(
                "From the old CRM",
                self.closing,
                gate_override_reason="  Loaded from the old CRM (stage Closing)  ",
            )
        )
        self.assertEqual(deal.stage_id, self.closing)
        self.assertEqual(deal.probability, 80)
        override = deal.gate_override_ids
        self.assertEqual(len(override), 1)
        self.assertEqual(override.user_id, self.manager)
        self.assertFalse(override.from_stage_id)
        self.assertEqual(override.to_stage_id, self.closing)
        self.assertEqual(override.reason, "Loaded from the old CRM (stage Closing)")
        self.assertEqual(
            override.missing_criterion_ids,
            self._required(self.verification)
            | self._required(self.development)
            | self._required(self.proposal),
        )
        self.assertIn(self._required(self.proposal)[0].name, override.missing_criteria)
        history = deal.stage_history_ids
        self.assertEqual(history.event, "create")
        self.assertEqual(history.to_stage_id, self.closing)
        self.assertEqual(history.override_id, override)
        self.assertIn("Loaded from the old CRM", deal.message_ids[0].body)

    def test_manager_imports_rows_into_later_stages_with_reason(self):
        reason = "Migration from the old system, 2025 pipeline"
        # The column is offered to managers only.
        Lead = self.env["crm.lead"]
        self.assertIn("gate_override_reason", Lead.with_user(self.manager).fields_get())
        self.assertNotIn(
            "gate_override_reason", Lead.with_user(self.salesman).fields_get()
        )
        result = (
            self.env["crm.lead"]
            .with_user(self.manager)
            .load(
                ["name", "type", "stage_id/id", "gate_override_reason"],
                [
                    ["Old A", "opportunity", "sales_funnel.crm_stage_proposal", reason],
                    ["Old B", "opportunity", "sales_funnel.crm_stage_won", reason],
                    ["Old C", "opportunity", "sales_funnel.crm_stage_verification", ""],
                ],
            )
        )
        self.assertFalse(result["messages"])
        deals = self.env["crm.lead"].browse(result["ids"])
        self.assertEqual(
            deals.mapped("stage_id"), self.proposal | self.won | self.verification
        )
        old_a, old_b, old_c = deals
        self.assertEqual(old_a.gate_override_ids.reason, reason)
        self.assertEqual(
            old_a.gate_override_ids.missing_criterion_ids,
            self._required(self.verification) | self._required(self.development),
        )
        self.assertEqual(old_b.gate_override_ids.to_stage_id, self.won)
        self.assertTrue(old_b.handoff_queued)
        self.assertFalse(old_c.gate_override_ids)
        self.assertEqual(old_a.stage_history_ids.override_id, old_a.gate_override_ids)

    def test_manager_without_reason_refused(self):
        Lead = self.env["crm.lead"].with_user(self.manager)
        for reason in (False, "", "   "):
            with self.assertRaises(UserError) as refusal:
                Lead.create(
                    self._vals("No reason", self.proposal, gate_override_reason=reason)
                )
            self.assertIn("Gate Override Reason", str(refusal.exception))
        self.assertFalse(self._named("No reason"))

    def test_salesperson_reason_refused(self):
        overrides = self.env["crm.stage.gate.override"].search_count([])
        Lead = self.env["crm.lead"].with_user(self.salesman)
        with self.assertRaises(UserError) as refusal:
            Lead.create(
                self._vals("Trust me", self.closing, gate_override_reason="Trust me")
            )
        self.assertIn("Only sales managers", str(refusal.exception))
        result = Lead.load(
            ["name", "type", "stage_id/id", "gate_override_reason"],
            [["Trust me", "opportunity", "sales_funnel.crm_stage_closing", "Trust me"]],
        )
        self.assertFalse(result["ids"])
        self.assertFalse(self._named("Trust me"))
        self.assertEqual(
            self.env["crm.stage.gate.override"].search_count([]), overrides
        )

    def test_gate_on_create_does_not_grow_with_the_rows(self):
        Lead = self.env["crm.lead"].with_user(self.manager)

        def queries(count):
            vals_list = [
                self._vals(f"Row {n}", self.closing, gate_override_reason="Old system")
                for n in range(count)
            ]
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            pending = Lead._check_gate_on_create(vals_list)
            self.assertTrue(all(pending))
            return self.env.cr.sql_log_count - before

        queries(2)  # warm the caches
        self.assertEqual(queries(500), queries(5))
