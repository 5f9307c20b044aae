from odoo import api, fields, models
from odoo.osv import expression
from odoo.tools import SQL

from .. import funnel_terms as terms
from ..jobs import run_once
from ..models.crm_lead_source import FUNNEL_SOURCES
from .crm_funnel_source_sums import (
    AGGREGATES,
    GROUPS,
    MONTHLY,
    TOTALS,
    compact_source_sums,
    days_between,
    setup_source_sums,
)
from .crm_funnel_stage_sums import (
    HOUR_START_OPERATORS,
    cuts_no_period,
    whole_hour_zone,
)

# History events that put an opportunity into a stage.
ENTRY_EVENTS = ("create", "forward", "backward")
# Context keys: read the per-row answer (tests, comparisons); the kept sums
# stand in for the rows (internal: its value is a _KeptTable, which no RPC
# can send, so no request names a table).
PER_ROW = "source_report_per_row"
_KEPT = "_source_report_kept"


class _KeptTable(str):
    """The name of the kept table a read groups, set by ``_read_group``."""


def _kept(context):
    table = context.get(_KEPT)
    return table if isinstance(table, _KeptTable) else None


# Groupings of the month of arrival the monthly sums answer (in any time zone
# of whole hours: crm_funnel_stage_sums.entry_period).
_MONTHLY = {"month", "quarter", "year", "month_number", "quarter_number", "year_number"}
_LEAF_OPERATORS = {"=", "!=", "in", "not in"}


