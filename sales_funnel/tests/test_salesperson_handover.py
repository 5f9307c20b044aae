from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged

from .common import FunnelCase, HandoffCase


class HandoverCase(FunnelCase):
    """Li Na leaves: her deals in two teams and for two customers, a lost deal,
    activities, targets (ended, current, next month) and forecasts."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.leaving = cls.salesman
        cls.colleague = cls.salesman2
        cls.colleague2 = new_test_user(
            cls.env, "sf_ho_sales3", groups="sales_team.group_sale_salesman"
        )
        cls.east = cls.env["crm.team"].create(
            {
                "name": "East China",
                "member_ids": [
                    Command.set((cls.leaving | cls.colleague | cls.colleague2).ids)
                ],
            }
        )
        cls.north = cls.env["crm.team"].create(
            {"name": "North China", "member_ids": [Command.set(cls.leaving.ids)]}
        )
        cls.partner2 = cls.env["res.partner"].create(
            {"name": "北京京能电力股份有限公司", "is_company": True}
        )
        cls.lead.team_id = cls.east
        # Past its gate: placed in Proposal without the earlier criteria.
        cls.lead2 = cls._new_lead("Grid automation", cls.leaving, cls.proposal, 250000)
        cls.lead2.write({"team_id": cls.north.id, "partner_id": cls.partner2.id})
        cls.pool_lead = cls.env["crm.lead"].create(
            {
                "name": "Inbound enquiry",
                "type": "lead",
                "user_id": cls.leaving.id,
                "team_id": cls.east.id,
                "partner_id": cls.partner.id,
            }
        )
        cls.lost = cls._new_lead("Lost cable tender", cls.leaving)
        cls.other = cls._new_lead("Colleague's own deal", cls.colleague)
        cls.activity = cls.lead.activity_schedule(
            "mail.mail_activity_data_todo",
            summary="Call the buyer",
            user_id=cls.leaving.id,
        )
        cls.partner_activity = cls.partner2.activity_schedule(
            "mail.mail_activity_data_todo",
            summary="Send the catalogue",
            user_id=cls.leaving.id,
        )
        today = fields.Date.context_today(cls.env["crm.lead"])
        Target = cls.env["crm.sales.target"]
        cls.past_target = Target.create(
            {
                "user_id": cls.leaving.id,
                "period_type": "month",
                "period_date": today - relativedelta(months=2),
                "amount": 10000,
            }
        )
        cls.current_target = Target.create(
            {
                "user_id": cls.leaving.id,
                "period_type": "month",
                "period_date": today,
                "amount": 30000,
            }
        )
        cls.next_target = Target.create(
            {
                "user_id": cls.leaving.id,
                "period_type": "month",
                "period_date": today + relativedelta(months=1),
                "amount": 40000,
            }
        )
        cls.colleague_next_target = Target.create(
            {
                "user_id": cls.colleague.id,
                "period_type": "month",
                "period_date": today + relativedelta(months=1),
                "amount": 5000,
            }
        )
        Forecast = cls.env["crm.forecast.submission"]
        cls.draft_forecast = Forecast.with_user(cls.leaving).create(
            {"period_type": "month"}
        )
        cls.submitted_forecast = Forecast.with_user(cls.leaving).create(
            {"period_type": "quarter"}
        )
        cls.submitted_forecast.with_user(cls.leaving).action_submit()

    def setUp(self):
        super().setUp()
        self._lose(self.lost)

    def _wizard(self, user=None, **vals):
        return (
            self.env["crm.salesperson.handover.wizard"]
            .with_user(user or self.manager)
            .create({"user_id": self.leaving.id, **vals})
        )

    @staticmethod
    def _line(wizard_or_handover, record):
        return wizard_or_handover.line_ids.filtered(
            lambda line: (line.res_model, line.res_id) == (record._name, record.id)
        )

    def _handovers(self):
        return self.env["crm.salesperson.handover"].search(
            [("user_id", "=", self.leaving.id)]
        )

    def _owner_of(self, record):
        record.invalidate_recordset()
        return record.sudo().user_id


@tagged("post_install", "-at_install")
class TestSalespersonHandover(HandoverCase):
    def test_lists_what_she_owns(self):
        wizard = self._wizard()
        listed = {(line.kind, line.res_model, line.res_id) for line in wizard.line_ids}
        expected = {
            ("opportunity", "crm.lead", self.lead.id),
            ("opportunity", "crm.lead", self.lead2.id),
            ("lead", "crm.lead", self.pool_lead.id),
            ("activity", "mail.activity", self.activity.id),
            ("activity", "mail.activity", self.partner_activity.id),
            ("target", "crm.sales.target", self.current_target.id),
            ("target", "crm.sales.target", self.next_target.id),
            ("forecast", "crm.forecast.submission", self.draft_forecast.id),
        }
        self.assertLessEqual(expected, listed)
        records = {(model, res_id) for _kind, model, res_id in listed}
        for kept in (self.lost, self.other, self.past_target, self.submitted_forecast):
            self.assertNotIn(
                (kept._name, kept.id), records, f"{kept.display_name} stays"
            )
        line = self._line(wizard, self.lead2)
        self.assertEqual(line.amount, 250000)
        self.assertEqual(line.team_id, self.north)
        self.assertEqual(line.partner_id, self.partner2)

    def test_all_to_one_colleague(self):
        history_before = self.lead2.stage_history_ids
        wizard = self._wizard(target_user_id=self.colleague.id, note="Buyer is Mr Wang")
        action = wizard.action_confirm()
        handover = self.env["crm.salesperson.handover"].browse(action["res_id"])
        for record in (self.lead, self.lead2, self.pool_lead, self.draft_forecast):
            self.assertEqual(self._owner_of(record), self.colleague, str(record))
        self.assertEqual(self.activity.user_id, self.colleague)
        self.assertEqual(self.partner_activity.user_id, self.colleague)
        self.assertEqual(self._owner_of(self.current_target), self.colleague)
        self.assertEqual(self.draft_forecast.submitter_id, self.colleague)
        # The deals stay in their team and stage: only the owner changed.
        self.assertEqual(self.lead2.team_id, self.north)
        self.assertEqual(self.lead2.stage_id, self.proposal)
        self.assertEqual(self.lead2.stage_history_ids, history_before)
        # Her target of next month is added to the colleague's own.
        self.assertFalse(self.next_target.exists())
        self.assertEqual(self.colleague_next_target.amount, 45000)
        # What stays hers: the past, the lost deal, the submitted forecast.
        self.assertEqual(self._owner_of(self.past_target), self.leaving)
        self.assertEqual(self._owner_of(self.lost), self.leaving)
        self.assertEqual(self._owner_of(self.submitted_forecast), self.leaving)
        self.assertEqual(self._owner_of(self.other), self.colleague)
        # The hand-over lists what went to whom.
        self.assertEqual(handover.user_id, self.leaving)
        self.assertEqual(handover.manager_id, self.manager)
        self.assertEqual(handover.note, "Buyer is Mr Wang")
        self.assertEqual(handover.line_ids.from_user_id, self.leaving)
        self.assertEqual(handover.line_ids.to_user_id, self.colleague)
        line = self._line(handover, self.lead2)
        self.assertEqual(
            (line.kind, line.name, line.amount),
            ("opportunity", "Grid automation", 250000),
        )
        merged = handover.line_ids.filtered(
            lambda line: line.res_model == "crm.sales.target" and line.amount == 40000
        )
        self.assertIn("Added to the colleague's own target", merged.note)
        # A note on each deal handed over.
        note = self.lead2.message_ids.filtered(
            lambda message: handover.name in (message.body or "")
        )
        self.assertTrue(note, "a chatter note on the deal handed over")
        self.assertIn(self.colleague.name, note.body)

    def test_reassignment_skips_the_gate_and_loss_rules(self):
        # Grid automation sits in Proposal, its criteria not ticked: the gate
        # refuses to move it on; the lost deal has its loss report.
        with self.assertRaises(UserError):
            self.lead2.with_user(self.leaving).write({"stage_id": self.closing.id})
        report = self.lost.loss_report_id
        rows = self.env["crm.lead.stage.history"].search_count([])
        self._wizard(target_user_id=self.colleague.id).action_confirm()
        self.assertEqual(self._owner_of(self.lead2), self.colleague)
        self.assertEqual(self.lead2.stage_id, self.proposal)
        self.assertFalse(self.lost.active, "still lost")
        self.assertEqual(self.lost.loss_report_id, report)
        self.assertEqual(
            self.env["crm.lead.stage.history"].search_count([]), rows, "no move"
        )

    def test_split_by_team(self):
        wizard = self._wizard(mode="team", target_user_id=self.colleague.id)
        self.assertEqual(wizard.split_ids.team_id, self.east | self.north)
        wizard.split_ids.filtered(
            lambda s: s.team_id == self.north
        ).user_id = self.colleague2
        wizard.action_confirm()
        self.assertEqual(self._owner_of(self.lead2), self.colleague2)
        self.assertEqual(self._owner_of(self.lead), self.colleague)
        self.assertEqual(self._owner_of(self.pool_lead), self.colleague)
        self.assertEqual(self.activity.user_id, self.colleague, "follows its deal")
        # Nothing of a team: to the colleague of the hand-over.
        self.assertEqual(self._owner_of(self.current_target), self.colleague)
        handover = self._handovers()
        self.assertEqual(handover.mode, "team")
        self.assertEqual(handover.recipient_ids, self.colleague | self.colleague2)

    def test_split_by_customer(self):
        wizard = self._wizard(mode="customer", target_user_id=self.colleague.id)
        self.assertEqual(wizard.split_ids.partner_id, self.partner | self.partner2)
        wizard.split_ids.filtered(
            lambda s: s.partner_id == self.partner
        ).user_id = self.colleague2
        # A line the manager changes by hand before confirming.
        self._line(wizard, self.current_target).to_user_id = self.colleague2
        wizard.action_confirm()
        self.assertEqual(self._owner_of(self.lead), self.colleague2)
        self.assertEqual(self._owner_of(self.pool_lead), self.colleague2)
        self.assertEqual(self._owner_of(self.lead2), self.colleague)
        self.assertEqual(self.partner_activity.user_id, self.colleague, "partner2's")
        self.assertEqual(self._owner_of(self.current_target), self.colleague2)
        self.assertEqual(self._owner_of(self.draft_forecast), self.colleague)

    def test_split_in_the_form(self):
        """The manager's screen: pick her, split by team, change a line."""
        form = Form(self.env["crm.salesperson.handover.wizard"].with_user(self.manager))
        form.user_id = self.leaving
        form.target_user_id = self.colleague
        form.mode = "team"
        self.assertEqual(len(form.split_ids), 2)
        for index in range(len(form.split_ids)):
            with form.split_ids.edit(index) as split:
                if split.team_id == self.north:
                    split.user_id = self.colleague2
        for index in range(len(form.line_ids)):
            with form.line_ids.edit(index) as line:
                if (line.res_model, line.res_id) == ("crm.lead", self.lead2.id):
                    self.assertEqual(line.to_user_id, self.colleague2)
                if (line.res_model, line.res_id) == ("crm.lead", self.pool_lead.id):
                    line.to_user_id = self.colleague2
        form.save().action_confirm()
        self.assertEqual(self._owner_of(self.lead2), self.colleague2)
        self.assertEqual(self._owner_of(self.pool_lead), self.colleague2)
        self.assertEqual(self._owner_of(self.lead), self.colleague)

    def test_refusals_change_nothing(self):
        archived = new_test_user(
            self.env, "sf_ho_gone", groups="sales_team.group_sale_salesman"
        )
        archived.active = False
        other_company = self.env["res.company"].create({"name": "Beijing Branch"})
        outsider = new_test_user(
            self.env,
            "sf_ho_outsider",
            groups="sales_team.group_sale_salesman",
            company_id=other_company.id,
            company_ids=[Command.set(other_company.ids)],
        )
        cases = [
            ({}, "Choose the colleague"),
            ({"target_user_id": self.leaving.id}, "salesperson who leaves"),
            ({"target_user_id": archived.id}, "archived"),
            ({"target_user_id": outsider.id}, "does not work for"),
        ]
        for vals, message in cases:
            with self.subTest(message=message):
                wizard = self._wizard(**vals)
                with self.assertRaisesRegex(UserError, message):
                    wizard.action_confirm()
                for record in (self.lead, self.lead2, self.current_target):
                    self.assertEqual(self._owner_of(record), self.leaving)
                self.assertTrue(self.next_target.exists())
                self.assertEqual(self.activity.user_id, self.leaving)
                self.assertFalse(self._handovers())
        # A split line without anyone, and no colleague of the hand-over.
        wizard = self._wizard(mode="team")
        wizard.split_ids.filtered(
            lambda s: s.team_id == self.north
        ).user_id = self.colleague
        with self.assertRaisesRegex(UserError, "Choose the colleague"):
            wizard.action_confirm()
        self.assertEqual(self._owner_of(self.lead2), self.leaving)

    def test_salesperson_cannot_hand_over(self):
        with self.assertRaises(AccessError):
            self._wizard(user=self.colleague, target_user_id=self.colleague.id)
        self.assertEqual(self._owner_of(self.lead), self.leaving)

    def test_history_keeps_the_previous_owner(self):
        self._tick_all(self.lead)
        self.lead.with_user(self.leaving).write({"stage_id": self.development.id})
        self._wizard(target_user_id=self.colleague.id).action_confirm()
        history = self.lead.stage_history_ids
        self.assertEqual(
            set(history.mapped("event")), {"create", "forward"}, "no row of its own"
        )
        self.assertEqual(history.salesperson_id, self.leaving)
        # Moved on by the colleague: the new row names the colleague.
        self._tick_all(self.lead, self.colleague)
        self.lead.with_user(self.colleague).write({"stage_id": self.proposal.id})
        latest = self.lead.stage_history_ids.sorted("id")[-1]
        self.assertEqual(latest.salesperson_id, self.colleague)
        self.assertEqual(
            self.lead.stage_history_ids.filtered(
                lambda row: row.to_stage_id != self.proposal
            ).salesperson_id,
            self.leaving,
        )
        # The hand-over line says who owned it.
        line = self._line(self._handovers(), self.lead)
        self.assertEqual(line.from_user_id, self.leaving)

    def test_handover_is_kept_as_done(self):
        self._wizard(target_user_id=self.colleague.id).action_confirm()
        handover = self._handovers().with_user(self.manager)
        with self.assertRaisesRegex(UserError, "kept as they were recorded"):
            handover.write({"mode": "team"})
        with self.assertRaisesRegex(UserError, "kept as they were recorded"):
            handover.line_ids[:1].write({"to_user_id": self.colleague2.id})
        with self.assertRaisesRegex(UserError, "kept as they were recorded"):
            handover.unlink()
        handover.note = "Mr Wang retires in May"
        self.assertEqual(handover.note, "Mr Wang retires in May")
        # The colleagues read it; the leaving salesperson reads hers.
        self.assertEqual(
            self.env["crm.salesperson.handover"].with_user(self.colleague).search([]),
            handover,
        )
        self.assertFalse(
            self.env["crm.salesperson.handover"].with_user(self.colleague2).search([])
        )


