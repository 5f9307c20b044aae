"""Stage flow: entries into and exits out of each stage, per month.

The stage history is append-only, so a trigger keeps these counts exact in the
same transaction; the dashboard's conversion table reads a few thousand rows
instead of millions of history rows.
"""

from odoo import api, fields, models
from odoo.tools import SQL

_COLUMNS = (
    "company_id, team_id, user_id, stage_id, period,"
    " entered, moved_on, moved_back, lost, days_sum, days_count"
)
_GROUP = "company_id, team_id, user_id, stage_id, period"


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


def _insert(source, prefix=""):
    return f"""
        {prefix}
        INSERT INTO crm_stage_flow_delta ({_COLUMNS})
        SELECT {_GROUP}, sum(entered), sum(moved_on), sum(moved_back), sum(lost),
               sum(days_sum), sum(days_count)
          FROM ({source}) AS rows
         GROUP BY {_GROUP}
    """


_SETUP = f"""
CREATE TABLE IF NOT EXISTS crm_stage_flow_delta (
    company_id integer, team_id integer, user_id integer,
    stage_id integer NOT NULL, period date NOT NULL,
    entered integer NOT NULL, moved_on integer NOT NULL,
    moved_back integer NOT NULL, lost integer NOT NULL,
    days_sum numeric NOT NULL, days_count integer NOT NULL
);
CREATE OR REPLACE FUNCTION sales_funnel_flow_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    {_insert(_flow_rows(1, "new_rows"))};
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION sales_funnel_flow_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    {_insert(_flow_rows(-1, "old_rows"))};
    RETURN NULL;
END $$;
-- History rows are written once; the demo and imports may re-date them.
CREATE OR REPLACE FUNCTION sales_funnel_flow_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    {_insert(_flow_rows(-1, "old_rows") + " UNION ALL " + _flow_rows(1, "new_rows"))};
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS sales_funnel_flow_insert ON crm_lead_stage_history;
CREATE TRIGGER sales_funnel_flow_insert AFTER INSERT ON crm_lead_stage_history
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sales_funnel_flow_insert();
DROP TRIGGER IF EXISTS sales_funnel_flow_delete ON crm_lead_stage_history;
CREATE TRIGGER sales_funnel_flow_delete AFTER DELETE ON crm_lead_stage_history
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sales_funnel_flow_delete();
DROP TRIGGER IF EXISTS sales_funnel_flow_update ON crm_lead_stage_history;
CREATE TRIGGER sales_funnel_flow_update AFTER UPDATE ON crm_lead_stage_history
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sales_funnel_flow_update();
"""
_FILL = _insert(_flow_rows(1, "crm_lead_stage_history"))
_COMPACT = _insert(
    f"SELECT {_COLUMNS} FROM deleted",
    prefix="WITH deleted AS (DELETE FROM crm_stage_flow_delta RETURNING *)",
)
_DROP = """
DROP TRIGGER IF EXISTS sales_funnel_flow_insert ON crm_lead_stage_history;
DROP TRIGGER IF EXISTS sales_funnel_flow_delete ON crm_lead_stage_history;
DROP TRIGGER IF EXISTS sales_funnel_flow_update ON crm_lead_stage_history;
DROP FUNCTION IF EXISTS sales_funnel_flow_insert();
DROP FUNCTION IF EXISTS sales_funnel_flow_delete();
DROP FUNCTION IF EXISTS sales_funnel_flow_update();
DROP TABLE IF EXISTS crm_stage_flow_delta;
"""


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

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT row_number() OVER () AS id, company_id, team_id, user_id,
                   stage_id, period, sum(entered) AS entered,
                   sum(moved_on) AS moved_on, sum(moved_back) AS moved_back,
                   sum(lost) AS lost, sum(days_sum) AS days_sum,
                   sum(days_count) AS days_count
              FROM crm_stage_flow_delta
             GROUP BY company_id, team_id, user_id, stage_id, period
            """
        )

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
        self.env.cr.execute(_COMPACT)


def drop_stage_flow(env):
    env.cr.execute(_DROP)
