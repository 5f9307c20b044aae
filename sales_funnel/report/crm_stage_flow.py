"""Stage flow: entries into and exits out of each stage, per month.

The stage history is append-only, so a trigger keeps these counts exact in the
same transaction; the dashboard's conversion table reads a few thousand rows
instead of millions of history rows.
"""

from odoo import api, fields, models
from odoo.tools import SQL

from ..jobs import run_once
from .delta_sums import DeltaSums, create_triggers, drop_triggers, row_triggers


def _flow_rows(sign, rows):
    """Each history row counts as an entry into its target stage and an exit
    out of the stage it left."""
    return f"""
        SELECT h.company_id, h.team_id, h.salesperson_id AS user_id,
               h.to_stage_id AS stage_id,
               date_trunc('month', h.date)::date AS period,
               {sign} AS entered, 0 AS moved_on, 0 AS moved_back, 0 AS lost,
               0.0 AS days_sum, 0 AS days_count
          FROM {rows} h
         WHERE h.to_stage_id IS NOT NULL
           AND h.event IN ('create', 'forward', 'backward', 'won')
        UNION ALL
        SELECT h.company_id, h.team_id, h.salesperson_id, h.from_stage_id,
               date_trunc('month', h.date)::date,
               0,
               CASE WHEN h.event IN ('forward', 'won') THEN {sign} ELSE 0 END,
               CASE WHEN h.event = 'backward' THEN {sign} ELSE 0 END,
               CASE WHEN h.event = 'lost' THEN {sign} ELSE 0 END,
               {sign} * COALESCE(h.days_in_previous_stage, 0),
               CASE WHEN h.event IN ('forward', 'won', 'backward')
                    THEN {sign} ELSE 0 END
          FROM {rows} h
         WHERE h.from_stage_id IS NOT NULL
           AND h.event IN ('forward', 'backward', 'won', 'lost')
    """


DELTAS = DeltaSums(
    "crm_stage_flow_delta",
    group="company_id, team_id, user_id, stage_id, period",
    sums=["entered", "moved_on", "moved_back", "lost", "days_sum", "days_count"],
    columns_sql="company_id integer, team_id integer, user_id integer,"
    " stage_id integer NOT NULL, period date NOT NULL,"
    " entered integer NOT NULL, moved_on integer NOT NULL,"
    " moved_back integer NOT NULL, lost integer NOT NULL,"
    " days_sum numeric NOT NULL, days_count integer NOT NULL",
)
_HISTORY = "crm_lead_stage_history"
# History rows are written once, but the demo and imports may re-date them.
_TRIGGERS = row_triggers("sales_funnel_flow", _HISTORY, [(DELTAS.insert, _flow_rows)])
_SETUP = DELTAS.create_table() + create_triggers(_TRIGGERS)
_FILL = DELTAS.insert(_flow_rows(1, _HISTORY))
_COMPACT = DELTAS.compact()
_DROP = drop_triggers(_TRIGGERS) + DELTAS.drop_table()


class CrmStageFlow(models.Model):
    _name = "crm.stage.flow"
    _description = "Stage Flow"
    _auto = False
    _rec_name = "stage_id"
    _order = "period, stage_id"

    company_id = fields.Many2one("res.company", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    stage_id = fields.Many2one("crm.stage", readonly=True)
    period = fields.Date(readonly=True)
    entered = fields.Integer(readonly=True, help="Opportunities that entered it.")
    moved_on = fields.Integer(
        readonly=True, help="Opportunities that left it for a later stage or Won."
    )
    moved_back = fields.Integer(readonly=True)
    lost = fields.Integer(readonly=True)
    days_sum = fields.Float(readonly=True)
    days_count = fields.Integer(readonly=True)

    # The query, in parts an extension can change (as sale.report's).

    @property
    def _table_query(self):
        return self._query()

    def _query(self):
        return SQL(
            "SELECT %s FROM %s GROUP BY %s",
            self._select(),
            self._from(),
            self._group_by(),
        )

    def _select(self):
        return SQL(
            """
            row_number() OVER () AS id, company_id, team_id, user_id,
            stage_id, period, sum(entered) AS entered,
            sum(moved_on) AS moved_on, sum(moved_back) AS moved_back,
            sum(lost) AS lost, sum(days_sum) AS days_sum,
            sum(days_count) AS days_count
            """
        )

    def _from(self):
        return SQL("crm_stage_flow_delta")

    def _group_by(self):
        return SQL("company_id, team_id, user_id, stage_id, period")

    def init(self):
        cr = self.env.cr
        cr.execute(_SETUP)
        cr.execute("SELECT 1 FROM crm_stage_flow_delta LIMIT 1")
        if not cr.fetchone():
            cr.execute(_FILL)

    @api.model
    def _read_group(self, domain, groupby=(), aggregates=(), having=(), **kwargs):
        self.env["crm.lead.stage.history"].flush_model()
        return super()._read_group(domain, groupby, aggregates, having, **kwargs)

    @api.model
    def _cron_compact(self):
        run_once(self.env, lambda: self.env.cr.execute(_COMPACT))


def drop_stage_flow(env):
    env.cr.execute(_DROP)