class CrmFunnelSourceReport(models.Model):
    """Source effectiveness 市场部各种活动效果的考评: what each of the four
    sources, and each campaign, feeds into the funnel.

    One row per lead or opportunity and step it reached: the lead pool (a
    record that arrived as a lead), opportunity, each funnel stage it entered
    (from the stage history), won. Counts and amounts are sums of per-row
    figures; every rate is the average of a 0/100 flag over the rows of one
    step (NULL elsewhere), so it stays a true ratio whatever the grouping:
    qualified ÷ leads, won ÷ opportunities, won ÷ reached for each step.

    The pivot and graph read sums kept by PostgreSQL triggers instead of the
    rows (``crm_funnel_source_sums.py``) when every filter, record rule,
    grouping and measure is one of theirs: source, campaign, step, stage,
    salesperson, team, company, month of arrival (UTC); any other (a
    drill-down to the rows) reads the rows.
    """

    _name = "crm.funnel.source.report"
    _description = "Source Effectiveness"
    _auto = False
    _rec_name = "lead_id"
    _order = "date desc, id desc"
    _depends = {
        "crm.lead.stage.history": ["lead_id", "event", "to_stage_id", "date"],
        "crm.lead": [
            "type",
            "active",
            "stage_id",
            "funnel_source",
            "campaign_id",
            "user_id",
            "team_id",
            "company_id",
            "expected_revenue",
            "create_date",
            "date_conversion",
            "date_closed",
            "date_last_stage_update",
        ],
        "crm.stage": ["sequence", "is_won"],
    }

    lead_id = fields.Many2one("crm.lead", string="Lead / Opportunity", readonly=True)
    step = fields.Selection(
        [
            ("lead", "Lead Pool"),
            ("opportunity", "Opportunity"),
            ("stage", "Funnel Stage"),
            ("won", "Won"),
        ],
        readonly=True,
        help="The step of the funnel the record reached: the lead pool, "
        "opportunity, each funnel stage it entered (see Stage), won.",
    )
    stage_id = fields.Many2one(
        "crm.stage", readonly=True, help="The funnel stage reached (step Stage)."
    )
    funnel_source = fields.Selection(FUNNEL_SOURCES, readonly=True)
    campaign_id = fields.Many2one("utm.campaign", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    date = fields.Datetime(
        string="Arrived On",
        readonly=True,
        help="When the lead or opportunity was created.",
    )
    date_step = fields.Datetime(
        string="Reached On", readonly=True, help="When it reached the step."
    )
    lead_count = fields.Integer(
        string="Leads", readonly=True, help="Records that arrived in the lead pool."
    )
    opportunity_count = fields.Integer(string="Opportunities", readonly=True)
    reached_count = fields.Integer(
        string="Reached",
        readonly=True,
        help="Records that reached the step (group by Step and Stage).",
    )
    won_count = fields.Integer(string="Won", readonly=True)
    opportunity_amount = fields.Monetary(readonly=True, currency_field="currency_id")
    reached_amount = fields.Monetary(
        string="Amount Reached",
        readonly=True,
        currency_field="currency_id",
        help="Expected revenue of the records that reached the step.",
    )
    won_amount = fields.Monetary(readonly=True, currency_field="currency_id")
    qualification_rate = fields.Float(
        string="Qualified (%)",
        readonly=True,
        aggregator="avg",
        help="Leads of the pool qualified into opportunities ÷ leads.",
    )
    win_rate = fields.Float(
        string="Win Rate (%)",
        readonly=True,
        aggregator="avg",
        help="Opportunities won ÷ opportunities.",
    )
    step_win_rate = fields.Float(
        string="Won from Step (%)",
        readonly=True,
        aggregator="avg",
        help="Won ÷ records that reached the step (group by Step and Stage).",
    )
    days_to_step = fields.Float(
        string="Days to Reach",
        readonly=True,
        aggregator="avg",
        help="Days from the record's arrival to reaching the step.",
    )
    cycle_days = fields.Float(
        string="Cycle (Days)",
        readonly=True,
        aggregator="avg",
        help="Won opportunities: days from arrival (as a lead or opportunity) to "
        "the win.",
    )

    def init(self):
        setup_source_sums(self.env)
        # Stages reached per opportunity: read from this index alone.
        self.env.cr.execute(
            SQL(
                """
                CREATE INDEX IF NOT EXISTS crm_lead_stage_history_source_report_idx
                    ON crm_lead_stage_history (lead_id, to_stage_id)
                    INCLUDE (date, id)
                 WHERE event IN %s
                """,
                ENTRY_EVENTS,
            )
        )

    # The query, in parts an extension can change (as sale.report's).

    @property
    def _table_query(self):
        if _kept(self.env.context):
            return SQL("SELECT * FROM %s", SQL.identifier(_kept(self.env.context)))
        return self._query()

    # The kept sums, when they answer.

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
        context = self.env.context
        table = None
        if not _kept(context) and not context.get(PER_ROW):
            table = self._kept_table(domain, groupby, aggregates, having, order)
        if not table:
            return super()._read_group(
                domain, groupby, aggregates, having, offset, limit, order
            )
        # The same query on the sums' rows (the record rules included): only
        # the groups that still have rows.
        rows = self.with_context(**{_KEPT: _KeptTable(table)})._read_group(
            domain, groupby, aggregates, [("__count", "!=", 0)], offset, limit, order
        )
        return [
            tuple(
                value.with_env(self.env)
                if isinstance(value, models.BaseModel)
                else value
                for value in row
            )
            for row in rows
        ]

    def _read_group_select(self, aggregate_spec, query):
        if not _kept(self.env.context):
            return super()._read_group_select(aggregate_spec, query)
        alias = SQL.identifier(self._table).code
        value = AGGREGATES[aggregate_spec].format(d=alias)
        if aggregate_spec != "__count":
            # No row, no value (as over the report's rows), even where the
            # deltas of a group add up to nothing.
            value = f"CASE WHEN SUM({alias}.cnt) <> 0 THEN {value} END"
        return SQL(value)

    def _kept_table(self, domain, groupby, aggregates, having, order):
        """The table of kept sums that answers this read_group exactly, if any."""
        if having or any(spec not in AGGREGATES for spec in aggregates):
            return None
        if not all(self._kept_groupby(spec) for spec in groupby):
            return None
        if order:
            # Each term orders by a grouping or a measure of the sums.
            names = [term.split()[0] for term in order.split(",") if term.strip()]
            if any(name not in groupby and name not in AGGREGATES for name in names):
                return None
        rules = [] if self.env.su else self.env["ir.rule"]._compute_domain(self._name)
        leaves = [
            leaf
            for leaf in expression.normalize_domain(domain) + list(rules or [])
            if leaf not in expression.DOMAIN_OPERATORS
        ]
        if not all(self._kept_leaf(leaf) for leaf in leaves):
            return None
        monthly = any(spec.startswith("date:") for spec in groupby) or any(
            leaf[0] == "date" for leaf in leaves
        )
        return MONTHLY.table if monthly else TOTALS.table

    def _kept_groupby(self, spec):
        name, _sep, granularity = spec.partition(":")
        if name in GROUPS and name != "date":
            return not granularity
        if name != "date" or granularity not in _MONTHLY:
            return False
        return whole_hour_zone(self.env.context.get("tz"))

    def _kept_leaf(self, leaf):
        if not isinstance(leaf, (list, tuple)) or len(leaf) != 3:
            return False
        if tuple(leaf) in (expression.TRUE_LEAF, expression.FALSE_LEAF):
            return True
        name, operator, value = leaf
        if name == "date":
            # Bounds that cut no kept period (a local month's start, in a zone
            # of whole hours, is one).
            return (operator in ("=", "!=") and value is False) or (
                operator in HOUR_START_OPERATORS and cuts_no_period(value, operator)
            )
        if name not in GROUPS or operator not in _LEAF_OPERATORS:
            return False
        values = value if isinstance(value, (list, tuple)) else [value]
        kind = int if self._fields[name].type == "many2one" else str
        return all(v is False or v is None or isinstance(v, kind) for v in values)

    @api.model
    def _cron_compact(self):
        """Fold the kept deltas into one row per group (same sums, fewer rows)."""
        run_once(self.env, lambda: compact_source_sums(self.env))

    def _query(self):
        return SQL(
            "SELECT %s FROM %s WHERE %s",
            self._select(),
            self._from(),
            self._where(),
        )

    def _steps(self):
        """The steps, one branch each, every branch straight from crm_lead: no
        CTE, so that PostgreSQL estimates each scan from the table's
        statistics (no misestimate that turns JIT compilation on) and only
        computes the columns a read_group asks for."""
        return SQL(
            """
            SELECT %(columns)s, lead.id * 4 AS row_id, 'lead' AS step,
                   NULL::int AS stage_id, lead.create_date AS date_step
              FROM %(lead)s
             WHERE lead.type = 'lead' OR lead.date_conversion IS NOT NULL
            UNION ALL
            SELECT %(columns)s, lead.id * 4 + 1, 'opportunity', NULL,
                   COALESCE(lead.date_conversion, lead.create_date)
              FROM %(lead)s
             WHERE lead.type = 'opportunity'
            UNION ALL
            SELECT %(columns)s, lead.id * 4 + 2, 'won', NULL,
                   COALESCE(lead.date_closed, lead.date_last_stage_update)
              FROM %(lead)s
             WHERE %(won)s
            UNION ALL
            SELECT %(columns)s, reached.first_id * 4 + 3, 'stage',
                   reached.stage_id, GREATEST(reached.date, lead.date_conversion)
              FROM (
                SELECT history.lead_id,
                       history.to_stage_id AS stage_id,
                       MIN(history.date) AS date,
                       MIN(history.id) AS first_id
                  FROM crm_lead_stage_history history
                 WHERE history.event IN %(entries)s
                 GROUP BY history.lead_id, history.to_stage_id
              ) reached
              JOIN crm_stage reached_stage
                ON reached_stage.id = reached.stage_id
               AND reached_stage.is_won IS NOT TRUE
              JOIN %(lead)s ON lead.id = reached.lead_id
             WHERE lead.type = 'opportunity'
            """,
            columns=SQL(
                """
                lead.id AS lead_id, lead.funnel_source, lead.campaign_id,
                lead.user_id, lead.team_id, lead.company_id, company.currency_id,
                lead.create_date,
                COALESCE(lead.date_closed, lead.date_last_stage_update) AS date_won,
                COALESCE(lead.expected_revenue, 0) AS amount,
                lead.type = 'opportunity' AS is_opportunity,
                COALESCE(%s, FALSE) AS is_won
                """,
                terms.won_opportunity("lead", "stage"),
            ),
            lead=SQL(
                """
                crm_lead lead
                LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
                LEFT JOIN res_company company ON company.id = lead.company_id
                """
            ),
            won=terms.won_opportunity("lead", "stage"),
            entries=ENTRY_EVENTS,
        )

    def _select(self):
        return SQL(
            """
            step.row_id AS id,
            step.lead_id,
            step.step,
            step.stage_id,
            step.funnel_source,
            step.campaign_id,
            step.user_id,
            step.team_id,
            step.company_id,
            step.currency_id,
            step.create_date AS date,
            step.date_step,
            (step.step = 'lead')::int AS lead_count,
            (step.step = 'opportunity')::int AS opportunity_count,
            1 AS reached_count,
            (step.step = 'won')::int AS won_count,
            CASE WHEN step.step = 'opportunity' THEN step.amount ELSE 0 END
                AS opportunity_amount,
            step.amount AS reached_amount,
            CASE WHEN step.step = 'won' THEN step.amount ELSE 0 END AS won_amount,
            CASE WHEN step.step = 'lead' THEN
                CASE WHEN step.is_opportunity THEN 100.0 ELSE 0.0 END
            END AS qualification_rate,
            CASE WHEN step.step = 'opportunity' THEN
                CASE WHEN step.is_won THEN 100.0 ELSE 0.0 END
            END AS win_rate,
            CASE WHEN step.step <> 'won' THEN
                CASE WHEN step.is_won THEN 100.0 ELSE 0.0 END
            END AS step_win_rate,
            %(days_to_step)s AS days_to_step,
            CASE WHEN step.step = 'won' THEN %(cycle_days)s END AS cycle_days
            """,
            # Rounded as the kept sums round them (crm_funnel_source_sums.py).
            days_to_step=SQL(days_between("step.date_step", "step.create_date")),
            cycle_days=SQL(days_between("step.date_won", "step.create_date")),
        )

    def _from(self):
        return SQL("(%s) step", self._steps())

    def _where(self):
        return SQL("TRUE")
