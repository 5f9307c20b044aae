from odoo import fields, models
from odoo.tools import SQL

# Events that put an opportunity into a stage (a restore resumes a stay).
ENTRY_EVENTS = ("create", "forward", "backward")


class CrmFunnelStageReport(models.Model):
    """Stage analytics 阶段控制参数, rebuilt from the stage history.

    One row per opportunity and funnel stage it reached, dated when it first
    entered the stage. Every rate is the average of a 0/100 flag over these
    rows, so it stays a true ratio (passed ÷ entered, won ÷ entered) whatever
    the grouping: stage, salesperson, team, company, month of entry.
    """

    _name = "crm.funnel.stage.report"
    _description = "Stage Analysis"
    _auto = False
    _rec_name = "stage_id"
    _order = "date desc, id desc"
    _depends = {
        "crm.lead.stage.history": ["lead_id", "event", "to_stage_id", "date"],
        "crm.lead": ["type", "user_id", "team_id", "company_id"],
        "crm.stage": ["sequence", "is_won", "win_rate"],
    }

    lead_id = fields.Many2one("crm.lead", string="Opportunity", readonly=True)
    stage_id = fields.Many2one("crm.stage", readonly=True)
    date = fields.Datetime(
        string="Entered On",
        readonly=True,
        help="When the opportunity first entered the stage.",
    )
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    is_funnel_entry = fields.Boolean(
        string="Funnel Entry",
        readonly=True,
        help="The stage in which the opportunity entered the funnel.",
    )
    state = fields.Selection(
        [
            ("in_stage", "Still in Stage"),
            ("passed", "Passed"),
            ("stopped", "Did Not Pass"),
        ],
        string="Outcome",
        readonly=True,
    )
    entered_count = fields.Integer(string="Entered", readonly=True)
    passed_count = fields.Integer(
        string="Passed",
        readonly=True,
        help="Later reached a further stage (or Won).",
    )
    won_count = fields.Integer(string="Won", readonly=True, help="Later won.")
    pass_rate = fields.Float(
        string="Pass Rate (%)",
        readonly=True,
        aggregator="avg",
        help="Stage pass rate 阶段商机通过率: passed ÷ entered.",
    )
    historical_win_rate = fields.Float(
        string="Historical Win Rate (%)",
        readonly=True,
        aggregator="avg",
        help="Stage win rate 阶段商机赢率 from history: won ÷ entered.",
    )
    win_rate = fields.Float(
        string="Preset Win Rate (%)",
        readonly=True,
        aggregator="avg",
    )
    days_in_stage = fields.Float(
        string="Average Days in Stage",
        readonly=True,
        aggregator="avg",
        help="Time spent in the stage (all stays added up), for opportunities "
        "that left it; time while lost is not counted.",
    )
    median_days_in_stage = fields.Float(
        string="Median Days in Stage",
        readonly=True,
        aggregator="avg",
        help="Median of the time spent in the stage by the opportunities that left it.",
    )
    days_to_won = fields.Float(
        string="Days to Won",
        readonly=True,
        aggregator="avg",
        help="Won opportunities: days from entering this stage to the win.",
    )
    cycle_days = fields.Float(
        string="Promotion Cycle (Days)",
        readonly=True,
        aggregator="avg",
        help="升迁周期: days from entering the funnel to the win. Set on the "
        "row of the stage where a won opportunity entered the funnel, so it "
        "counts each won opportunity once.",
    )

    def _read_group_select(self, aggregate_spec, query):
        if aggregate_spec == "median_days_in_stage:avg":
            return SQL(
                "percentile_cont(0.5) WITHIN GROUP (ORDER BY %s)",
                self._field_to_sql(self._table, "median_days_in_stage", query),
            )
        return super()._read_group_select(aggregate_spec, query)

    @property
    def _table_query(self):
        return SQL(
            """
            WITH step AS (
                SELECT history.id,
                       history.lead_id,
                       history.event,
                       history.to_stage_id,
                       history.date,
                       LEAD(history.date) OVER (
                           PARTITION BY history.lead_id
                           ORDER BY history.date, history.id
                       ) AS next_date,
                       ROW_NUMBER() OVER (
                           PARTITION BY history.lead_id
                           ORDER BY history.date, history.id
                       ) AS position
                  FROM crm_lead_stage_history history
            ),
            stay AS (
                SELECT step.lead_id,
                       step.to_stage_id AS stage_id,
                       MIN(step.date) FILTER (WHERE step.event IN %(entries)s)
                           AS date,
                       (ARRAY_AGG(step.id ORDER BY step.date, step.id)
                           FILTER (WHERE step.event IN %(entries)s))[1] AS entry_id,
                       BOOL_OR(step.position = 1) AS is_funnel_entry,
                       BOOL_OR(step.next_date IS NULL) AS still_in_stage,
                       SUM(EXTRACT(EPOCH FROM step.next_date - step.date))
                           / 86400.0 AS days
                  FROM step
                  JOIN crm_stage stage ON stage.id = step.to_stage_id
                 WHERE step.event IN %(stays)s
                   AND stage.is_won IS NOT TRUE
                 GROUP BY step.lead_id, step.to_stage_id
            ),
            won AS (
                SELECT lead_id, MIN(date) AS date
                  FROM crm_lead_stage_history
                 WHERE event = 'won'
                 GROUP BY lead_id
            ),
            funnel_entry AS (
                SELECT lead_id, MIN(date) AS date
                  FROM crm_lead_stage_history
                 GROUP BY lead_id
            ),
            outcome AS (
                SELECT stay.*,
                       EXISTS (
                           SELECT 1
                             FROM crm_lead_stage_history later
                             JOIN crm_stage later_stage
                               ON later_stage.id = later.to_stage_id
                            WHERE later.lead_id = stay.lead_id
                              AND (later.date, later.id) > (stay.date, stay.entry_id)
                              AND (later.event = 'won'
                                   OR (later.event = 'forward'
                                       AND (later_stage.sequence, later_stage.id)
                                           > (stage.sequence, stage.id)))
                       ) AS passed,
                       won.date >= stay.date AS won,
                       won.date AS date_won,
                       stage.win_rate
                  FROM stay
                  JOIN crm_stage stage ON stage.id = stay.stage_id
                  LEFT JOIN won ON won.lead_id = stay.lead_id
                 WHERE stay.entry_id IS NOT NULL
            )
            SELECT outcome.entry_id AS id,
                   outcome.lead_id,
                   outcome.stage_id,
                   outcome.date,
                   lead.user_id,
                   lead.team_id,
                   lead.company_id,
                   outcome.is_funnel_entry,
                   CASE WHEN outcome.passed THEN 'passed'
                        WHEN outcome.still_in_stage THEN 'in_stage'
                        ELSE 'stopped' END AS state,
                   1 AS entered_count,
                   outcome.passed::int AS passed_count,
                   COALESCE(outcome.won, FALSE)::int AS won_count,
                   CASE WHEN outcome.passed THEN 100.0 ELSE 0.0 END AS pass_rate,
                   CASE WHEN outcome.won THEN 100.0 ELSE 0.0 END
                       AS historical_win_rate,
                   outcome.win_rate,
                   CASE WHEN NOT outcome.still_in_stage THEN outcome.days END
                       AS days_in_stage,
                   CASE WHEN NOT outcome.still_in_stage THEN outcome.days END
                       AS median_days_in_stage,
                   CASE WHEN outcome.won THEN
                       EXTRACT(EPOCH FROM outcome.date_won - outcome.date) / 86400.0
                   END AS days_to_won,
                   CASE WHEN outcome.won AND outcome.is_funnel_entry THEN
                       EXTRACT(EPOCH FROM outcome.date_won - funnel_entry.date)
                           / 86400.0
                   END AS cycle_days
              FROM outcome
              JOIN crm_lead lead ON lead.id = outcome.lead_id
              JOIN funnel_entry ON funnel_entry.lead_id = outcome.lead_id
             WHERE lead.type = 'opportunity'
            """,
            entries=ENTRY_EVENTS,
            stays=(*ENTRY_EVENTS, "restore"),
        )

    def _stage_summary(self, domain=None):
        """Stage control parameters per stage, for dashboards and crm.stage.

        {stage id: {entered, passed, won, pass_rate, historical_win_rate,
        win_rate, avg_days, median_days, cycle_days}}; rates in %.
        """
        groups = self._read_group(
            domain or [],
            ["stage_id"],
            [
                "entered_count:sum",
                "passed_count:sum",
                "won_count:sum",
                "pass_rate:avg",
                "historical_win_rate:avg",
                "days_in_stage:avg",
                "median_days_in_stage:avg",
            ],
        )
        return {
            stage.id: {
                "entered": entered,
                "passed": passed,
                "won": won,
                "pass_rate": pass_rate or 0.0,
                "historical_win_rate": win_rate or 0.0,
                "win_rate": stage.win_rate,
                "avg_days": avg_days,
                "median_days": median_days,
            }
            for (
                stage,
                entered,
                passed,
                won,
                pass_rate,
                win_rate,
                avg_days,
                median_days,
            ) in groups
        }
