"""The dashboard's open pipeline per grade, kept exact by PostgreSQL in the
writing transaction.

Statement triggers append signed deltas (count, expected revenue) of the open
opportunities per company × team × salesperson × grade to
``crm_funnel_grade_delta``: crm_lead's inserted, deleted and changed rows, and
the opportunities of a stage that becomes (or stops being) a won stage. SQL
writes count as the ORM's do (the grading batch, imports, the jobs). The
dashboard reads a few hundred rows instead of the open opportunities; a job
folds the deltas into one row per group now and then.
"""

from odoo import api, fields, models
from odoo.osv import expression
from odoo.tools import SQL

from .. import funnel_terms as terms
from ..jobs import run_once
from ..models.crm_grade_matrix import GRADES
from .delta_sums import DeltaSums, create_triggers, drop_triggers, lead_triggers

DELTAS = DeltaSums(
    "crm_funnel_grade_delta",
    group="company_id, team_id, user_id, grade",
    sums=["cnt", "amount"],
    columns_sql="company_id integer, team_id integer, user_id integer,"
    " grade varchar, cnt integer NOT NULL, amount numeric NOT NULL",
)


def _open_rows(sign, rows, extra=""):
    """The delta rows of the open opportunities among the crm_lead rows
    ``rows`` (open: funnel_terms.open_opportunity, the stage joined)."""
    return f"""
        SELECT l.company_id, l.team_id, l.user_id, l.grade, {sign} AS cnt,
               {sign} * COALESCE(l.expected_revenue, 0) AS amount
          FROM {rows} l
          JOIN crm_stage stage ON stage.id = l.stage_id
         WHERE {terms.open_opportunity("l", "stage").code} {extra}
    """


_LEAD_COLUMNS = (
    "company_id",
    "team_id",
    "user_id",
    "grade",
    "stage_id",
    "active",
    "type",
    "expected_revenue",
)

# A stage turned won takes its opportunities out (−), one turned not won puts
# them in (+). The stage's other columns do not count here.
_STAGE_TURNED = f"""
    SELECT l.company_id, l.team_id, l.user_id, l.grade,
           CASE WHEN n.is_won IS TRUE THEN -1 ELSE 1 END AS cnt,
           CASE WHEN n.is_won IS TRUE THEN -1 ELSE 1 END
               * COALESCE(l.expected_revenue, 0) AS amount
      FROM new_rows n
      JOIN old_rows o ON o.id = n.id
      JOIN crm_lead l ON l.stage_id = n.id
     WHERE (o.is_won IS TRUE) <> (n.is_won IS TRUE)
       AND {terms.funnel_opportunity("l").code}
"""

# name: (table, event, referencing, body)
_TRIGGERS = {
    **lead_triggers("sales_funnel_grade", [(DELTAS, _open_rows)], _LEAD_COLUMNS),
    # Transition tables allow no column list: every stage UPDATE fires it, and
    # only the stages whose is_won changed read their opportunities.
    "sales_funnel_grade_stage": (
        "crm_stage",
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        DELTAS.insert(_STAGE_TURNED),
    ),
}
_SETUP = DELTAS.create_table() + create_triggers(_TRIGGERS)
_FILL = DELTAS.insert(_open_rows(1, "crm_lead"))
_DROP = drop_triggers(_TRIGGERS) + DELTAS.drop_table()
# The columns of the sums: a record rule or filter on anything else reads the
# opportunities.
_GROUPS = {"company_id", "team_id", "user_id", "grade"}


class CrmFunnelGradeSums(models.Model):
    """The kept sums as a model: filters and record rules of crm.lead on the
    company, team, salesperson or grade apply to them as to the opportunities."""

    _name = "crm.funnel.grade.sums"
    _description = "Open Pipeline per Grade"
    _auto = False
    _rec_name = "grade"
    # Reading flushes what the triggers read.
    _depends = {
        "crm.lead": [*_LEAD_COLUMNS],
        "crm.stage": ["is_won"],
    }

    company_id = fields.Many2one("res.company", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    grade = fields.Selection(GRADES, string="Opportunity Grade", readonly=True)
    open_count = fields.Integer(string="Open Opportunities", readonly=True)
    open_amount = fields.Float(string="Open Pipeline", readonly=True)

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT row_number() OVER () AS id, company_id, team_id, user_id, grade,
                   cnt AS open_count, amount AS open_amount
              FROM %s
            """,
            SQL.identifier(DELTAS.table),
        )

    def init(self):
        cr = self.env.cr
        cr.execute(_SETUP)
        cr.execute(SQL("SELECT 1 FROM %s LIMIT 1", SQL.identifier(DELTAS.table)))
        if not cr.fetchone():
            cr.execute(_FILL)

    @api.model
    def _cron_compact(self):
        """Fold the deltas into one row per group (same sums, fewer rows)."""
        run_once(self.env, lambda: self.env.cr.execute(DELTAS.compact()))

    @api.model
    def _by_grade(self, domain, leads):
        """[(grade, count, amount)] of the open opportunities of ``domain``
        (crm.lead), as ``leads`` (crm.lead in the reader's environment) may
        read them; None when a filter or a record rule is not on the columns
        of the sums."""
        rules = (
            []
            if leads.env.su
            else leads.env["ir.rule"]._compute_domain(leads._name, "read")
        )
        full = expression.AND([list(domain), rules]) if rules else list(domain)
        for leaf in expression.normalize_domain(full):
            if not expression.is_leaf(leaf) or leaf in (
                expression.TRUE_LEAF,
                expression.FALSE_LEAF,
            ):
                continue
            path = leaf[0]
            if not isinstance(path, str) or path.split(".", 1)[0] not in _GROUPS:
                return None
        return [
            (grade, count, amount)
            for grade, count, amount in self.sudo()._read_group(
                full, ["grade"], ["open_count:sum", "open_amount:sum"]
            )
            if count
        ]


def drop_grade_sums(env):
    """Uninstall: crm_lead and crm_stage keep no trigger of ours."""
    env.cr.execute(_DROP)
