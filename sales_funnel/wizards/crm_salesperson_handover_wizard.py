from collections import defaultdict

from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from ..models.crm_salesperson_handover import HANDOVER_KINDS, HANDOVER_MODES

LEAD_KINDS = ("opportunity", "lead", "won_deal")


class CrmSalespersonHandoverWizard(models.TransientModel):
    """Hand over a leaving salesperson's funnel (离职交接), for sales managers.

    Lists what the salesperson owns in the companies the manager works in
    (``crm.salesperson.handover._owned_records``) and gives it to one
    colleague, or splits it by sales team or by customer; each line can be
    given to another colleague before confirming. Confirming records a
    ``crm.salesperson.handover``. A reassignment changes the salesperson only:
    the deal keeps its stage, team and checklist, so neither the stage gate nor
    the loss-report rules (which apply to stage and active changes) are asked.
    """

    _name = "crm.salesperson.handover.wizard"
    _description = "Hand Over a Salesperson's Funnel"

    user_id = fields.Many2one(
        "res.users",
        string="Leaving Salesperson",
        required=True,
        domain="[('share', '=', False)]",
    )
    mode = fields.Selection(
        HANDOVER_MODES, string="Hand Over", required=True, default="all"
    )
    target_user_id = fields.Many2one(
        "res.users",
        string="Colleague",
        domain="[('share', '=', False), ('id', '!=', user_id)]",
        help="Takes over everything, or, when split, what the split lines leave "
        "without a colleague (targets, forecasts, activities on other records).",
    )
    split_ids = fields.One2many(
        "crm.salesperson.handover.wizard.split",
        "wizard_id",
        compute="_compute_split_ids",
        store=True,
        readonly=False,
    )
    line_ids = fields.One2many(
        "crm.salesperson.handover.wizard.line",
        "wizard_id",
        string="To Hand Over",
        compute="_compute_line_ids",
        store=True,
        readonly=False,
    )
    archive_user = fields.Boolean(
        string="Archive the User Afterwards",
        help="Archive the account once everything is handed over (refused while "
        "something of theirs is left in another company).",
    )
    note = fields.Text(help="Kept on the hand-over, for the colleagues.")

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends("user_id")
    def _compute_line_ids(self):
        Handover = self.env["crm.salesperson.handover"]
        for wizard in self:
            commands = [Command.clear()]
            if wizard.user_id:
                owned = Handover._owned_records(wizard.user_id, self.env.companies)
                commands += [
                    Command.create(vals)
                    for vals in wizard._prepare_line_vals_list(owned)
                ]
            wizard.line_ids = commands

    def _prepare_line_vals_list(self, owned):
        vals_list = []
        for kind, _label in HANDOVER_KINDS:
            for record in owned[kind]:
                vals_list.append(
                    {
                        "sequence": len(vals_list),
                        **self._prepare_line_vals(kind, record),
                    }
                )
        return vals_list

    def _prepare_line_vals(self, kind, record):
        """Values of the wizard line of ``record`` (a ``kind`` of
        ``HANDOVER_KINDS``): what it is, its customer, team, company, amount."""
        Line = self.env["crm.salesperson.handover.line"]
        vals = {
            "kind": kind,
            "res_model": record._name,
            "res_id": record.id,
            "name": Line._record_name(record),
        }
        document = record
        if kind == "activity":
            document = (
                self.env[record.res_model]
                .sudo()
                .with_context(active_test=False)
                .browse(record.res_id)
            )
        if document._name == "crm.lead":
            vals.update(
                partner_id=document.partner_id.commercial_partner_id.id,
                team_id=document.team_id.id,
            )
        elif document._name == "res.partner":
            vals["partner_id"] = document.commercial_partner_id.id
        elif document._name == "crm.forecast.submission":
            vals["team_id"] = document.team_id.id
        if "company_id" in document._fields:
            vals["company_id"] = document.company_id.id
        if kind in LEAD_KINDS:
            vals.update(
                amount=record.expected_revenue,
                currency_id=record.company_currency.id,
            )
        elif kind in ("target", "forecast"):
            vals.update(amount=record.amount, currency_id=record.currency_id.id)
        return vals

    @api.depends("mode", "line_ids.team_id", "line_ids.partner_id")
    def _compute_split_ids(self):
        for wizard in self:
            key = {"team": "team_id", "customer": "partner_id"}.get(wizard.mode)
            chosen = {split[key]: split.user_id for split in wizard.split_ids if key}
            commands = [Command.clear()]
            if key:
                for value in wizard.line_ids.mapped(key):
                    commands.append(
                        Command.create(
                            {
                                key: value.id,
                                "user_id": chosen.get(value, self.env["res.users"]).id,
                            }
                        )
                    )
            wizard.split_ids = commands

    def _colleague_of(self, line):
        """Who takes over ``line`` under the chosen split (the colleague of its
        team or customer, else the colleague of the wizard)."""
        self.ensure_one()
        key = {"team": "team_id", "customer": "partner_id"}.get(self.mode)
        if key and line[key]:
            split = self.split_ids.filtered(lambda s: s[key] == line[key])[:1]
            if split.user_id:
                return split.user_id
        return self.target_user_id

    # ------------------------------------------------------------------
    # Confirm
    # ------------------------------------------------------------------

    def action_confirm(self):
        self.ensure_one()
        Handover = self.env["crm.salesperson.handover"]
        Handover._check_manager()
        if not self.user_id:
            raise UserError(self.env._("Choose the salesperson who leaves."))
        lines = self._lines_to_hand_over()
        self._check_colleagues(lines)
        handover_name = self.env["ir.sequence"].next_by_code(
            "crm.salesperson.handover"
        ) or self.env._("Hand-over")
        notes = self._reassign(lines)
        handover = Handover._create_record(
            [self._prepare_handover_vals(handover_name, lines, notes)]
        )
        self._post_handover_notes(handover, lines)
        if self.archive_user:
            handover.action_archive_user()
        return {
            "type": "ir.actions.act_window",
            "res_model": handover._name,
            "res_id": handover.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

    def _lines_to_hand_over(self):
        """The lines whose record the salesperson still owns, in the manager's
        companies (a stale or forged line is left out)."""
        owned = self.env["crm.salesperson.handover"]._owned_records(
            self.user_id, self.env.companies
        )
        keys = {
            (kind, record._name, record.id)
            for kind, records in owned.items()
            for record in records
        }
        lines = self.line_ids.filtered(
            lambda line: (line.kind, line.res_model, line.res_id) in keys
        )
        if not lines:
            raise UserError(
                self.env._(
                    "%(user)s has nothing to hand over in your companies.",
                    user=self.user_id.name,
                )
            )
        return lines

    def _check_colleagues(self, lines):
        """Refuse a hand-over to nobody, to the leaving salesperson, to an
        archived account or to a colleague outside the record's company."""
        missing = lines.filtered(lambda line: not line.to_user_id)
        if missing:
            raise UserError(
                self.env._(
                    "Choose the colleague who takes over: %(records)s",
                    records=", ".join(missing[:5].mapped("name"))
                    + (", …" if len(missing) > 5 else ""),
                )
            )
        for colleague, same in lines.grouped("to_user_id").items():
            colleague = colleague.sudo()
            if colleague == self.user_id:
                raise UserError(
                    self.env._(
                        "%(user)s is the salesperson who leaves: hand over to a "
                        "colleague.",
                        user=colleague.name,
                    )
                )
            if not colleague.active or colleague.share:
                raise UserError(
                    self.env._(
                        "%(user)s cannot take over: the account is archived or is "
                        "not an internal user.",
                        user=colleague.name,
                    )
                )
            foreign = same.filtered(
                lambda line, c=colleague: (
                    line.company_id and line.company_id not in c.company_ids
                )
            )
            if foreign:
                raise UserError(
                    self.env._(
                        "%(user)s does not work for %(company)s and cannot take "
                        "over %(record)s.",
                        user=colleague.name,
                        company=foreign[0].company_id.name,
                        record=foreign[0].name,
                    )
                )
            won = same.filtered(lambda line: line.kind == "won_deal")
            if won and not self.env["crm.team.member"].sudo().search_count(
                [("user_id", "=", colleague.id), ("crm_team_id.active", "=", True)],
                limit=1,
            ):
                raise UserError(
                    self.env._(
                        "%(user)s is not a member of a sales team: the won deal "
                        "%(record)s could not be handed off to orders under their "
                        "name. Add them to a team, or choose another colleague.",
                        user=colleague.name,
                        record=won[0].name,
                    )
                )

    def _reassign(self, lines):
        """Give each line's record to its colleague. Returns {line: note}."""
        notes = {}
        by_kind = defaultdict(lambda: self.env["crm.salesperson.handover.wizard.line"])
        for line in lines:
            by_kind[line.kind] |= line
        leads = by_kind["opportunity"] | by_kind["lead"] | by_kind["won_deal"]
        self._reassign_leads(leads)
        self._reassign_activities(by_kind["activity"])
        notes.update(self._reassign_targets(by_kind["target"]))
        self._reassign_forecasts(by_kind["forecast"])
        return notes

    def _reassign_leads(self, lines):
        # The salesperson only: the deal stays in its team (crm would move it
        # to the colleague's team), stage and checklist.
        Lead = self.env["crm.lead"]
        groups = defaultdict(list)
        for line in lines:
            lead = Lead.browse(line.res_id)
            groups[(line.to_user_id, lead.team_id)].append(lead.id)
        for (colleague, team), lead_ids in groups.items():
            Lead.browse(lead_ids).write({"user_id": colleague.id, "team_id": team.id})

    def _reassign_activities(self, lines):
        Activity = (
            self.env["mail.activity"]
            .sudo()
            .with_context(mail_activity_quick_update=True)
        )
        for colleague, same in lines.grouped("to_user_id").items():
            Activity.browse(same.mapped("res_id")).write({"user_id": colleague.id})

    def _reassign_targets(self, lines):
        """A target goes to the colleague; when the colleague has their own
        target of the same period, it is added to it."""
        Target = self.env["crm.sales.target"]
        notes = {}
        for line in lines:
            target = Target.browse(line.res_id)
            own = Target.search(
                [
                    ("user_id", "=", line.to_user_id.id),
                    ("company_id", "=", target.company_id.id),
                    ("period_type", "=", target.period_type),
                    ("date_from", "<=", target.date_to),
                    ("date_to", ">=", target.date_from),
                ],
                limit=1,
            )
            if not own:
                target.write({"user_id": line.to_user_id.id})
                continue
            own.write({"amount": own.amount + target.amount})
            own.message_post(
                body=self.env._(
                    "%(amount)s taken over from %(user)s's target (hand-over).",
                    amount=target.currency_id.format(target.amount),
                    user=self.user_id.name,
                ),
                subtype_xmlid="mail.mt_note",
            )
            notes[line] = self.env._(
                "Added to the colleague's own target %(target)s",
                target=own.display_name,
            )
            target.unlink()
        return notes

    def _reassign_forecasts(self, lines):
        Forecast = self.env["crm.forecast.submission"]
        for line in lines:
            forecast = Forecast.browse(line.res_id)
            vals = {}
            if forecast.user_id == self.user_id:
                vals["user_id"] = line.to_user_id.id
            if forecast.submitter_id == self.user_id:
                vals["submitter_id"] = line.to_user_id.id
            forecast.write(vals)

    def _prepare_handover_vals(self, name, lines, notes):
        return {
            "name": name,
            "user_id": self.user_id.id,
            "manager_id": self.env.uid,
            "date": fields.Datetime.now(),
            "company_id": self.env.company.id,
            "mode": self.mode,
            "note": self.note,
            "line_ids": [
                Command.create(line._prepare_handover_line_vals(notes.get(line)))
                for line in lines
            ],
        }

    def _post_handover_notes(self, handover, lines):
        """A note on each deal handed over, in the company's language."""
        Lead = self.env["crm.lead"]
        for line in lines.filtered(lambda line: line.kind in LEAD_KINDS):
            lead = Lead.browse(line.res_id)
            post = lead.with_context(lang=lead._company_lang())
            post.message_post(
                body=Markup("<p>%s</p>")
                % post.env._(
                    "Handed over from %(from)s to %(to)s (hand-over %(handover)s).",
                    **{
                        "from": self.user_id.name,
                        "to": line.to_user_id.name,
                        "handover": handover.name,
                    },
                ),
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
