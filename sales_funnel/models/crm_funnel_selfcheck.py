from collections import defaultdict
from datetime import datetime, time, timedelta

from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, date_utils, html2plaintext

from .. import funnel_terms as terms
from ..jobs import run_batches
from .crm_immutable_mixin import _RECORDER, _RECORDER_KEY

# Self-checks prepared, and late ones reminded, a batch of the daily jobs
# (jobs.run_batches).
SELFCHECK_PREPARE_BATCH = 1
SELFCHECK_REMINDER_BATCH = 100
# What the salesperson writes while the self-check is a draft.
SELFCHECK_INPUT_FIELDS = ("plan", "deal_line_ids")
# What the reviewer writes on a submitted self-check, until the sign-off.
REVIEW_INPUT_FIELDS = ("guidance", "action_ids", "deal_line_ids")
# History events listed as the changes of the week.
CHANGE_EVENTS = ("create", "forward", "backward", "won", "lost", "restore")
SELFCHECK_ACTIVITY = "sales_funnel.mail_activity_type_selfcheck"
REVIEW_ACTIVITY = "sales_funnel.mail_activity_type_one_to_one"


class CrmFunnelSelfcheck(models.Model):
    """The weekly self-check of a salesperson's funnel (周自检) and the
    manager's one-to-one review of it (一对一检查).

    A job prepares one per salesperson, company and week (``_prepare_selfchecks``):
    the funnel per stage now and a week before, what changed since the last
    self-check, the deals that need a look (stuck, evidence incomplete, next step
    overdue), the month's and quarter's target and forecast. The figures are
    stored in lines, so the record stays what it was. The salesperson checks each
    flagged deal, writes the plan for next week and submits: submitted, it is
    kept as submitted. The team leader or a sales manager then comments the
    deals, gives guidance, agrees actions (activities for the salesperson) and
    signs off: signed, the review is kept as signed. Funnel Health reads the
    signed reviews for its weak inspection flag.
    """

    _name = "crm.funnel.selfcheck"
    _inherit = ["mail.thread", "mail.activity.mixin", "crm.immutable.mixin"]
    _description = "Weekly Funnel Self-Check"
    _order = "week_start desc, user_id, id desc"
    _check_company_auto = True
    _immutable_writable_fields = (*REVIEW_INPUT_FIELDS, "message_main_attachment_id")

    user_id = fields.Many2one(
        "res.users", string="Salesperson", required=True, readonly=True, index=True
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        readonly=True,
        index=True,
        help="The salesperson's sales team when the self-check was prepared.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    week_start = fields.Date(
        string="Week",
        required=True,
        readonly=True,
        index=True,
        help="The Monday of the week of the self-check.",
    )
    date = fields.Datetime(string="Prepared On", required=True, readonly=True)
    date_from = fields.Datetime(
        string="Changes Since",
        readonly=True,
        help="The changes listed are those since the previous self-check (a week "
        "for the first one).",
    )
    compare_date = fields.Date(
        string="Compared With",
        readonly=True,
        help="The funnel of a week before, as it stood at the end of this day.",
    )
    date_deadline = fields.Date(string="Submit By", readonly=True, index=True)
    state = fields.Selection(
        [
            ("draft", "To Submit"),
            ("submitted", "Submitted"),
            ("reviewed", "Reviewed"),
        ],
        default="draft",
        required=True,
        readonly=True,
        index=True,
        tracking=True,
    )
    submit_date = fields.Datetime(string="Submitted On", readonly=True, tracking=True)
    reminder_date = fields.Datetime(string="Reminded On", readonly=True)
    plan = fields.Html(
        string="Plan for Next Week",
        sanitize_style=True,
        help="The salesperson's work plan for next week (下周工作计划).",
    )
    stage_line_ids = fields.One2many(
        "crm.funnel.selfcheck.stage", "selfcheck_id", string="Funnel by Stage"
    )
    change_line_ids = fields.One2many(
        "crm.funnel.selfcheck.change", "selfcheck_id", string="Changes"
    )
    deal_line_ids = fields.One2many(
        "crm.funnel.selfcheck.deal", "selfcheck_id", string="Deals to Check"
    )
    action_ids = fields.One2many(
        "crm.funnel.selfcheck.action", "selfcheck_id", string="Agreed Actions"
    )
    open_count = fields.Integer(string="Open Opportunities", readonly=True)
    open_amount = fields.Monetary(string="Open Pipeline", readonly=True)
    weighted_amount = fields.Monetary(string="Weighted Pipeline", readonly=True)
    open_count_before = fields.Integer(
        string="Open Opportunities a Week Before", readonly=True
    )
    open_amount_before = fields.Monetary(
        string="Open Pipeline a Week Before", readonly=True
    )
    weighted_amount_before = fields.Monetary(
        string="Weighted Pipeline a Week Before", readonly=True
    )
    flagged_count = fields.Integer(string="Flagged Deals", readonly=True)
    unchecked_count = fields.Integer(
        string="Deals Not Checked", compute="_compute_unchecked_count"
    )
    # Targets and forecasts of the month and the quarter of the self-check.
    month_start = fields.Date(string="Month", readonly=True)
    month_target = fields.Monetary(readonly=True)
    month_target_basis = fields.Char(readonly=True)
    month_won = fields.Monetary(string="Won in the Month", readonly=True)
    month_expected = fields.Monetary(
        string="Won + Weighted in the Month",
        readonly=True,
        help="Won in the month plus the weighted amount of the open opportunities "
        "expected to close in it.",
    )
    month_forecast = fields.Monetary(
        readonly=True,
        help="The salesperson's latest submitted forecast of the month.",
    )
    month_forecast_submitted = fields.Boolean(readonly=True)
    month_gap = fields.Monetary(
        readonly=True,
        help="Target − forecast (won + weighted when no forecast was submitted).",
    )
    quarter_start = fields.Date(string="Quarter", readonly=True)
    quarter_target = fields.Monetary(readonly=True)
    quarter_target_basis = fields.Char(readonly=True)
    quarter_won = fields.Monetary(string="Won in the Quarter", readonly=True)
    quarter_expected = fields.Monetary(
        string="Won + Weighted in the Quarter", readonly=True
    )
    quarter_forecast = fields.Monetary(
        readonly=True,
        help="The salesperson's latest submitted forecast of the quarter.",
    )
    quarter_forecast_submitted = fields.Boolean(readonly=True)
    quarter_gap = fields.Monetary(
        readonly=True,
        help="Target − forecast (won + weighted when no forecast was submitted).",
    )
    # The manager's one-to-one review.
    # Not tracked: Odoo 18 cannot track an Html field (saving it would fail).
    guidance = fields.Html(
        sanitize_style=True,
        help="The manager's guidance and advice (指导与建议) at the one-to-one review.",
    )
    reviewer_id = fields.Many2one(
        "res.users", string="Reviewed By", readonly=True, tracking=True
    )
    review_date = fields.Datetime(string="Reviewed On", readonly=True, index=True)
    can_review = fields.Boolean(compute="_compute_user_role")
    is_own = fields.Boolean(compute="_compute_user_role")

    def init(self):
        res = super().init()
        # One self-check per salesperson, company and week, whoever prepares it.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS crm_funnel_selfcheck_week_uniq
                ON crm_funnel_selfcheck (company_id, user_id, week_start)
            """
        )
        return res

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends("user_id.name", "week_start")
    def _compute_display_name(self):
        for selfcheck in self:
            selfcheck.display_name = self.env._(
                "Self-check of %(salesperson)s, week of %(week)s",
                salesperson=selfcheck.user_id.name or "",
                week=selfcheck.week_start or "",
            )

    @api.depends("deal_line_ids.checked")
    def _compute_unchecked_count(self):
        for selfcheck in self:
            selfcheck.unchecked_count = len(
                selfcheck.deal_line_ids.filtered(lambda line: not line.checked)
            )

    @api.depends("user_id", "team_id")
    @api.depends_context("uid")
    def _compute_user_role(self):
        for selfcheck in self:
            selfcheck.is_own = selfcheck.user_id == self.env.user
            selfcheck.can_review = selfcheck._can_review(self.env.user)

    def _can_review(self, user):
        """The team leader of the salesperson (the team of the self-check, or a
        team they are a member of) or a sales manager; never the salesperson."""
        self.ensure_one()
        if user == self.user_id:
            return False
        if user.has_group("sales_team.group_sale_manager"):
            return True
        teams = self.team_id | self.sudo().user_id.crm_team_member_ids.crm_team_id
        return user in teams.user_id

    def _reviewers(self):
        """Who is asked to hold the review: the team leader, else nobody (any
        sales manager may)."""
        self.ensure_one()
        leader = self.team_id.user_id
        return leader if leader and leader != self.user_id else leader.browse()

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    def _is_mutable(self):
        # Submitted: kept as submitted, the reviewer's fields aside.
        self.ensure_one()
        return self.state == "draft"

    def _check_selfcheck_write(self, vals):
        """Who writes what: the figures are the job's, the plan the
        salesperson's while a draft, the review the reviewer's while submitted."""
        if self.env.context.get(_RECORDER_KEY) is _RECORDER:
            return
        system = {
            fname
            for fname in vals
            if fname not in SELFCHECK_INPUT_FIELDS + REVIEW_INPUT_FIELDS
            and not fname.startswith(("message_", "activity_"))
        }
        if system:
            raise UserError(
                self.env._(
                    "%(fields)s of a self-check are filled in by the weekly job, the "
                    "submission and the sign-off, not by hand.",
                    fields=", ".join(
                        self._fields[fname]._description_string(self.env)
                        for fname in sorted(system)
                        if fname in self._fields
                    ),
                )
            )
        for selfcheck in self:
            if "plan" in vals:
                selfcheck._check_own_draft()
            if {"guidance", "action_ids"} & vals.keys():
                selfcheck._check_reviewable()

    def _check_own_draft(self):
        self.ensure_one()
        if self.user_id != self.env.user:
            raise UserError(
                self.env._(
                    "Only %(salesperson)s fills in their self-check.",
                    salesperson=self.user_id.name,
                )
            )
        if self.state != "draft":
            raise UserError(
                self.env._(
                    "%(selfcheck)s was submitted: it is kept as submitted.",
                    selfcheck=self.display_name,
                )
            )

    def _check_reviewable(self):
        """The current user may review this self-check now."""
        self.ensure_one()
        if not self._can_review(self.env.user):
            raise UserError(
                self.env._(
                    "Only the team leader of %(salesperson)s or a sales manager "
                    "reviews their self-check.",
                    salesperson=self.user_id.name,
                )
            )
        if self.state == "draft":
            raise UserError(
                self.env._(
                    "%(selfcheck)s is not submitted yet: the review starts once "
                    "the salesperson submits it.",
                    selfcheck=self.display_name,
                )
            )
        if self.state == "reviewed":
            raise UserError(
                self.env._(
                    "The review of %(selfcheck)s was signed off by %(reviewer)s: it "
                    "is kept as signed.",
                    selfcheck=self.display_name,
                    reviewer=self.reviewer_id.name,
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        if self.env.context.get(_RECORDER_KEY) is not _RECORDER:
            raise UserError(
                self.env._(
                    "Self-checks are prepared every week by the system for each "
                    "salesperson, not created by hand."
                )
            )
        return super().create(vals_list)

    def write(self, vals):
        self._check_selfcheck_write(vals)
        return super().write(vals)

    def unlink(self):
        # Drafts, too, are the job's: a week without its self-check would read as
        # "not submitted" nowhere.
        if self.env.context.get(_RECORDER_KEY) is not _RECORDER:
            self._check_mutable()
            if not self.env.su and not self.env.user.has_group(
                "sales_team.group_sale_manager"
            ):
                raise UserError(
                    self.env._("Only sales managers delete self-checks to submit.")
                )
        return super().unlink()

    # ------------------------------------------------------------------
    # Submission and review
    # ------------------------------------------------------------------

    def action_submit(self):
        """The salesperson has checked the flagged deals and planned next week."""
        for selfcheck in self:
            selfcheck._check_own_draft()
            if not html2plaintext(selfcheck.plan or "").strip():
                raise UserError(
                    self.env._(
                        "Write your plan for next week before submitting "
                        "%(selfcheck)s.",
                        selfcheck=selfcheck.display_name,
                    )
                )
            unchecked = selfcheck.deal_line_ids.filtered(lambda line: not line.checked)
            if unchecked:
                raise UserError(
                    self.env._(
                        "Check every flagged deal (a note or a next step) before "
                        "submitting: %(deals)s.",
                        deals=", ".join(unchecked.mapped("lead_name")),
                    )
                )
        now = fields.Datetime.now()
        for selfcheck in self:
            selfcheck._write_record({"state": "submitted", "submit_date": now})
            selfcheck.sudo().activity_feedback([SELFCHECK_ACTIVITY])
            reviewers = selfcheck._reviewers()
            if reviewers:
                selfcheck.sudo().activity_schedule(
                    REVIEW_ACTIVITY,
                    date_deadline=fields.Date.add(
                        fields.Date.context_today(self), days=7
                    ),
                    summary=self.env._(
                        "One-to-one review with %(salesperson)s",
                        salesperson=selfcheck.user_id.name,
                    ),
                    user_id=reviewers.id,
                )
        return True

    def action_sign_off(self):
        """The manager has held the one-to-one review: it is kept as signed."""
        for selfcheck in self:
            selfcheck._check_reviewable()
        now = fields.Datetime.now()
        for selfcheck in self:
            selfcheck._write_record(
                {
                    "state": "reviewed",
                    "reviewer_id": self.env.uid,
                    "review_date": now,
                }
            )
            selfcheck.sudo().activity_feedback([REVIEW_ACTIVITY])
            selfcheck.message_post(
                body=Markup("<p>%s</p>")
                % self.env._(
                    "One-to-one review signed off by %(reviewer)s.",
                    reviewer=self.env.user.name,
                ),
                partner_ids=selfcheck.user_id.partner_id.ids,
                subtype_xmlid="mail.mt_note",
            )
        return True

    # ------------------------------------------------------------------
    # The weekly job
    # ------------------------------------------------------------------

    @api.model
    def _cron_prepare_selfchecks(self):
        """Prepare this week's self-checks in the companies whose self-check day
        is today (a job run twice prepares nothing more)."""
        today = fields.Date.context_today(self)
        companies = (
            self.env["res.company"]
            .sudo()
            .search([("sales_funnel_selfcheck_weekday", "=", str(today.weekday()))])
        )
        prepared = self.browse()

        def step():
            # SELFCHECK_PREPARE_BATCH salespeople a batch (``jobs.run_batches``);
            # those with this week's self-check get none more. One a batch: a
            # salesperson's self-check (thousands of deals to check at a
            # million opportunities) is made in one transaction, and the
            # batches of all the jobs share the cron worker's time limit.
            nonlocal prepared
            if not companies:
                return 0, 0
            missing = self.sudo()._selfchecks_missing(companies, today)
            batch = sorted(missing, key=lambda pair: (pair[0].id, pair[1].id))[
                :SELFCHECK_PREPARE_BATCH
            ]
            done = self._prepare_selfchecks(companies, today, set(batch), missing)
            prepared |= done
            return len(done), len(missing) - len(done)

        run_batches(self.env, step)
        return prepared

    @api.model
    def action_prepare_selfchecks(self, day=None):
        """Sales managers: prepare the self-checks of the week of ``day`` (today)
        in their companies now, for the salespeople who have none yet (a new
        salesperson, a changed self-check day)."""
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise UserError(
                self.env._("Only sales managers prepare the weekly self-checks.")
            )
        day = fields.Date.to_date(day) if day else fields.Date.context_today(self)
        self._prepare_selfchecks(self.env.companies, day)
        return True

    @api.model
    def _cron_remind_selfchecks(self):
        """Remind the salespeople (and their team leader) of the self-checks
        still to submit after their deadline, once."""
        domain = [
            ("state", "=", "draft"),
            ("date_deadline", "<", fields.Date.context_today(self)),
            ("reminder_date", "=", False),
        ]
        reminded = self.browse()

        def step():
            # SELFCHECK_REMINDER_BATCH a batch (``jobs.run_batches``).
            nonlocal reminded
            late = self.sudo().search(
                domain, limit=SELFCHECK_REMINDER_BATCH, order="id"
            )
            self._remind_late_selfchecks(late)
            reminded |= late
            return len(late), self.sudo().search_count(domain)

        run_batches(self.env, step)
        return reminded

    def _remind_late_selfchecks(self, late):
        for selfcheck in late:
            partners = selfcheck.user_id.partner_id | selfcheck._reviewers().partner_id
            selfcheck.message_post(
                body=Markup("<p>%s</p>")
                % self.env._(
                    "%(salesperson)s has not submitted the self-check of the week of "
                    "%(week)s, due on %(deadline)s.",
                    salesperson=selfcheck.user_id.name,
                    week=selfcheck.week_start,
                    deadline=selfcheck.date_deadline,
                ),
                partner_ids=partners.ids,
                subtype_xmlid="mail.mt_note",
            )
        late._write_record({"reminder_date": fields.Datetime.now()})
        return late

    @api.model
    def _prepare_selfchecks(self, companies, today, people=None, missing=None):
        """Prepare the self-checks of the week of ``today`` for every salesperson
        of ``companies`` (users with open opportunities or a target) who has none
        yet (``people``: those of them only, {(company, user)}; ``missing``:
        ``_selfchecks_missing``'s answer, when the caller just read it). The
        number of queries does not grow with the number of deals."""
        if not self.env.su:
            # The job reads every salesperson's funnel, whoever triggers it.
            return self.sudo()._prepare_selfchecks(companies, today, people, missing)
        if not companies:
            return self.browse()
        week_start = today - timedelta(days=today.weekday())
        if missing is None:
            missing = self._selfchecks_missing(companies, today)
        people = missing if people is None else missing & set(people)
        if not people:
            return self.browse()
        users = self.env["res.users"].union(*(user for _company, user in people))
        # A past week's self-check (a late run, the demo) reads up to that day.
        now = min(
            fields.Datetime.now(),
            datetime.combine(today + timedelta(days=1), time.min),
        )
        compare_date = today - timedelta(days=7)
        stages_now = self._selfcheck_stage_figures(companies, users, today)
        stages_before = self._selfcheck_stage_figures(companies, users, compare_date)
        since = self._selfcheck_since(companies, users, week_start, now)
        changes = self._selfcheck_changes(companies, users, since, now)
        flagged = self._selfcheck_flagged_deals(companies, users, today)
        targets = self._selfcheck_targets(companies, users, today)
        funnel_stages = self.env["crm.stage"].search(
            terms.FUNNEL_STAGE_DOMAIN, order="sequence, id"
        )
        vals_list = []
        for company, user in sorted(people, key=lambda pair: (pair[0].id, pair[1].id)):
            key = (company.id, user.id)
            vals_list.append(
                self._prepare_selfcheck_vals(
                    company,
                    user,
                    today,
                    now,
                    stage_lines=self._selfcheck_stage_lines(
                        funnel_stages,
                        user.sale_team_id,
                        stages_now.get(key, {}),
                        stages_before.get(key, {}),
                    ),
                    since=since[key],
                    changes=changes.get(key, []),
                    flagged=flagged.get(key, []),
                    targets=targets.get(key, {}),
                )
            )
        selfchecks = self.with_context(
            mail_create_nolog=True, mail_create_nosubscribe=True
        )._create_record(vals_list)
        for selfcheck in selfchecks:
            selfcheck.message_subscribe(
                (selfcheck.user_id | selfcheck._reviewers()).partner_id.ids
            )
            selfcheck.activity_schedule(
                SELFCHECK_ACTIVITY,
                date_deadline=selfcheck.date_deadline,
                user_id=selfcheck.user_id.id,
            )
        return selfchecks

    @api.model
    def _selfchecks_missing(self, companies, today):
        """{(company, user)}: the salespeople of ``companies`` without a
        self-check for the week of ``today``."""
        week_start = today - timedelta(days=today.weekday())
        people = self._selfcheck_people(companies, today)
        for selfcheck in self.search_fetch(
            [("company_id", "in", companies.ids), ("week_start", "=", week_start)],
            ["company_id", "user_id"],
        ):
            people.discard((selfcheck.company_id, selfcheck.user_id))
        return people

    @api.model
    def _selfcheck_people(self, companies, today):
        """{(company, user)}: the salespeople with open opportunities or a
        target of a current or future period, per company."""
        domain = [("company_id", "in", companies.ids), ("user_id", "!=", False)]
        people = {
            (company, user)
            for company, user in self.env["crm.lead"]._read_group(
                [*terms.OPEN_OPPORTUNITY_DOMAIN, *domain], ["company_id", "user_id"]
            )
        }
        people |= {
            (company, user)
            for company, user in self.env["crm.sales.target"]._read_group(
                [*domain, ("date_to", ">=", today)], ["company_id", "user_id"]
            )
        }
        return {
            (company, user)
            for company, user in people
            if user.active and not user.share
        }

    @api.model
    def _selfcheck_stage_figures(self, companies, users, day):
        """{(company id, user id): {stage id: (count, amount, weighted)}} of the
        open funnel as it stood at the end of ``day`` (the pipeline as of a
        date, read from the stage history)."""
        Pipeline = self.env["crm.funnel.pipeline.report"].with_context(
            sales_funnel_as_of=fields.Date.to_string(day)
        )
        figures = defaultdict(dict)
        for company, user, stage, count, amount, weighted in Pipeline._read_group(
            [
                ("state", "=", "open"),
                ("company_id", "in", companies.ids),
                ("user_id", "in", users.ids),
            ],
            ["company_id", "user_id", "stage_id"],
            ["__count", "amount:sum", "weighted_amount:sum"],
        ):
            figures[company.id, user.id][stage.id] = (count, amount, weighted)
        return figures

    @api.model
    def _selfcheck_stage_lines(self, funnel_stages, team, now, before):
        """Values of the stage lines: the stages of the salesperson's pipeline
        and any stage holding one of their deals now or a week before."""
        stages = funnel_stages.filtered(
            lambda stage: not stage.team_id or stage.team_id == team
        ) | funnel_stages.browse(set(now) | set(before))
        lines = []
        for stage in stages.sorted(lambda stage: stage._funnel_rank()):
            count, amount, weighted = now.get(stage.id, (0, 0.0, 0.0))
            count_before, amount_before, weighted_before = before.get(
                stage.id, (0, 0.0, 0.0)
            )
            lines.append(
                {
                    "stage_id": stage.id,
                    "sequence": len(lines),
                    "count": count,
                    "amount": amount,
                    "weighted_amount": weighted,
                    "count_before": count_before,
                    "amount_before": amount_before,
                    "weighted_amount_before": weighted_before,
                }
            )
        return lines

    @api.model
    def _selfcheck_since(self, companies, users, week_start, now):
        """{(company id, user id): when the previous self-check was prepared, else
        a week before ``now``}."""
        previous = {
            (company.id, user.id): date
            for company, user, date in self._read_group(
                [
                    ("company_id", "in", companies.ids),
                    ("user_id", "in", users.ids),
                    ("week_start", "<", week_start),
                ],
                ["company_id", "user_id"],
                ["date:max"],
            )
        }
        default = now - timedelta(days=7)
        return defaultdict(
            lambda: default,
            {
                key: max(date, default - timedelta(days=21))
                for key, date in previous.items()
            },
        )

    @api.model
    def _selfcheck_changes(self, companies, users, since, now):
        """{(company id, user id): [history row]} of the events of each
        salesperson's deals since their previous self-check."""
        if not since:
            earliest = now - timedelta(days=7)
        else:
            earliest = min([*since.values(), now - timedelta(days=7)])
        changes = defaultdict(list)
        for row in self.env["crm.lead.stage.history"].search_fetch(
            [
                ("company_id", "in", companies.ids),
                ("salesperson_id", "in", users.ids),
                ("event", "in", CHANGE_EVENTS),
                ("date", ">", earliest),
                ("date", "<=", now),
            ],
            [
                "lead_id",
                "event",
                "from_stage_id",
                "to_stage_id",
                "date",
                "salesperson_id",
                "company_id",
                "expected_revenue",
            ],
            order="date, id",
        ):
            key = (row.company_id.id, row.salesperson_id.id)
            if row.date > since[key]:
                changes[key].append(row)
        return changes

    @api.model
    def _selfcheck_flagged_deals(self, companies, users, today):
        """{(company id, user id): [(lead, flags)]}: the open deals that are
        stuck, whose evidence is incomplete or whose next step is overdue."""
        Lead = self.env["crm.lead"]
        domain = [
            *terms.OPEN_OPPORTUNITY_DOMAIN,
            ("company_id", "in", companies.ids),
            ("user_id", "in", users.ids),
        ]
        stuck = {
            row[0] for row in self.env.execute_query(Lead._stuck_query(domain).select())
        }
        missing = {
            lead.id: count
            for lead, count in self.env["crm.lead.criterion"]._read_group(
                [
                    ("in_current_stage", "=", True),
                    ("done", "=", False),
                    ("criterion_id.required", "=", True),
                    ("lead_id", "any", domain),
                ],
                ["lead_id"],
                ["__count"],
            )
        }
        overdue = self._overdue_lead_ids(domain, today)
        fact_card = self._fact_card_incomplete_ids(domain)
        ids = stuck | set(missing) | overdue | fact_card
        flagged = defaultdict(list)
        for lead in Lead.browse(sorted(ids)).with_prefetch():
            flags = {
                "is_stuck": lead.id in stuck,
                "criteria_missing_count": missing.get(lead.id, 0),
                "activity_overdue": lead.id in overdue,
                "fact_card_incomplete": lead.id in fact_card,
            }
            flagged[lead.company_id.id, lead.user_id.id].append((lead, flags))
        return flagged

    @api.model
    def _overdue_lead_ids(self, domain, today):
        """Ids of the opportunities within ``domain`` with an overdue activity."""
        query = self.env["crm.lead"]._search(domain)
        self.env["mail.activity"].flush_model(
            ["res_model", "res_id", "date_deadline", "active"]
        )
        query.add_where(
            SQL(
                """
                EXISTS (
                    SELECT 1 FROM mail_activity activity
                     WHERE activity.res_model = 'crm.lead'
                       AND activity.res_id = %(id)s
                       AND activity.active
                       AND activity.date_deadline < %(today)s)
                """,
                id=SQL.identifier(query.table, "id"),
                today=today,
            )
        )
        return {row[0] for row in self.env.execute_query(query.select())}

    @api.model
    def _fact_card_incomplete_ids(self, domain):
        """Ids of the opportunities within ``domain`` whose Basic Facts Card
        (``crm.lead.fact.card``, when installed) lacks a section that a required
        criterion of their stage, or of a stage before it, asks for (no card:
        every such section is missing)."""
        if "crm.lead.fact.card" not in self.env:
            return set()
        criteria = self.env["crm.stage.criterion"].search_fetch(
            [("evidence_type", "=", "card_section"), ("required", "=", True)],
            ["stage_id", "evidence_card_section"],
        )
        if not criteria:
            return set()
        leads = self.env["crm.lead"].search_fetch(domain, ["stage_id"])
        cards = {
            card.lead_id.id: card
            for card in self.env["crm.lead.fact.card"].search(
                [("lead_id", "in", leads.ids)]
            )
        }
        needed = {}
        for stage in leads.stage_id:
            needed[stage.id] = {
                criterion.evidence_card_section
                for criterion in criteria
                if criterion.stage_id._funnel_rank() <= stage._funnel_rank()
            }
        return {
            lead.id
            for lead in leads
            if needed[lead.stage_id.id]
            and (
                lead.id not in cards
                or not all(
                    cards[lead.id]._section_done(section)
                    for section in needed[lead.stage_id.id]
                )
            )
        }

    @api.model
    def _selfcheck_targets(self, companies, users, today):
        """{(company id, user id): {prefix: values}} of the month and the
        quarter of ``today``: target, won, won + weighted, submitted forecast."""
        Target = self.env["crm.sales.target"]
        Forecast = self.env["crm.funnel.forecast.report"]
        periods = {
            prefix: (date_utils.start_of(today, kind), date_utils.end_of(today, kind))
            for prefix, kind in (("month", "month"), ("quarter", "quarter"))
        }
        submitted = {}
        for submission in self.env["crm.forecast.submission"].search_fetch(
            [
                ("level", "=", "salesperson"),
                ("state", "=", "submitted"),
                ("company_id", "in", companies.ids),
                ("user_id", "in", users.ids),
                ("date_from", "in", [start for start, _end in periods.values()]),
            ],
            ["company_id", "user_id", "period_type", "date_from", "amount"],
            order="submit_date desc, id desc",
        ):
            submitted.setdefault(
                (
                    submission.company_id.id,
                    submission.user_id.id,
                    submission.period_type,
                    submission.date_from,
                ),
                submission.amount,
            )
        result = defaultdict(dict)
        for prefix, (start, end) in periods.items():
            slice_targets = {
                company.id: Target._target_amounts(
                    [(user.id, False) for user in users], start, end, company
                )
                for company in companies
            }
            expected = {}
            for company in companies:
                # Amounts in the company's own currency.
                for user, won, weighted in Forecast.with_company(company)._read_group(
                    [
                        ("date", ">=", start),
                        ("date", "<=", end),
                        ("company_id", "=", company.id),
                        ("user_id", "in", users.ids),
                    ],
                    ["user_id"],
                    ["won_amount:sum", "weighted_amount:sum"],
                ):
                    expected[company.id, user.id] = (won, weighted)
            for company in companies:
                for user in users:
                    target = slice_targets[company.id].get((user.id, False))
                    won, weighted = expected.get((company.id, user.id), (0.0, 0.0))
                    forecast = submitted.get((company.id, user.id, prefix, start))
                    reference = won + weighted if forecast is None else forecast
                    result[company.id, user.id][prefix] = {
                        "start": start,
                        "target": target.amount if target else 0.0,
                        "target_basis": target.basis if target else "",
                        "won": won,
                        "expected": won + weighted,
                        "forecast": forecast or 0.0,
                        "forecast_submitted": forecast is not None,
                        "gap": (target.amount - reference) if target else 0.0,
                    }
        return result

    @api.model
    def _prepare_selfcheck_vals(
        self, company, user, today, now, stage_lines, since, changes, flagged, targets
    ):
        """Values of the self-check of ``user`` in ``company`` for the week of
        ``today``, with its lines."""
        vals = {
            "user_id": user.id,
            "team_id": user.sale_team_id.id,
            "company_id": company.id,
            "week_start": today - timedelta(days=today.weekday()),
            "date": now,
            "date_from": since,
            "compare_date": today - timedelta(days=7),
            "date_deadline": today
            + timedelta(days=company.sales_funnel_selfcheck_deadline_days),
            "open_count": sum(line["count"] for line in stage_lines),
            "open_amount": sum(line["amount"] for line in stage_lines),
            "weighted_amount": sum(line["weighted_amount"] for line in stage_lines),
            "open_count_before": sum(line["count_before"] for line in stage_lines),
            "open_amount_before": sum(line["amount_before"] for line in stage_lines),
            "weighted_amount_before": sum(
                line["weighted_amount_before"] for line in stage_lines
            ),
            "flagged_count": len(flagged),
            "stage_line_ids": [Command.create(line) for line in stage_lines],
            "change_line_ids": [
                Command.create(
                    {
                        "history_id": row.id,
                        "lead_id": row.lead_id.id,
                        "lead_name": row.lead_id.name,
                        "event": row.event,
                        "from_stage_id": row.from_stage_id.id,
                        "to_stage_id": row.to_stage_id.id,
                        "date": row.date,
                        "amount": row.expected_revenue,
                    }
                )
                for row in changes
            ],
            "deal_line_ids": [
                Command.create(
                    {
                        "lead_id": lead.id,
                        "lead_name": lead.name,
                        "partner_id": lead.partner_id.id,
                        "stage_id": lead.stage_id.id,
                        "amount": lead.expected_revenue,
                        "days_in_stage": lead.days_in_stage,
                        **flags,
                    }
                )
                for lead, flags in flagged
            ],
        }
        for prefix, values in targets.items():
            vals.update({f"{prefix}_{fname}": value for fname, value in values.items()})
        return vals

    # ------------------------------------------------------------------
    # Navigation
    # ------------------------------------------------------------------

    def action_open_opportunities(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm.crm_lead_action_pipeline"
        )
        action["domain"] = [("user_id", "=", self.user_id.id)]
        action["context"] = {"default_user_id": self.user_id.id}
        return action
