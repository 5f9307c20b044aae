"""Funnel forecast at a glance, exact and current at a million opportunities.

PostgreSQL triggers on crm_lead append signed deltas (count, amount) per
company × team × salesperson × stage × month to crm_funnel_delta, in the same
transaction as the change, so every committed change is counted and nothing
else is. The report sums the deltas: a few thousand rows instead of the
opportunities. A job folds the deltas into one row per group now and then.
"""

from odoo import api, fields, models
from odoo.tools import SQL

from .delta_sums import DeltaSums, drop_trigger, statement_trigger, trigger_function


# One row of crm_lead counts in the funnel when it is an active opportunity with
# a stage; open ones by expected closing month, won ones by closing month.
def _lead_rows(sign, rows, extra=""):
    return f"""
        SELECT l.company_id, l.team_id, l.user_id, l.stage_id,
               date_trunc('month', CASE WHEN s.is_won THEN l.date_closed
                                        ELSE l.date_deadline END)::date AS period,
               COALESCE(s.is_won, false) AS won, {sign} AS cnt,
               {sign} * COALESCE(l.expected_revenue, 0) AS amount
          FROM {rows} l
          JOIN crm_stage s ON s.id = l.stage_id
         WHERE l.active AND l.type = 'opportunity' {extra}
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
_CHANGED = """
    WITH changed AS (
        SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
         WHERE (o.company_id, o.team_id, o.user_id, o.stage_id, o.active, o.type,
                o.date_deadline, o.date_closed, o.expected_revenue)
               IS DISTINCT FROM
               (n.company_id, n.team_id, n.user_id, n.stage_id, n.active, n.type,
                n.date_deadline, n.date_closed, n.expected_revenue)
    )
"""
_IN_CHANGED = "AND l.id IN (SELECT id FROM changed)"

# name: (table, event, referencing, body)
_TRIGGERS = {
    "sales_funnel_delta_insert": (
        "crm_lead",
        "INSERT",
        "NEW TABLE AS new_rows",
        DELTAS.insert(_lead_rows(1, "new_rows")),
    ),
    "sales_funnel_delta_update": (
        "crm_lead",
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        DELTAS.insert(
            _CHANGED
            + _lead_rows(-1, "old_rows", _IN_CHANGED)
            + " UNION ALL "
            + _lead_rows(1, "new_rows", _IN_CHANGED)
        ),
    ),
    "sales_funnel_delta_delete": (
        "crm_lead",
        "DELETE",
        "OLD TABLE AS old_rows",
        DELTAS.insert(_lead_rows(-1, "old_rows")),
    ),
    # A stage that becomes (or stops being) the won stage moves whole groups.
    "sales_funnel_delta_rebuild": (
        "crm_stage",
        "UPDATE OF is_won",
        "",
        f"DELETE FROM crm_funnel_delta; {DELTAS.insert(_lead_rows(1, 'crm_lead'))}",
    ),
}
_SETUP = DELTAS.create_table() + "".join(
    trigger_function(name, body) + statement_trigger(name, table, event, referencing)
    for name, (table, event, referencing, body) in _TRIGGERS.items()
)
_FILL = DELTAS.insert(_lead_rows(1, "crm_lead"))
_COMPACT = DELTAS.compact()
_DROP = (
    "".join(drop_trigger(name, table) for name, (table, *_rest) in _TRIGGERS.items())
    + DELTAS.drop_table()
)


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
        help="Open amount in the Closing stage (the last stage before Won).",
    )
    won_count = fields.Integer(string="Won Opportunities", readonly=True)
    won_amount = fields.Monetary(string="Won", readonly=True)

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT row_number() OVER () AS id,
                   d.company_id, company.currency_id, d.team_id, d.user_id,
                   d.stage_id, d.period,
                   sum(d.cnt) FILTER (WHERE NOT d.won) AS open_count,
                   sum(d.amount) FILTER (WHERE NOT d.won) AS open_amount,
                   sum(d.amount) FILTER (WHERE NOT d.won) * stage.win_rate / 100.0
                       AS weighted_amount,
                   CASE WHEN stage.id = (
                            SELECT id FROM crm_stage
                             WHERE NOT COALESCE(is_won, false)
                             ORDER BY sequence DESC, id DESC LIMIT 1)
                        THEN sum(d.amount) FILTER (WHERE NOT d.won) END
                       AS committed_amount,
                   sum(d.cnt) FILTER (WHERE d.won) AS won_count,
                   sum(d.amount) FILTER (WHERE d.won) AS won_amount
              FROM crm_funnel_delta d
              JOIN crm_stage stage ON stage.id = d.stage_id
              LEFT JOIN res_company company ON company.id = d.company_id
             GROUP BY d.company_id, company.currency_id, d.team_id, d.user_id,
                      d.stage_id, d.period, stage.id, stage.win_rate
            HAVING sum(d.cnt) <> 0 OR sum(d.amount) <> 0
            """
        )

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
        self.env.cr.execute(_COMPACT)


def drop_funnel_summary(env):
    """Uninstall: crm_lead keeps no trigger of ours."""
    env.cr.execute(_DROP)
