from collections import defaultdict, namedtuple

from odoo import api, fields, models, tools
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL

from .. import funnel_terms as terms

# An opportunity as it was before a write: the steps of ``CrmLead.write``
# compare it with the opportunity after the write.
StageSnapshot = namedtuple("StageSnapshot", ["stage", "since", "active"])


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
        # Its included columns are those of the pipeline's domain and record
        # rules: the progress bar's leads (id, stage) are an index-only scan,
        # not a read of the whole table.
        self.env.cr.execute("DROP INDEX IF EXISTS crm_lead_sales_funnel_kanban_idx")
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS crm_lead_sales_funnel_kanban_cover_idx
                ON crm_lead (stage_id, priority DESC, id DESC)
                INCLUDE (type, company_id, user_id, team_id)
             WHERE active
            """
        )
        # Stuck opportunities, oldest first, without the won and lost ones (the
        # dashboard's ten: a walk of this index). Its condition is the stuck
        # query's own (COALESCE): with ``probability < 100`` PostgreSQL could
        # not use it and walked 60,000 closed deals at 1,000,000 (0.4 s).
        self.env.cr.execute("DROP INDEX IF EXISTS crm_lead_sales_funnel_stuck_idx")
        tools.create_index(
            self.env.cr,
            "crm_lead_sales_funnel_stuck_order_idx",
            self._table,
            ["date_last_stage_update"],
            where="active AND type = 'opportunity' AND COALESCE(probability, 0) < 100",
        )
        return res

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends("company_id")
    @api.depends_context("company")
    def _compute_sales_funnel_follows_stage(self):
        for lead in self:
            lead.sales_funnel_follows_stage = lead._probability_follows_stage()

    def _probability_follows_stage(self):
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

    @api.model
    def _stuck_query(self, domain=()):
        """The Query of the stuck opportunities within ``domain``: open
        opportunities past their stage's maximum days, with no activity that is
        still due (a planned, not overdue activity means someone is on it).

        Built on the ORM's search of crm.lead, so that every record rule of the
        user applies (the "own documents" rule and a company's own rules);
        use ``sudo()`` for all of them."""
        query = self._search(
            expression.AND([terms.FUNNEL_OPPORTUNITY_DOMAIN, list(domain)])
        )
        lead = query.table
        query.add_join(
            "JOIN",
            "stage",
            "crm_stage",
            SQL("stage.id = %s", SQL.identifier(lead, "stage_id")),
        )
        self.env["crm.lead"].flush_model(
            ["active", "type", "probability", "stage_id"]
            + ["stuck_since", "planned_until"]
        )
        self.env["crm.stage"].flush_model(["is_won"])
        # stuck_since and planned_until are stored (crm_lead_stuck.py): the
        # condition is a range of the partial index on stuck_since.
        query.add_where(
            SQL(
                """
                %(open)s
                AND COALESCE(%(probability)s, 0) < 100
                AND %(since)s < %(now)s
                AND (%(planned)s IS NULL OR %(planned)s < %(today)s)
                """,
                open=terms.open_opportunity(lead, "stage"),
                probability=SQL.identifier(lead, "probability"),
                since=SQL.identifier(lead, "stuck_since"),
                planned=SQL.identifier(lead, "planned_until"),
                now=fields.Datetime.now(),
                today=fields.Date.context_today(self),
            )
        )
        return query

    def _stuck_lead_ids(self, lead_ids=None):
        """Ids of the stuck opportunities (among ``lead_ids``), for everyone."""
        domain = [] if lead_ids is None else [("id", "in", list(lead_ids))]
        query = self.sudo()._stuck_query(domain)
        return {row[0] for row in self.env.execute_query(query.select())}

    @api.depends("stuck_since", "planned_until", "probability", "stage_id")
    def _compute_is_stuck(self):
        stuck = self._stuck_lead_ids(self.ids)
        for lead in self:
            lead.is_stuck = lead.id in stuck

    def _search_is_stuck(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Unsupported search on “Stuck”."))
        positive = (operator == "=") == value
        # The stored dates of crm_lead_stuck.py, so that the search is a range
        # of one partial index (no per-stage scan, no join with the activities).
        self.env["mail.activity"].flush_model(["res_model", "res_id", "date_deadline"])
        now = fields.Datetime.now()
        today = fields.Date.context_today(self)
        if positive:
            return [
                ("stuck_since", "<", now),
                ("probability", "<", 100),
                ("stage_id.is_won", "=", False),
                "|",
                ("planned_until", "=", False),
                ("planned_until", "<", today),
            ]
        return expression.OR(
            [
                [("stuck_since", "=", False)],
                [("stuck_since", ">=", now)],
                [("probability", ">=", 100)],
                [("stage_id.is_won", "=", True)],
                [("planned_until", ">=", today)],
            ]
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
        follows = self.filtered(lambda lead: lead._probability_follows_stage())
        res = super(CrmLead, self - follows)._compute_probabilities()
        for lead in follows:
            rate = lead.stage_id.win_rate if lead.active else 0.0
            lead.automated_probability = rate
            lead.probability = rate
        return res

    def _update_automated_probabilities(self):
        # The PLS cron rewrites probabilities in SQL: put stage-mode ones back.
        res = super()._update_automated_probabilities()
        self._sync_stage_probabilities()
        return res

    # The stored fields of crm that follow the probability, and their amount.
    _SALES_FUNNEL_PRORATED = {
        "prorated_revenue": "expected_revenue",
        "recurring_revenue_prorated": "recurring_revenue",
        "recurring_revenue_monthly_prorated": "recurring_revenue_monthly",
    }

    @api.model
    def _sync_stage_probabilities(self):
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
    # CRUD: the data path of a stage change
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        """Create, along the data path of a stage change (see ``write``): the
        source the facts give (``_fill_funnel_sources``, crm_lead_source.py), the
        gate of the stage created in, the creation, the checklist, the entry
        activities, the gate overrides a sales manager gave a reason for, the
        history, the hand-off queue."""
        Company = self.env["res.company"]
        for vals in vals_list:
            company = Company.browse(vals.get("company_id")) or self.env.company
            self._strip_stage_probability(vals, company)
        self._check_loss_reports_on_create(vals_list)
        self._fill_funnel_sources(vals_list)
        gate_overrides = self._check_gate_on_create(vals_list)
        leads = super().create(vals_list)
        leads._ensure_checklist()
        leads._schedule_stage_entry_activity()
        overrides = leads._record_gate_overrides_on_create(gate_overrides)
        leads._log_stage_history(overrides=overrides)
        leads._update_handoff_queue()
        leads._grade()
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
        """Write; a change of stage or of the active flag (kanban drop, Won,
        Lost, Restore, import, API) follows the data path of a stage change,
        one step a method, each in the file of its concern:

        0. loss report: ``_check_loss_reports`` (crm_lead_loss.py) refuses to
           lose an opportunity without a complete loss report, and the edits
           that would reopen a lost one without restoring it (any write that
           may lose or reopen: active, type, stage, probability, lost reason);
        1. gate: ``_check_stage_gate`` (crm_lead_gate.py) refuses a forward
           move while a required criterion of a stage left or skipped is not
           ticked, unless server code holds a gate override;
        2. the write itself (crm sets the date of the stage and the
           probability; ``_compute_probabilities`` here gives the win rate),
           then ``_record_loss_reports`` stamps the reports of the deals just
           lost (stage lost at, re-contact activity) and closes those of the
           deals restored;
        3. checklist: ``_ensure_checklist`` adds the lines of the new stage;
        4. entry activities: ``_schedule_stage_entry_activity``
           (crm_lead_collaboration.py) plans what the new stage asks for: its
           entry activity and one per collaborator it brings in;
        5. history: ``_log_stage_history`` (crm_lead_history.py) writes one
           row per move, loss or restore, linked to the gate override if any;
        6. hand-off queue: ``_update_handoff_queue`` (crm_lead_handoff.py)
           queues the deals just won and warns on those reopened after their
           hand-off;
        7. grade: ``_regrade_on_change`` (crm_lead_grade.py) regrades, in one
           batch, the deals whose grade inputs (amount, customer, competitors,
           team, company) are written; nothing, and no query, on a stage
           change.

        The stage and active flag before the write are read once
        (``_stage_snapshot``) and passed to the steps that compare. ``create``
        follows the same path. A new feature adds a step here, not another
        override of ``create`` or ``write``.
        """
        if {"probability", "automated_probability"} & vals.keys():
            follows = self.filtered(lambda lead: lead._probability_follows_stage())
            if follows and follows != self:
                # Mixed companies: each group keeps its own probability rule.
                return follows.write(vals) and (self - follows).write(vals)
            if follows:
                vals = dict(vals)
                self._strip_stage_probability(vals, follows[:1].company_id)
        loss_changed = self._check_loss_reports(vals)
        if "stage_id" not in vals and "active" not in vals and not loss_changed:
            res = super().write(vals)
            self._regrade_on_change(vals)
            return res

        new_stage = self.env["crm.stage"].browse(vals.get("stage_id"))
        before = self._stage_snapshot(new_stage)
        moved = self.browse()
        if new_stage:
            moved = self.filtered(lambda lead: lead.stage_id != new_stage)
        moved._check_stage_gate(new_stage)
        res = super().write(vals)
        loss_changed._record_loss_reports()
        moved._ensure_checklist()
        moved._schedule_stage_entry_activity()
        self._log_stage_history(before)
        self._update_handoff_queue(before)
        self._regrade_on_change(vals)
        return res

    def _strip_stage_probability(self, vals, company):
        """In stage mode the probability is never typed or imported."""
        if company.sales_funnel_probability_mode != "pls":
            vals.pop("probability", None)
            vals.pop("automated_probability", None)
        return vals

    def _stage_snapshot(self, new_stage):
        """Stage, time in it and active flag of each opportunity before a write
        ({lead id: StageSnapshot}), for the steps that compare. The current
        stages and ``new_stage`` are read in one query."""
        (self.stage_id | new_stage).fetch(_prefetched(new_stage))
        return {
            lead.id: StageSnapshot(
                lead.stage_id,
                lead.date_last_stage_update or lead.create_date,
                lead.active,
            )
            for lead in self
        }

    # ------------------------------------------------------------------
    # Product lines
    # ------------------------------------------------------------------

    def _update_revenue_from_lines(self):
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
        # One write a total, not a lead: a write regrades its deals in a batch.
        changed = defaultdict(lambda: self.browse())
        for lead in leads:
            total = totals.get(lead, 0.0)
            if lead.company_currency.compare_amounts(total, lead.expected_revenue):
                changed[total] |= lead
        for total, group in changed.items():
            group.expected_revenue = total

    # ------------------------------------------------------------------
    # Step 3 of write and create: checklist
    # ------------------------------------------------------------------

    def _ensure_checklist(self):
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
