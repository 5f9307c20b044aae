from markupsafe import Markup

from odoo import api, fields, models, tools
from odoo.exceptions import RedirectWarning, UserError
from odoo.osv import expression
from odoo.tools import SQL

OVERRIDE_CONTEXT_KEY = "sales_funnel_gate_override"


def _prefetched(model):
    """The fields a normal fetch of ``model`` reads: fetching them up front
    loads every record of a search in one query instead of one per prefetch
    set (fewer queries on a stage change)."""
    return [
        name
        for name, field in model._fields.items()
        if field.store and field.prefetch is True
    ]


class CrmLead(models.Model):
    _inherit = "crm.lead"

    sales_funnel_follows_stage = fields.Boolean(
        compute="_compute_sales_funnel_follows_stage",
        help="The probability is the win rate of the stage (company setting).",
    )
    criterion_ids = fields.One2many(
        "crm.lead.criterion", "lead_id", string="All Exit Criteria"
    )
    current_criterion_ids = fields.One2many(
        "crm.lead.criterion",
        "lead_id",
        string="Exit Criteria",
        domain=[("in_current_stage", "=", True)],
    )
    criteria_count = fields.Integer(compute="_compute_criteria_progress")
    criteria_done_count = fields.Integer(compute="_compute_criteria_progress")
    criteria_required_missing_count = fields.Integer(
        string="Required Criteria Missing", compute="_compute_criteria_progress"
    )
    stage_goal = fields.Text(related="stage_id.goal", string="Goal of the Stage")
    stage_verification_output = fields.Text(
        related="stage_id.verification_output", string="Verification Output"
    )
    days_in_stage = fields.Float(
        compute="_compute_days_in_stage",
        digits=(16, 1),
        help="Days since the opportunity entered its current stage.",
    )
    is_stuck = fields.Boolean(
        string="Stuck",
        compute="_compute_is_stuck",
        search="_search_is_stuck",
        help="Longer in its stage than the stage allows, with no activity planned.",
    )
    stage_history_ids = fields.One2many("crm.lead.stage.history", "lead_id")
    gate_override_ids = fields.One2many(
        "crm.stage.gate.override", "lead_id", string="Gate Overrides"
    )
    line_ids = fields.One2many("crm.lead.line", "lead_id", string="Products", copy=True)
    # Only read on creation (RPC values or an import column), never stored.
    gate_override_reason = fields.Text(
        store=False,
        copy=False,
        groups="sales_team.group_sale_manager",
        help="Sales managers: why this opportunity is created in a later stage "
        "without its criteria (for example deals loaded from an old system). "
        "Kept as a gate override with the missing criteria.",
    )

    def init(self):
        res = super().init()
        # The pipeline kanban reads the first cards of every stage in the default
        # order (priority desc, id desc): without this index each column sorts
        # all the opportunities of its stage (≈ 0.2 s a column at 1,000,000).
        tools.create_index(
            self.env.cr,
            "crm_lead_sales_funnel_kanban_idx",
            self._table,
            ["stage_id", "priority DESC", "id DESC"],
            where="active",
        )
        # Stuck opportunities, oldest first, without the won and lost ones.
        tools.create_index(
            self.env.cr,
            "crm_lead_sales_funnel_stuck_idx",
            self._table,
            ["date_last_stage_update"],
            where="active AND type = 'opportunity' AND probability < 100",
        )
        return res

    @api.model
    @api.readonly
    def read_progress_bar(self, domain, group_by, progress_bar):
        if progress_bar.get("field") == "activity_state":
            # Only opportunities with an activity have a colour; the web client
            # makes the rest of the column grey. Count those few, not the table.
            self.env["mail.activity"].flush_model(["res_model", "res_id", "active"])
            with_activity = SQL(
                "(SELECT res_id FROM mail_activity WHERE res_model = %s AND active)",
                self._name,
            )
            domain = expression.AND([domain, [("id", "in", with_activity)]])
        return super().read_progress_bar(domain, group_by, progress_bar)

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends("company_id")
    @api.depends_context("company")
    def _compute_sales_funnel_follows_stage(self):
        for lead in self:
            lead.sales_funnel_follows_stage = lead._sales_funnel_follows_stage()

    def _sales_funnel_follows_stage(self):
        company = self.company_id or self.env.company
        return company.sales_funnel_probability_mode != "pls"

    @api.depends("current_criterion_ids.done", "stage_id")
    def _compute_criteria_progress(self):
        groups = self.env["crm.lead.criterion"]._read_group(
            [("lead_id", "in", self.ids), ("in_current_stage", "=", True)],
            ["lead_id", "done", "required"],
            ["__count"],
        )
        progress = {}
        for lead, done, required, count in groups:
            total, ticked, missing = progress.get(lead.id, (0, 0, 0))
            progress[lead.id] = (
                total + count,
                ticked + (count if done else 0),
                missing + (count if required and not done else 0),
            )
        for lead in self:
            total, ticked, missing = progress.get(lead.id, (0, 0, 0))
            lead.criteria_count = total
            lead.criteria_done_count = ticked
            lead.criteria_required_missing_count = missing

    @api.depends("date_last_stage_update")
    def _compute_days_in_stage(self):
        now = fields.Datetime.now()
        for lead in self:
            since = lead.date_last_stage_update or lead.create_date or now
            lead.days_in_stage = (now - since).total_seconds() / 86400

    def _stuck_sql(self, where=None):
        """Open opportunities past their stage's maximum days, with no activity
        that is still due (a planned, not overdue activity means someone is on it)."""
        self.env["crm.lead"].flush_model(
            ["active", "type", "probability", "stage_id", "date_last_stage_update"]
        )
        self.env["crm.stage"].flush_model(["is_won", "max_days_in_stage"])
        self.env["mail.activity"].flush_model(["res_model", "res_id", "date_deadline"])
        # Won opportunities are at a probability of 100: the condition on it lets
        # the partial index of init() skip them and the lost ones.
        return SQL(
            """
            SELECT lead.id
              FROM crm_lead lead
              JOIN crm_stage stage ON stage.id = lead.stage_id
             WHERE lead.active AND lead.type = 'opportunity'
               AND lead.probability < 100
               AND stage.is_won IS NOT TRUE
               AND stage.max_days_in_stage > 0
               AND lead.date_last_stage_update
                   < %(now)s - make_interval(days => stage.max_days_in_stage)
               AND NOT EXISTS (
                   SELECT 1 FROM mail_activity activity
                    WHERE activity.res_model = 'crm.lead'
                      AND activity.res_id = lead.id
                      AND activity.date_deadline >= %(today)s)
               AND %(where)s
            """,
            now=fields.Datetime.now(),
            today=fields.Date.context_today(self),
            where=where or SQL("TRUE"),
        )

    def _stuck_lead_ids(self, lead_ids=None):
        where = None
        if lead_ids is not None:
            where = SQL("lead.id IN %s", tuple(lead_ids) or (0,))
        return {row[0] for row in self.env.execute_query(self._stuck_sql(where))}

    @api.depends("stage_id", "date_last_stage_update", "activity_ids.date_deadline")
    def _compute_is_stuck(self):
        stuck = self._stuck_lead_ids(self.ids)
        for lead in self:
            lead.is_stuck = lead.id in stuck

    def _search_is_stuck(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Unsupported search on “Stuck”."))
        positive = (operator == "=") == value
        # An id list: PostgreSQL plans the IN (subquery) form worse (1.2 s against
        # 2.2 s for 370,000 stuck out of 1,000,000 opportunities).
        return [("id", "in" if positive else "not in", list(self._stuck_lead_ids()))]

    @api.model
    def _cron_remind_stuck_opportunities(self):
        """Give each stuck opportunity's owner a to-do (then it is worked on)."""
        for lead in self.search([("is_stuck", "=", True)]):
            lead.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._(
                    "Stuck in %(stage)s for %(days)s days: move it on or plan the "
                    "next step",
                    stage=lead.stage_id.name,
                    days=int(lead.days_in_stage),
                ),
                user_id=(lead.user_id or self.env.user).id,
                date_deadline=fields.Date.add(fields.Date.context_today(lead), days=2),
            )

    # The probability is the stage's win rate: whatever the path that changes
    # the stage, the active flag (lost/restore) or the tags (PLS fields).
    @api.depends(
        lambda self: (
            ["stage_id", "stage_id.win_rate", "team_id", "active", "company_id"]
            + self._pls_get_safe_fields()
        )
    )
    def _compute_probabilities(self):
        follows = self.filtered(lambda lead: lead._sales_funnel_follows_stage())
        res = super(CrmLead, self - follows)._compute_probabilities()
        for lead in follows:
            rate = lead.stage_id.win_rate if lead.active else 0.0
            lead.automated_probability = rate
            lead.probability = rate
        return res

    def _update_automated_probabilities(self):
        # The PLS cron rewrites probabilities in SQL: put stage-mode ones back.
        res = super()._update_automated_probabilities()
        self._sales_funnel_sync_probabilities()
        return res

    # The stored fields of crm that follow the probability, and their amount.
    _SALES_FUNNEL_PRORATED = {
        "prorated_revenue": "expected_revenue",
        "recurring_revenue_prorated": "recurring_revenue",
        "recurring_revenue_monthly_prorated": "recurring_revenue_monthly",
    }

    @api.model
    def _sales_funnel_sync_probabilities(self):
        """Stage mode: put every active lead at the win rate of its stage.

        One set-based UPDATE (installation on an existing pipeline, the switch
        back from predictive scoring, the PLS cron) that stays quick on a
        million opportunities: the probability, the automated probability and
        the prorated amounts crm computes from it (rounded like the company's
        currency). Assigning the probability through the ORM would not do:
        ``write`` drops it in stage mode. The funnel sums' triggers on crm_lead
        run as for any UPDATE. Returns the number of leads changed.
        """
        prorated = self._SALES_FUNNEL_PRORATED
        fnames = ["probability", "automated_probability", *prorated]
        self.flush_model(
            [*fnames, *prorated.values(), "stage_id", "active", "company_id"]
        )
        self.env["crm.stage"].flush_model(["win_rate"])
        self.env["res.company"].flush_model(
            ["sales_funnel_probability_mode", "currency_id"]
        )
        amounts = {
            name: SQL(
                "round(COALESCE(lead.%s, 0) * target.rate::numeric / 100,"
                " target.digits)",
                SQL.identifier(source),
            )
            for name, source in prorated.items()
        }
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead lead
                   SET probability = target.rate,
                       automated_probability = target.rate,
                       %(set_amounts)s
                  FROM (
                    SELECT l.id, stage.win_rate AS rate,
                           COALESCE(currency.decimal_places, %(digits)s) AS digits
                      FROM crm_lead l
                      JOIN crm_stage stage ON stage.id = l.stage_id
                      LEFT JOIN res_company company ON company.id = l.company_id
                      LEFT JOIN res_currency currency
                             ON currency.id = company.currency_id
                     WHERE l.active
                       AND COALESCE(company.sales_funnel_probability_mode, 'stage')
                           = 'stage'
                  ) target
                 WHERE lead.id = target.id
                   AND (lead.probability IS DISTINCT FROM target.rate
                        OR lead.automated_probability IS DISTINCT FROM target.rate
                        OR %(amounts_differ)s)
                """,
                set_amounts=SQL(", ").join(
                    SQL("%s = %s", SQL.identifier(name), amount)
                    for name, amount in amounts.items()
                ),
                amounts_differ=SQL(" OR ").join(
                    # NULL (never computed) counts as 0: no needless write.
                    SQL("COALESCE(lead.%s, 0) <> %s", SQL.identifier(name), amount)
                    for name, amount in amounts.items()
                ),
                digits=self.env.company.currency_id.decimal_places,
            )
        )
        changed = self.env.cr.rowcount
        if changed:
            self.invalidate_model(fnames)
        return changed

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    def _sales_funnel_strip_probability(self, vals, company):
        """In stage mode the probability is never typed or imported."""
        if company.sales_funnel_probability_mode != "pls":
            vals.pop("probability", None)
            vals.pop("automated_probability", None)
        return vals

    @api.model_create_multi
    def create(self, vals_list):
        Company = self.env["res.company"]
        for vals in vals_list:
            company = Company.browse(vals.get("company_id")) or self.env.company
            self._sales_funnel_strip_probability(vals, company)
        self._check_loss_reports_on_create(vals_list)
        gate_overrides = self._check_gate_on_create(vals_list)
        leads = super().create(vals_list)
        leads._sales_funnel_ensure_checklist()
        overrides = leads._sales_funnel_record_create_overrides(gate_overrides)
        stage_leads = leads.filtered(lambda lead: lead.active and lead.stage_id)
        if stage_leads:
            stage_leads._sales_funnel_log_events(
                [(lead, "create", self.env["crm.stage"], None) for lead in stage_leads],
                overrides=overrides,
            )
        return leads

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        if default and "stage_id" in default:
            # An explicit stage is held to the gate like any creation.
            return vals_list
        # A copy has an empty checklist: it starts the funnel again in the first
        # stage of its team, whatever the column default of the context.
        first = {}
        for vals in vals_list:
            team_id = vals.get("team_id") or False
            if team_id not in first:
                first[team_id] = self.browse()._stage_find(
                    team_id=team_id, domain=[("fold", "=", False)]
                )
            vals["stage_id"] = first[team_id].id
        return vals_list

    def write(self, vals):
        if {"probability", "automated_probability"} & vals.keys():
            follows = self.filtered(lambda lead: lead._sales_funnel_follows_stage())
            if follows and follows != self:
                # Mixed companies: each group keeps its own probability rule.
                return follows.write(vals) and (self - follows).write(vals)
            if follows:
                vals = dict(vals)
                self._sales_funnel_strip_probability(vals, follows[:1].company_id)

        loss_changed = self._check_loss_reports(vals)
        if "stage_id" not in vals and "active" not in vals and not loss_changed:
            return super().write(vals)

        moved = self.browse()
        new_stage = self.env["crm.stage"]
        if vals.get("stage_id"):
            new_stage = new_stage.browse(vals["stage_id"])
            (self.stage_id | new_stage).fetch(_prefetched(new_stage))
            moved = self.filtered(lambda lead: lead.stage_id != new_stage)
            forward = moved.filtered(
                lambda lead: (
                    not lead.stage_id
                    or lead.stage_id._sales_funnel_rank()
                    < new_stage._sales_funnel_rank()
                )
            )
            if forward and not self._sales_funnel_override():
                forward._sales_funnel_check_gate(new_stage)
        before = {
            lead.id: (
                lead.stage_id,
                lead.date_last_stage_update or lead.create_date,
                lead.active,
            )
            for lead in self
        }

        res = super().write(vals)
        loss_changed._record_loss_reports()

        if moved:
            moved._sales_funnel_ensure_checklist()
            if new_stage.entry_activity_type_id:
                moved._sales_funnel_schedule_entry_activity()
        events = []
        moved_ids = set(moved.ids)
        for lead in self:
            old_stage, since, was_active = before[lead.id]
            if lead.id in moved_ids:
                events.append(
                    (lead, lead._sales_funnel_move_event(old_stage), old_stage, since)
                )
            if "active" in vals and bool(vals["active"]) != was_active:
                if vals["active"]:
                    events.append((lead, "restore", lead.stage_id, None))
                else:
                    events.append((lead, "lost", lead.stage_id, since))
        if events:
            self._sales_funnel_log_events(events)
        return res

    def _sales_funnel_move_event(self, old_stage):
        """History event of a move from ``old_stage`` to the current stage."""
        if self.stage_id.is_won:
            return "won"
        if (
            old_stage
            and old_stage._sales_funnel_rank() > self.stage_id._sales_funnel_rank()
        ):
            return "backward"
        return "forward"

    # ------------------------------------------------------------------
    # Product lines
    # ------------------------------------------------------------------

    def _sales_funnel_revenue_from_lines(self):
        """An opportunity with lines is worth its lines, accessories excluded."""
        leads = self.filtered("line_ids")
        if not leads:
            return
        totals = dict(
            self.env["crm.lead.line"]._read_group(
                [("lead_id", "in", leads.ids), ("is_accessory", "=", False)],
                ["lead_id"],
                ["price_subtotal:sum"],
            )
        )
        for lead in leads:
            total = totals.get(lead, 0.0)
            if lead.company_currency.compare_amounts(total, lead.expected_revenue):
                lead.expected_revenue = total

    # ------------------------------------------------------------------
    # Checklist
    # ------------------------------------------------------------------

    def _sales_funnel_ensure_checklist(self):
        """Create the missing checklist lines of each opportunity's stage."""
        leads = self.filtered("stage_id")
        if not leads:
            return
        # Lines are bookkeeping of the system, not something users create.
        Line = self.env["crm.lead.criterion"].sudo().with_context(active_test=False)
        criteria = (
            self.env["crm.stage.criterion"]
            .sudo()
            .search([("stage_id", "in", leads.stage_id.ids)])
        )
        if not criteria:
            return
        existing = {
            (lead.id, criterion.id)
            for lead, criterion in Line._read_group(
                [("lead_id", "in", leads.ids), ("criterion_id", "in", criteria.ids)],
                ["lead_id", "criterion_id"],
            )
        }
        Line.create(
            [
                {"lead_id": lead.id, "criterion_id": criterion.id}
                for lead in leads
                for criterion in criteria
                if criterion.stage_id == lead.stage_id
                and criterion.company_id in (lead.company_id, self.env["res.company"])
                and (lead.id, criterion.id) not in existing
            ]
        )

    def _sales_funnel_schedule_entry_activity(self):
        """Schedule the activity the stage asks for on entry (collaboration)."""
        for lead in self.filtered("active"):
            stage = lead.stage_id
            user = stage.entry_activity_user_id or lead.user_id or self.env.user
            lead.activity_schedule(
                activity_type_id=stage.entry_activity_type_id.id,
                summary=stage.entry_activity_summary
                or stage.entry_activity_type_id.summary,
                user_id=user.id,
                date_deadline=fields.Date.add(
                    fields.Date.context_today(lead), days=stage.entry_activity_days
                ),
            )

    def action_open_checklist(self):
        """The checklist on its own, in a dialog (from the kanban card)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Exit Criteria of %(stage)s", stage=self.stage_id.name),
            "res_model": "crm.lead",
            "res_id": self.id,
            "view_mode": "form",
            "views": [
                (self.env.ref("sales_funnel.crm_lead_view_form_checklist").id, "form")
            ],
            "target": "new",
        }

    # ------------------------------------------------------------------
    # The gate
    # ------------------------------------------------------------------

    def _sales_funnel_override(self):
        override = self.env.context.get(OVERRIDE_CONTEXT_KEY)
        # A recordset cannot come from an RPC payload: only server code bypasses.
        if (
            isinstance(override, models.BaseModel)
            and override._name == "crm.stage.gate.override"
        ):
            return override
        return self.env["crm.stage.gate.override"]

    def _sales_funnel_missing_criteria(self, target_stage):
        """Required criteria not ticked on each opportunity, over every stage it
        leaves or skips to reach ``target_stage``: {lead id: criteria}."""
        Criterion = self.env["crm.stage.criterion"]
        target_rank = target_stage._sales_funnel_rank()
        Stage = self.env["crm.stage"]
        stages = Stage.search_fetch([], _prefetched(Stage))
        passed_by_lead = {}
        for lead in self:
            from_rank = lead.stage_id._sales_funnel_rank() if lead.stage_id else (0, 0)
            passed_by_lead[lead.id] = stages.filtered(
                lambda stage, lead=lead, from_rank=from_rank: (
                    from_rank <= stage._sales_funnel_rank() < target_rank
                    and stage.team_id in (lead.team_id, self.env["crm.team"])
                )
            )
        passed = self.env["crm.stage"].union(*passed_by_lead.values())
        if not passed:
            return {}
        if len(self) == 1:
            # One query, whatever the number of criteria (the usual stage change).
            self.env["crm.lead.criterion"].flush_model(
                ["lead_id", "criterion_id", "done"]
            )
            missing = Criterion.sudo().search(
                [
                    ("stage_id", "in", passed.ids),
                    ("required", "=", True),
                    ("company_id", "in", [self.company_id.id, False]),
                    (
                        "id",
                        "not in",
                        SQL(
                            "(SELECT criterion_id FROM crm_lead_criterion"
                            " WHERE lead_id = %s AND done)",
                            self.id,
                        ),
                    ),
                ]
            )
            return {self.id: missing} if missing else {}
        criteria = Criterion.sudo().search(
            [("stage_id", "in", passed.ids), ("required", "=", True)]
        )
        done = {
            (lead.id, criterion.id)
            for lead, criterion in self.env["crm.lead.criterion"]
            .sudo()
            ._read_group(
                [
                    ("lead_id", "in", self.ids),
                    ("criterion_id", "in", criteria.ids),
                    ("done", "=", True),
                ],
                ["lead_id", "criterion_id"],
            )
        }
        missing = {}
        for lead in self:
            lead_missing = criteria.filtered(
                lambda criterion, lead=lead: (
                    criterion.stage_id in passed_by_lead[lead.id]
                    and criterion.company_id
                    in (lead.company_id, self.env["res.company"])
                    and (lead.id, criterion.id) not in done
                )
            )
            if lead_missing:
                missing[lead.id] = lead_missing
        return missing

    def _sales_funnel_format_missing(self, criteria):
        lines = []
        for stage in criteria.stage_id.sorted(lambda s: s._sales_funnel_rank()):
            lines.append(f"{stage.name}:")
            lines.extend(
                f"  • {criterion.name}"
                for criterion in criteria.filtered(
                    lambda c, stage=stage: c.stage_id == stage
                )
            )
        return "\n".join(lines)

    def _sales_funnel_check_gate(self, target_stage):
        missing = self._sales_funnel_missing_criteria(target_stage)
        if not missing:
            return
        blocked = self.filtered(lambda lead: lead.id in missing)
        message = "\n\n".join(
            self.env._(
                "“%(lead)s” cannot move from %(from_stage)s to %(to_stage)s. "
                "These required criteria are not met:\n%(missing)s",
                lead=lead.name,
                from_stage=lead.stage_id.name or self.env._("no stage"),
                to_stage=target_stage.name,
                missing=self._sales_funnel_format_missing(missing[lead.id]),
            )
            for lead in blocked
        )
        message += "\n\n" + self.env._(
            "Tick the criteria on the opportunity's checklist, then move it again."
        )
        if len(blocked) == 1 and self.env.user.has_group(
            "sales_team.group_sale_manager"
        ):
            raise RedirectWarning(
                message,
                blocked._sales_funnel_override_action(target_stage),
                self.env._("Override with a reason"),
            )
        raise UserError(message)

    def _sales_funnel_override_action(self, target_stage=None):
        self.ensure_one()
        context = {"default_lead_id": self.id}
        if target_stage:
            context["default_stage_id"] = target_stage.id
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Override the Stage Gate"),
            "res_model": "crm.stage.gate.override.wizard",
            "view_mode": "form",
            "views": [[False, "form"]],
            "target": "new",
            "context": context,
        }

    def action_open_gate_override(self):
        return self._sales_funnel_override_action()

    def _sales_funnel_override_move(self, stage, reason):
        """Move past the gate on a sales manager's written reason."""
        self.ensure_one()
        missing = self._sales_funnel_missing_criteria(stage).get(
            self.id, self.env["crm.stage.criterion"]
        )
        from_stage = self.stage_id
        override = self.env["crm.stage.gate.override"]._create_record(
            {
                "lead_id": self.id,
                "from_stage_id": from_stage.id,
                "to_stage_id": stage.id,
                "reason": reason,
                "missing_criterion_ids": [fields.Command.set(missing.ids)],
                "missing_criteria": self._sales_funnel_format_missing(missing),
            }
        )
        self.with_context(**{OVERRIDE_CONTEXT_KEY: override}).write(
            {"stage_id": stage.id}
        )
        body = Markup("<p>%s</p><p>%s</p>") % (
            self.env._(
                "Stage gate overridden from %(from_stage)s to %(to_stage)s.",
                from_stage=from_stage.name,
                to_stage=stage.name,
            ),
            reason,
        )
        if missing:
            body += Markup("<p>%s</p><ul>%s</ul>") % (
                self.env._("Criteria not met:"),
                Markup().join(Markup("<li>%s</li>") % c.name for c in missing),
            )
        self.message_post(body=body, subtype_xmlid="mail.mt_note")
        return override

    # ------------------------------------------------------------------
    # The gate at creation
    # ------------------------------------------------------------------

    @api.model
    def _check_gate_on_create(self, vals_list):
        """Hold new opportunities to the gate of the stage they are created in.

        A new opportunity has no ticked criteria: every required criterion of
        the stages before its stage is missing. A salesperson is refused and
        nothing is created; a sales manager may give a written reason in
        ``gate_override_reason`` (RPC value or import column), recorded as a
        gate override once the opportunity exists. A few queries for the whole
        batch, whatever its size (imports of thousands of rows).

        :return: per values, None or the (stage, missing criteria, reason) of
            the override to record (``_sales_funnel_record_create_overrides``)
        """
        reasons = [
            (vals.pop("gate_override_reason", None) or "").strip() for vals in vals_list
        ]
        pending = [None] * len(vals_list)
        if self.env.su:
            # Server code (data files, migrations) places its records itself.
            return pending
        defaults = {}
        if any("stage_id" not in vals or "team_id" not in vals for vals in vals_list):
            defaults = self.default_get(["stage_id", "team_id", "user_id", "type"])
        target_ids = [
            vals.get("stage_id", defaults.get("stage_id")) or False
            for vals in vals_list
        ]
        if not any(target_ids):
            return pending
        Stage = self.env["crm.stage"]
        stages = Stage.search_fetch([], _prefetched(Stage)).sorted(
            lambda stage: stage._sales_funnel_rank()
        )
        if stages.team_id:
            team_ids = self._sales_funnel_create_teams(vals_list, defaults)
        else:
            team_ids = [False] * len(vals_list)
        passed = {}
        for target_id, team_id in set(zip(target_ids, team_ids, strict=True)):
            if target_id:
                rank = Stage.browse(target_id)._sales_funnel_rank()
                passed[target_id, team_id] = stages.filtered(
                    lambda stage, rank=rank, team_id=team_id: (
                        stage._sales_funnel_rank() < rank
                        and stage.team_id.id in (team_id, False)
                    )
                )
        all_passed = Stage.union(*passed.values())
        if not all_passed:
            return pending
        criteria = (
            self.env["crm.stage.criterion"]
            .sudo()
            .search([("stage_id", "in", all_passed.ids), ("required", "=", True)])
        )
        if not criteria:
            return pending
        is_manager = self.env.user.has_group("sales_team.group_sale_manager")
        missing_by_key = {}
        blocked = {}
        for index, vals in enumerate(vals_list):
            if not target_ids[index]:
                continue
            company_id = vals.get("company_id") or self.env.company.id
            key = (target_ids[index], team_ids[index], company_id)
            if key not in missing_by_key:
                missing_by_key[key] = criteria.filtered(
                    lambda criterion, key=key: (
                        criterion.stage_id in passed[key[:2]]
                        and criterion.company_id.id in (key[2], False)
                    )
                )
            missing = missing_by_key[key]
            if not missing:
                continue
            if is_manager and reasons[index]:
                pending[index] = (Stage.browse(key[0]), missing, reasons[index])
            else:
                blocked.setdefault((key[0], missing), []).append(index)
        if blocked:
            first_index = next(iter(blocked.values()))[0]
            first_stage = stages.filtered(
                lambda stage: (
                    not stage.fold
                    and stage.team_id.id in (team_ids[first_index], False)
                )
            )[:1]
            raise UserError(
                self._sales_funnel_create_refusal(
                    vals_list,
                    blocked,
                    first_stage,
                    reason_refused=any(
                        reasons[i] for indexes in blocked.values() for i in indexes
                    ),
                    is_manager=is_manager,
                )
            )
        return pending

    @api.model
    def _sales_funnel_create_teams(self, vals_list, defaults):
        """Team of each new opportunity as crm will set it (given, default, else
        the salesperson's): one look-up per salesperson, not one per row."""
        Team = self.env["crm.team"]
        by_user = {}
        team_ids = []
        for vals in vals_list:
            team_id = vals.get("team_id", defaults.get("team_id"))
            user_id = vals.get("user_id", defaults.get("user_id"))
            if not team_id and user_id:
                lead_type = vals.get("type", defaults.get("type"))
                use = "use_leads" if lead_type == "lead" else "use_opportunities"
                if (user_id, use) not in by_user:
                    by_user[user_id, use] = Team._get_default_team_id(
                        user_id=user_id, domain=[(use, "=", True)]
                    ).id
                team_id = by_user[user_id, use]
            team_ids.append(team_id or False)
        return team_ids

    @api.model
    def _sales_funnel_create_refusal(
        self, vals_list, blocked, first_stage, reason_refused, is_manager
    ):
        """Message refusing the creation of ``blocked`` rows
        ({(stage id, missing criteria): indexes in vals_list})."""
        Stage = self.env["crm.stage"]
        paragraphs = []
        for (stage_id, missing), indexes in blocked.items():
            names = ", ".join(
                "“%s”" % (vals_list[i].get("name") or self.env._("New opportunity"))
                for i in indexes[:10]
            )
            if len(indexes) > 10:
                names += " " + self.env._("and %(count)s more", count=len(indexes) - 10)
            paragraphs.append(
                self.env._(
                    "%(leads)s cannot be created in %(stage)s. A new opportunity has "
                    "no ticked criteria, and these required criteria are not met:\n"
                    "%(missing)s",
                    leads=names,
                    stage=Stage.browse(stage_id).name,
                    missing=self._sales_funnel_format_missing(missing),
                )
            )
        paragraphs.append(
            self.env._(
                "Create it in %(stage)s, tick its criteria on the checklist, then "
                "move it on.",
                stage=first_stage.name or "-",
            )
        )
        if reason_refused and not is_manager:
            paragraphs.append(
                self.env._("Only sales managers can override a stage gate.")
            )
        elif is_manager:
            paragraphs.append(
                self.env._(
                    "A sales manager may place it there with a written reason: the "
                    "“Gate Override Reason” column of an import (or value of an API "
                    "call), or Override Gate on the opportunity once created in the "
                    "first stage. The reason and the missing criteria are kept as a "
                    "gate override."
                )
            )
        return "\n\n".join(paragraphs)

    def _sales_funnel_record_create_overrides(self, pending):
        """Keep the gate overrides of opportunities a sales manager created past
        the gate (``pending`` from ``_check_gate_on_create``, in the order of
        ``self``): one batch of overrides and notes. {lead id: override}."""
        rows = [(lead, *item) for lead, item in zip(self, pending, strict=True) if item]
        if not rows:
            return {}
        formatted = {}
        headers = {}
        for _lead, stage, missing, _reason in rows:
            if missing not in formatted:
                formatted[missing] = self._sales_funnel_format_missing(missing)
            if stage not in headers:
                headers[stage] = self.env._(
                    "Created in %(stage)s past the stage gate.", stage=stage.name
                )
        overrides = self.env["crm.stage.gate.override"]._create_record(
            [
                {
                    "lead_id": lead.id,
                    "to_stage_id": stage.id,
                    "reason": reason,
                    "missing_criterion_ids": [fields.Command.set(missing.ids)],
                    "missing_criteria": formatted[missing],
                }
                for lead, stage, missing, reason in rows
            ]
        )
        not_met = self.env._("Criteria not met:")
        bodies = {
            lead.id: Markup("<p>%s</p><p>%s</p><p>%s</p><ul>%s</ul>")
            % (
                headers[stage],
                reason,
                not_met,
                Markup().join(Markup("<li>%s</li>") % c.name for c in missing),
            )
            for lead, stage, missing, reason in rows
        }
        self.browse(list(bodies))._message_log_batch(bodies=bodies)
        return {
            lead.id: override
            for (lead, *_rest), override in zip(rows, overrides, strict=True)
        }

    # ------------------------------------------------------------------
    # History
    # ------------------------------------------------------------------

    def _sales_funnel_log_events(self, events, overrides=None):
        """Write history rows for (lead, event, stage left, entered-it-at) tuples;
        ``overrides`` ({lead id: override}) links rows to their own override."""
        # The transaction time, as crm uses for date_last_stage_update.
        now = self.env.cr.now()
        override = self._sales_funnel_override()
        rows = []
        for lead, event, from_stage, since in events:
            rows.append(
                {
                    "lead_id": lead.id,
                    "event": event,
                    "from_stage_id": from_stage.id,
                    "to_stage_id": lead.stage_id.id,
                    # A creation is dated when the opportunity entered its stage.
                    "date": (event == "create" and lead.date_last_stage_update) or now,
                    "user_id": self.env.uid,
                    "salesperson_id": lead.user_id.id,
                    "team_id": lead.team_id.id,
                    "company_id": lead.company_id.id,
                    "expected_revenue": lead.expected_revenue,
                    "win_rate": lead.probability,
                    "weighted_revenue": lead.prorated_revenue,
                    "days_in_previous_stage": (now - since).total_seconds() / 86400
                    if since
                    else 0.0,
                    "override_id": (overrides or {}).get(lead.id, override).id,
                }
            )
        return self.env["crm.lead.stage.history"]._create_record(rows)
