from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL


class CrmStage(models.Model):
    _inherit = "crm.stage"

    win_rate = fields.Float(
        string="Win Rate (%)",
        default=10.0,
        help="Preset probability of winning an opportunity in this stage. In "
        "stage win-rate mode the opportunity's probability follows it.",
    )
    goal = fields.Text(string="Stage Goal", translate=True)
    main_work = fields.Text(translate=True)
    diagnostic_focus = fields.Text(translate=True)
    diagnostic_indicators = fields.Text(translate=True)
    verification_output = fields.Text(
        translate=True,
        help="The artefact that proves the stage was done (a report, a plan, a "
        "contract).",
    )
    # Collaboration: entering the stage brings in the people it needs.
    entry_activity_type_id = fields.Many2one(
        "mail.activity.type",
        string="Activity on Entry",
        domain="[('res_model', 'in', (False, 'crm.lead'))]",
        help="Scheduled automatically when an opportunity enters this stage "
        "(e.g. bring in the solutions team for Development).",
    )
    entry_activity_summary = fields.Char(translate=True)
    entry_activity_user_id = fields.Many2one(
        "res.users",
        string="Assigned To",
        domain="[('share', '=', False)]",
        help="Who gets the activity. Empty: the opportunity's salesperson.",
    )
    entry_activity_days = fields.Integer(
        string="Due After (days)",
        default=2,
        help="Days after the stage entry the activity is due.",
    )
    collaboration_ids = fields.One2many(
        "crm.stage.collaboration",
        "stage_id",
        help="Who is brought in when an opportunity enters this stage: each "
        "collaborator gets an activity on the opportunity.",
    )
    max_days_in_stage = fields.Integer(
        string="Maximum Days in Stage",
        help="An open opportunity longer in this stage is stuck (停留时间过长), unless "
        "an activity is planned and not overdue. 0: no limit.",
    )
    criterion_ids = fields.One2many(
        "crm.stage.criterion", "stage_id", string="Exit Criteria"
    )
    criterion_count = fields.Integer(compute="_compute_criterion_count")

    _sql_constraints = [
        (
            "win_rate_range",
            "CHECK(win_rate >= 0 AND win_rate <= 100)",
            "A stage win rate must be between 0 and 100.",
        ),
    ]

    @api.depends("criterion_ids")
    def _compute_criterion_count(self):
        counts = dict(
            self.env["crm.stage.criterion"]._read_group(
                [("stage_id", "in", self.ids)], ["stage_id"], ["__count"]
            )
        )
        for stage in self:
            stage.criterion_count = counts.get(stage, 0)

    @api.constrains("win_rate", "is_won")
    def _check_win_rate(self):
        for stage in self:
            if not 0 <= stage.win_rate <= 100:
                raise ValidationError(
                    self.env._(
                        "The win rate of stage “%(stage)s” must be between 0 and "
                        "100, not %(rate)s.",
                        stage=stage.name,
                        rate=stage.win_rate,
                    )
                )
            if stage.is_won and stage.win_rate != 100:
                raise ValidationError(
                    self.env._(
                        "Stage “%(stage)s” is a won stage: its win rate must be 100.",
                        stage=stage.name,
                    )
                )

    @api.constrains("max_days_in_stage", "entry_activity_days")
    def _check_days(self):
        for stage in self:
            if stage.max_days_in_stage < 0:
                raise ValidationError(
                    self.env._(
                        "The maximum days in stage “%(stage)s” cannot be negative "
                        "(%(days)s): enter a number of days, or 0 for no limit.",
                        stage=stage.name,
                        days=stage.max_days_in_stage,
                    )
                )
            if stage.entry_activity_days < 0:
                raise ValidationError(
                    self.env._(
                        "The activity on entering stage “%(stage)s” cannot be due "
                        "before the entry (%(days)s days): enter 0 or more days.",
                        stage=stage.name,
                        days=stage.entry_activity_days,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("is_won"):
                vals.setdefault("win_rate", 100.0)
        stages = super().create(vals_list)
        self.env.registry.clear_cache()  # _funnel_order
        return stages

    def write(self, vals):
        reorders = {"sequence", "is_won"} & vals.keys()
        if reorders:
            before = self._funnel_order_and_won()
        res = super().write(vals)
        if reorders and self._funnel_order_and_won() != before:
            # Stage Analysis' kept rows compare stages in the funnel order.
            self.env["crm.funnel.stage.report"]._rebuild_stays()
        if {"sequence", "team_id"} & vals.keys():
            self.env.registry.clear_cache()  # _funnel_order
        if {"max_days_in_stage", "is_won"} & vals.keys():
            self.env["crm.lead"]._update_stuck_dates(
                SQL("l.stage_id IN %s", tuple(self.ids))
            )
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()  # _funnel_order
        return res

    def _funnel_order_and_won(self):
        stages = self.sudo().search_fetch([], ["is_won"], order="sequence, id")
        return [(stage.id, stage.is_won) for stage in stages]

    def _funnel_rank(self):
        """Order key of a stage in the funnel (the kanban order)."""
        self.ensure_one()
        return (self.sequence, self.id)

    @api.model
    @tools.ormcache()
    def _funnel_order(self):
        """Every stage as (id, funnel rank, team id), in funnel order.

        The gate reads it on each forward move without a query; creating or
        deleting a stage, or changing its sequence or team, clears it.
        """
        stages = self.sudo().search_fetch([], ["sequence", "team_id"])
        return tuple(
            sorted(
                (
                    (stage.id, stage._funnel_rank(), stage.team_id.id)
                    for stage in stages
                ),
                key=lambda row: row[1],
            )
        )

    # ------------------------------------------------------------------
    # Win rate from history (阶段商机赢率 = won ÷ opportunities in the stage)
    # ------------------------------------------------------------------

    historical_win_rate = fields.Float(
        string="Historical Win Rate (%)",
        compute="_compute_historical_win_rate",
        help="Won ÷ opportunities that reached this stage, from the stage history "
        "of the opportunities you can see.",
    )
    historical_entered_count = fields.Integer(
        string="Opportunities Reached",
        compute="_compute_historical_win_rate",
    )
    historical_won_count = fields.Integer(
        string="Won Since", compute="_compute_historical_win_rate"
    )
    win_rate_log_ids = fields.One2many(
        "crm.stage.win.rate.log", "stage_id", string="Win Rate Calibrations"
    )

    @api.depends_context("uid", "allowed_company_ids")
    def _compute_historical_win_rate(self):
        # The counts of the stage analysis (crm.funnel.stage.report), read
        # straight from the history of these stages: the form stays quick.
        counts = self._historical_counts()
        for stage in self:
            entered, won = counts.get(stage.id, (0, 0))
            stage.historical_entered_count = entered
            stage.historical_won_count = won
            stage.historical_win_rate = won * 100.0 / entered if entered else 0.0

    def _historical_counts(self):
        """{stage id: (opportunities that entered it, of which won later)},
        over the opportunities the user may read."""
        stages = self.filtered(lambda stage: stage.id and not stage.is_won)
        if not stages:
            return {}
        leads = (
            self.env["crm.lead"]
            .with_context(active_test=False)
            ._search([("type", "=", "opportunity")])
        )
        self.env["crm.lead.stage.history"].flush_model(
            ["lead_id", "event", "to_stage_id", "date"]
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT entry.to_stage_id, COUNT(*), COUNT(won.lead_id)
                  FROM (SELECT lead_id, to_stage_id, MIN(date) AS date
                          FROM crm_lead_stage_history
                         WHERE to_stage_id IN %(stages)s
                           AND event IN ('create', 'forward', 'backward')
                           AND lead_id IN %(leads)s
                         GROUP BY lead_id, to_stage_id) entry
                  LEFT JOIN (SELECT lead_id, MIN(date) AS date
                               FROM crm_lead_stage_history
                              WHERE event = 'won'
                              GROUP BY lead_id) won
                         ON won.lead_id = entry.lead_id AND won.date >= entry.date
                 GROUP BY entry.to_stage_id
                """,
                stages=tuple(stages.ids),
                leads=leads.subselect(),
            )
        )
        return {
            stage_id: (entered, won)
            for stage_id, entered, won in self.env.cr.fetchall()
        }

    def action_adopt_historical_win_rate(self):
        """Set each stage's preset win rate to its historical one (managers)."""
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(
                self.env._("Only sales managers can adopt historical win rates.")
            )
        stages = self.filtered(lambda stage: not stage.is_won)
        empty = stages.filtered(lambda stage: not stage.historical_entered_count)
        if empty:
            raise UserError(
                self.env._(
                    "No opportunity has reached %(stages)s yet: there is no "
                    "historical win rate to adopt.",
                    stages=", ".join(empty.mapped("name")),
                )
            )
        logs = [
            {
                "stage_id": stage.id,
                "old_win_rate": stage.win_rate,
                "new_win_rate": round(stage.historical_win_rate, 2),
                "entered_count": stage.historical_entered_count,
                "won_count": stage.historical_won_count,
            }
            for stage in stages
        ]
        for stage, log in zip(stages, logs, strict=True):
            stage.win_rate = log["new_win_rate"]
        self.env["crm.stage.win.rate.log"]._create_record(logs)
        return True
