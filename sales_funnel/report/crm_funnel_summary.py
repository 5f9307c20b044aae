"""Funnel forecast at a glance, exact and current at a million opportunities.

PostgreSQL triggers on crm_lead append signed deltas (count, amount) per
company × team × salesperson × stage × month to crm_funnel_delta, in the same
transaction as the change, so every committed change is counted and nothing
else is. The report sums the deltas: a few thousand rows instead of the
opportunities. A job folds the deltas into one row per group now and then.
"""

from odoo import api, fields, models
from odoo.tools import SQL

from .. import funnel_terms as terms
from ..jobs import run_once
from .delta_sums import DeltaSums, create_triggers, drop_triggers, lead_triggers


def _code(sql):
    """The text of a parameterless SQL object, for the trigger bodies."""
    assert not sql.params, sql
    return sql.code


# One row of crm_lead counts in the funnel when it is a funnel opportunity with a
# stage, in the month of its period date (UTC: the sums are kept by the database).
def _lead_rows(sign, rows, extra=""):
    return f"""
        SELECT l.company_id, l.team_id, l.user_id, l.stage_id,
               date_trunc('month', {_code(terms.deal_date("l", "s"))})::date AS period,
               {_code(terms.won_stage("s"))} AS won, {sign} AS cnt,
               {sign} * COALESCE(l.expected_revenue, 0) AS amount
          FROM {rows} l
          JOIN crm_stage s ON s.id = l.stage_id
         WHERE {_code(terms.funnel_opportunity("l"))} {extra}
    """


DELTAS = DeltaSums(
    "crm_funnel_delta",
    group="company_id, team_id, user_id, stage_id, period, won",
    sums=["cnt", "amount"],
    columns_sql="company_id integer, team_id integer, user_id integer,"
    " stage_id integer NOT NULL, period date, won boolean NOT NULL,"
    " cnt integer NOT NULL, amount numeric NOT NULL",
)

# Only rows whose funnel columns changed move counts and amounts between groups.
_FUNNEL_COLUMNS = (
    "company_id",
    "team_id",
    "user_id",
    "stage_id",
    "active",
    "type",
    "date_deadline",
    "date_closed",
    "date_last_stage_update",
    "expected_revenue",
)

# name: (table, event, referencing, body)
_TRIGGERS = {
    **lead_triggers("sales_funnel_delta", [(DELTAS, _lead_rows)], _FUNNEL_COLUMNS),
    # A stage that becomes (or stops being) the won stage moves whole groups.
    "sales_funnel_delta_rebuild": (
        "crm_stage",
        "UPDATE OF is_won",
        "",
        f"DELETE FROM crm_funnel_delta; {DELTAS.insert(_lead_rows(1, 'crm_lead'))}",
    ),
}
_REBUILD = _TRIGGERS["sales_funnel_delta_rebuild"][3]
_SETUP = DELTAS.create_table() + create_triggers(_TRIGGERS)
_FILL = DELTAS.insert(_lead_rows(1, "crm_lead"))
_COMPACT = DELTAS.compact()
_DROP = drop_triggers(_TRIGGERS) + DELTAS.drop_table()


class CrmFunnelSummary(models.Model):
    _name = "crm.funnel.summary"
    _description = "Funnel Forecast"
    _auto = False
    _rec_name = "stage_id"
    _order = "period, stage_id"

    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    stage_id = fields.Many2one("crm.stage", readonly=True)
    period = fields.Date(
        readonly=True,
        help="Month of the expected closing (open) or of the closing (won).",
    )
    open_count = fields.Integer(string="Open Opportunities", readonly=True)
    open_amount = fields.Monetary(string="Open Pipeline", readonly=True)
    weighted_amount = fields.Monetary(
        string="Weighted Forecast",
        readonly=True,
        help="Σ expected revenue × win rate of the stage, over open opportunities.",
    )
    committed_amount = fields.Monetary(
        string="Committed",
        readonly=True,
        help="Open amount in the Closing stage (the last stage before Won of the "
        "team's pipeline).",
    )
    won_count = fields.Integer(string="Won Opportunities", readonly=True)
    won_amount = fields.Monetary(string="Won", readonly=True)

    # The query, in parts an extension can change (as sale.report's).

    @property
    def _table_query(self):
        return self._query()

    def _query(self):
        return SQL(
            "SELECT %s FROM %s GROUP BY %s HAVING %s",
            self._select(),
            self._from(),
            self._group_by(),
            self._having(),
        )

    def _select(self):
        open_amount = SQL("sum(d.amount) FILTER (WHERE NOT d.won)")
        return SQL(
            """
            row_number() OVER () AS id,
            d.company_id, company.currency_id, d.team_id, d.user_id,
            d.stage_id, d.period,
            sum(d.cnt) FILTER (WHERE NOT d.won) AS open_count,
            %(open_amount)s AS open_amount,
            %(weighted)s AS weighted_amount,
            CASE WHEN %(closing)s THEN %(open_amount)s END AS committed_amount,
            sum(d.cnt) FILTER (WHERE d.won) AS won_count,
            sum(d.amount) FILTER (WHERE d.won) AS won_amount
            """,
            open_amount=open_amount,
            weighted=terms.weighted_amount(open_amount),
            closing=terms.closing_stage(SQL("d.stage_id"), SQL("d.team_id")),
        )

    def _from(self):
        return SQL(
            """
            crm_funnel_delta d
            JOIN crm_stage stage ON stage.id = d.stage_id
            LEFT JOIN res_company company ON company.id = d.company_id
            """
        )

    def _group_by(self):
        return SQL(
            """
            d.company_id, company.currency_id, d.team_id, d.user_id,
            d.stage_id, d.period, stage.id, stage.win_rate
            """
        )

    def _having(self):
        return SQL("sum(d.cnt) <> 0 OR sum(d.amount) <> 0")

    def init(self):
        cr = self.env.cr
        cr.execute(_SETUP)
        cr.execute("SELECT 1 FROM crm_funnel_delta LIMIT 1")
        if not cr.fetchone():
            cr.execute(_FILL)

    # Reads see the ORM's pending writes: the triggers run on flush.
    @api.model
    def _search(self, domain, offset=0, limit=None, order=None):
        self._flush_sources()
        return super()._search(domain, offset=offset, limit=limit, order=order)

    @api.model
    def _read_group(self, domain, groupby=(), aggregates=(), having=(), **kwargs):
        self._flush_sources()
        return super()._read_group(domain, groupby, aggregates, having, **kwargs)

    def _flush_sources(self):
        self.env["crm.lead"].flush_model()
        self.env["crm.stage"].flush_model()

    @api.model
    def _cron_compact(self):
        """Fold the deltas into one row per group (same sums, fewer rows)."""
        run_once(self.env, lambda: self.env.cr.execute(_COMPACT))


def drop_funnel_summary(env):
    """Uninstall: crm_lead keeps no trigger of ours."""
    env.cr.execute(_DROP)


def rebuild_funnel_summary(env):
    """Sum the deltas again from crm_lead (after a change of the terms)."""
    env["crm.lead"].flush_model()
    env.cr.execute(_REBUILD)
