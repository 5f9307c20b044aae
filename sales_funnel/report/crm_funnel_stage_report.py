from odoo import api, fields, models
from odoo.tools import SQL

from . import crm_funnel_stage_stay as stay
from .crm_funnel_stage_median import setup_medians
from .crm_funnel_stage_median_period import setup_period_medians
from .crm_funnel_stage_stay import rebuild_stage_stays, setup_stage_stays
from .crm_funnel_stage_sums import MEDIAN, setup_stage_sums

# Context key: read the rows even where the kept sums answer (to compare).
PER_ROW = "sales_funnel_stage_per_row"


class CrmFunnelStageReport(models.Model):
    """Stage analytics 阶段控制参数, from the stage history.

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
        "crm.lead": ["type", "user_id", "team_id", "company_id", "partner_id"],
        "res.partner": ["commercial_partner_id", "company_size"],
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
    company_size = fields.Selection(
        lambda self: self.env["res.partner"]._fields["company_size"].selection,
        readonly=True,
        help="Size of the customer's company.",
    )
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
        if aggregate_spec == MEDIAN:
            return SQL(
                "percentile_cont(0.5) WITHIN GROUP (ORDER BY %s)",
                self._field_to_sql(self._table, "median_days_in_stage", query),
            )
        return super()._read_group_select(aggregate_spec, query)

    @api.model
    def _read_group(
        self,
        domain,
        groupby=(),
        aggregates=(),
        having=(),
        offset=0,
        limit=None,
        order=None,
    ):
        # The kept sums answer the usual pivot (stage, salesperson, team,
        # company, month entered, funnel entry, outcome) in a few milliseconds;
        # other filters and groupings (customer, company size, opportunity)
        # read the rows.
        if not having and not self.env.context.get(PER_ROW):
            self.browse().check_access("read")
            rows = self.env["crm.funnel.stage.sums"]._answer_report(
                self, domain, groupby, aggregates, offset, limit, order
            )
            if rows is not None:
                return rows
        # A median needs its rows sorted: asked with the other measures, it makes
        # PostgreSQL sort every row with the groups' display keys (5 s of 6 at
        # 1,000,000 opportunities). The other measures are summed in a hash, the
        # medians in a second query that sorts only (group, days).
        if MEDIAN not in aggregates or having:
            return super()._read_group(
                domain, groupby, aggregates, having, offset, limit, order
            )
        others = [spec for spec in aggregates if spec != MEDIAN] or ["__count"]
        rows = super()._read_group(
            domain, groupby, others, having, offset, limit, order
        )
        medians = self._group_medians(domain, groupby)
        size = len(groupby)
        result = []
        for row in rows:
            values = iter(row[size:])
            median = medians.get(self._group_key(row[:size]))
            result.append(
                row[:size]
                + tuple(
                    median if spec == MEDIAN else next(values) for spec in aggregates
                )
            )
        return result

    @staticmethod
    def _group_key(values):
        return tuple(
            value.id if isinstance(value, models.BaseModel) else value
            for value in values
        )

    def _group_medians(self, domain, groupby):
        """{group key: median days in stage} of the groups of ``groupby``."""
        query = self._search(domain)
        terms = [self._read_group_groupby(spec, query) for spec in groupby]
        if terms:
            query.groupby = SQL(", ").join(terms)
        rows = self.env.execute_query(
            query.select(*terms, self._read_group_select(MEDIAN, query))
        )
        if not rows:
            return {}
        keys = [()] * len(rows)
        if groupby:
            columns = [
                list(
                    self._read_group_postprocess_groupby(spec, [row[i] for row in rows])
                )
                for i, spec in enumerate(groupby)
            ]
            keys = [tuple(column[i] for column in columns) for i in range(len(rows))]
        return {
            self._group_key(key): row[-1] for key, row in zip(keys, rows, strict=True)
        }

    # The query, in parts an extension can change (as sale.report's).

    @property
    def _table_query(self):
        return self._query()

    def _query(self):
        return SQL(
            "SELECT %s FROM %s WHERE %s",
            self._select(),
            self._from(),
            self._where(),
        )

    def _select(self):
        return SQL(
            """
            outcome.id,
            outcome.lead_id,
            outcome.stage_id,
            outcome.date,
            outcome.user_id,
            outcome.team_id,
            outcome.company_id,
            commercial.company_size,
            outcome.is_funnel_entry,
            %(state)s AS state,
            1 AS entered_count,
            outcome.passed::int AS passed_count,
            outcome.won::int AS won_count,
            CASE WHEN outcome.passed THEN 100.0 ELSE 0.0 END AS pass_rate,
            CASE WHEN outcome.won THEN 100.0 ELSE 0.0 END
                AS historical_win_rate,
            %(win_rate)s AS win_rate,
            %(days_in_stage)s AS days_in_stage,
            CASE WHEN NOT outcome.still_in_stage THEN outcome.days END
                AS median_days_in_stage,
            %(days_to_won)s AS days_to_won,
            %(cycle_days)s AS cycle_days
            """,
            state=SQL(stay.outcome_state("outcome")),
            win_rate=SQL(stay.preset_win_rate("stage")),
            days_in_stage=SQL(stay.days_in_stage("outcome")),
            days_to_won=SQL(stay.days_to_won("outcome")),
            cycle_days=SQL(stay.cycle_days("outcome")),
        )

    def _from(self):
        # The rows kept by triggers (crm_funnel_stage_stay.py), all of funnel
        # stages; PostgreSQL leaves the left joins out of a query that reads
        # none of their columns (the medians: an index-only scan).
        return SQL(
            """
            crm_funnel_stage_stay outcome
            LEFT JOIN crm_stage stage ON stage.id = outcome.stage_id
            LEFT JOIN res_partner partner ON partner.id = outcome.partner_id
            LEFT JOIN res_partner commercial
                   ON commercial.id = partner.commercial_partner_id
            """
        )

    def _where(self):
        return SQL("outcome.is_opportunity")

    def init(self):
        setup_stage_stays(self.env)
        setup_stage_sums(self.env)
        setup_medians(self.env)
        setup_period_medians(self.env)

    @api.model
    def _rebuild_stays(self):
        """Every kept row again (the funnel order of the stages changed)."""
        rebuild_stage_stays(self.env)

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