@tagged("post_install", "-at_install")
class TestHandoverArchive(HandoverCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.branch = cls.env["res.company"].create({"name": "Beijing Branch"})
        cls.leaving.company_ids |= cls.branch
        cls.branch_lead = cls.env["crm.lead"].create(
            {
                "name": "Beijing substation",
                "type": "opportunity",
                "user_id": cls.leaving.id,
                "company_id": cls.branch.id,
                "team_id": False,
                "stage_id": cls.verification.id,
            }
        )

    def test_only_the_managers_companies(self):
        wizard = self._wizard(target_user_id=self.colleague.id)
        self.assertNotIn(self.branch_lead.id, wizard.line_ids.mapped("res_id"))
        wizard.action_confirm()
        self.assertEqual(self._owner_of(self.branch_lead), self.leaving)

    def test_archive_refused_while_something_is_left(self):
        self._wizard(target_user_id=self.colleague.id).action_confirm()
        handover = self._handovers().with_user(self.manager)
        with self.assertRaisesRegex(UserError, "Beijing substation"):
            handover.action_archive_user()
        self.assertTrue(self.leaving.active)
        self.assertFalse(handover.user_archived_date)
        # The same, asked in the wizard: nothing is handed over either.
        colleague_in_branch = self.colleague
        colleague_in_branch.company_ids |= self.branch
        self.manager.company_ids |= self.branch
        wizard = self._wizard(target_user_id=self.colleague.id, archive_user=True)
        self.assertIn(self.branch_lead.id, wizard.line_ids.mapped("res_id"))
        self.env["mail.activity"].create(
            {
                "res_model_id": self.env["ir.model"]._get_id("res.partner"),
                "res_id": self.partner.id,
                "user_id": self.leaving.id,
                "summary": "Planned after the wizard was opened",
            }
        )
        # Refused after the reassignment: the transaction is rolled back.
        with self.assertRaises(UserError) as refusal:
            wizard.action_confirm()
        self.assertIn("Planned after the wizard", str(refusal.exception))
        self.assertEqual(self._owner_of(self.branch_lead), self.leaving)
        self.assertTrue(self.leaving.active)

    def test_archive_after_everything_is_handed_over(self):
        self._wizard(target_user_id=self.colleague.id).action_confirm()
        # In the branch, once the manager works there too.
        self.manager.company_ids |= self.branch
        self.colleague.company_ids |= self.branch
        self._wizard(target_user_id=self.colleague.id).action_confirm()
        self.assertEqual(self._owner_of(self.branch_lead), self.colleague)
        handover = self._handovers().sorted("id")[-1].with_user(self.manager)
        handover.action_archive_user()
        self.assertFalse(self.leaving.active)
        self.assertTrue(handover.user_archived_date)
        # The lost deal and the past keep their owner.
        self.assertEqual(self._owner_of(self.lost), self.leaving)

    def test_salesperson_cannot_archive(self):
        self.manager.company_ids |= self.branch
        self.colleague.company_ids |= self.branch
        self._wizard(target_user_id=self.colleague.id).action_confirm()
        handover = self._handovers().with_user(self.colleague)
        with self.assertRaises(AccessError):
            handover.action_archive_user()
        self.assertTrue(self.leaving.active)


@tagged("post_install", "-at_install")
class TestHandoverOfWonDeals(HandoffCase):
    """A won deal still waiting for its hand-off to orders is handed over too:
    the hand-off maps the colleague, after the account is archived."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team.member_ids |= cls.salesman2
        cls.lead.unlink()

    def test_won_deal_transmittable_after_archive(self):
        self._win(self.deal)
        self.assertTrue(self.deal.handoff_queued)
        wizard = (
            self.env["crm.salesperson.handover.wizard"]
            .with_user(self.manager)
            .create({"user_id": self.salesman.id, "target_user_id": self.salesman2.id})
        )
        line = wizard.line_ids.filtered(
            lambda line: (line.res_model, line.res_id) == ("crm.lead", self.deal.id)
        )
        self.assertEqual(line.kind, "won_deal")
        handover = self.env["crm.salesperson.handover"].browse(
            wizard.action_confirm()["res_id"]
        )
        handover.with_user(self.manager).action_archive_user()
        self.assertFalse(self.salesman.active)
        self.assertEqual(self.deal.stage_id, self.won, "still won")
        self.env["crm.lead"]._cron_handoff()
        self.assertEqual(self.deal.handoff_status, "2", self.deal.handoff_message)
        self.assertEqual(self._orders(self.deal).user_id, self.salesman2)
        self.assertEqual(
            self.deal.stage_history_ids.filtered(
                lambda row: row.event == "won"
            ).salesperson_id,
            self.salesman,
            "won by the salesperson who left",
        )

    def test_failed_deal_retried_by_the_secretary(self):
        self.deal.line_ids = [Command.clear()]
        self._win(self.deal)
        self.env["crm.lead"]._cron_handoff()
        self.assertEqual(self.deal.handoff_status, "-1")
        self.env["crm.salesperson.handover.wizard"].with_user(self.manager).create(
            {"user_id": self.salesman.id, "target_user_id": self.salesman2.id}
        ).action_confirm()
        self.env["crm.salesperson.handover"].search(
            [("user_id", "=", self.salesman.id)]
        ).with_user(self.manager).action_archive_user()
        self.deal.line_ids = [Command.create({"product_id": self.switchgear.id})]
        self.deal.with_user(self.secretary).action_handoff()
        self.assertIn(self.deal.handoff_status, ("1", "2"), self.deal.handoff_message)

    def test_colleague_outside_any_team_refused(self):
        self._win(self.deal)
        loner = new_test_user(
            self.env, "sf_ho_loner", groups="sales_team.group_sale_salesman"
        )
        wizard = (
            self.env["crm.salesperson.handover.wizard"]
            .with_user(self.manager)
            .create({"user_id": self.salesman.id, "target_user_id": loner.id})
        )
        with self.assertRaisesRegex(UserError, "not a member of a sales team"):
            wizard.action_confirm()
        self.assertEqual(self.deal.user_id, self.salesman)
