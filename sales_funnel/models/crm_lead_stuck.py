from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column, index_exists

# The two stored dates of "stuck" (停留时间过长) as one SQL UPDATE: what the ORM
# computes on every write, recomputed from crm_lead, crm_stage and mail_activity
# for the paths that bypass it (a stage's maximum changed, stages relabelled in
# SQL, an upgrade, the benchmark's generator).
_STUCK_DATES_SQL = """
    UPDATE crm_lead lead
       SET stuck_since = fresh.stuck_since, planned_until = fresh.planned_until
      FROM (
        SELECT l.id,
               CASE WHEN l.active AND l.type = 'opportunity'
                         AND NOT COALESCE(stage.is_won, FALSE)
                         AND stage.max_days_in_stage > 0
                    THEN l.date_last_stage_update
                         + make_interval(days => stage.max_days_in_stage)
               END AS stuck_since,
               planned.until AS planned_until
          FROM crm_lead l
          LEFT JOIN crm_stage stage ON stage.id = l.stage_id
          -- One pass over the activities, joined by hash (a subquery per
          -- opportunity is planned badly on rows inserted in the same
          -- transaction, before ANALYZE has seen them).
          LEFT JOIN (
            SELECT res_id, max(date_deadline) AS until
              FROM mail_activity
             WHERE res_model = 'crm.lead' AND active
             GROUP BY res_id
          ) planned ON planned.res_id = l.id
         WHERE %(where)s
      ) fresh
     WHERE lead.id = fresh.id
       AND (lead.stuck_since IS DISTINCT FROM fresh.stuck_since
            OR lead.planned_until IS DISTINCT FROM fresh.planned_until)
"""


class CrmLead(models.Model):
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    # Stored so that the Stuck filter is an index range, not a per-stage scan
    # of the open pipeline joined with the activities.
    stuck_since = fields.Datetime(
        compute="_compute_stuck_since",
        store=True,
        readonly=True,
        copy=False,
        help="When the opportunity passes the maximum days of its stage (empty: "
        "no maximum, won, lost or not an opportunity). From then on it is stuck "
        "while no activity is planned and not overdue.",
    )
    planned_until = fields.Date(
        string="Next Steps Planned Until",
        compute="_compute_planned_until",
        store=True,
        readonly=True,
        copy=False,
        help="Latest deadline of the activities planned on the opportunity.",
    )

    def _auto_init(self):
        # A database with many opportunities (an upgrade, an installation on an
        # existing CRM): create the columns here so that the ORM does not compute
        # them record by record; init() fills them in one UPDATE.
        cr = self.env.cr
        if not column_exists(cr, self._table, "stuck_since"):
            create_column(cr, self._table, "stuck_since", "timestamp")
            create_column(cr, self._table, "planned_until", "date")
            self.pool._sales_funnel_fill_stuck_dates = True
        return super()._auto_init()

    def init(self):
        res = super().init()
        if getattr(self.pool, "_sales_funnel_fill_stuck_dates", False):
            self._update_stuck_dates()
            del self.pool._sales_funnel_fill_stuck_dates
        # The Stuck filter: open opportunities past their stage's maximum, with
        # everything the rest of its condition, the pipeline's domain and the
        # record rules read (active, type, stage, company, salesperson, team):
        # an index-only scan, not a scan of the table (stuck deals are a large
        # share of a big pipeline).
        if not index_exists(self.env.cr, "crm_lead_sales_funnel_stuck_cover_idx"):
            self.env.cr.execute(
                """
                DROP INDEX IF EXISTS crm_lead_sales_funnel_stuck_since_idx;
                CREATE INDEX crm_lead_sales_funnel_stuck_cover_idx
                    ON crm_lead (stuck_since)
                    INCLUDE (planned_until, probability, active, type, stage_id,
                             company_id, user_id, team_id)
                 WHERE stuck_since IS NOT NULL
                """
            )
        return res

    @api.depends("active", "type", "stage_id", "date_last_stage_update")
    def _compute_stuck_since(self):
        # The stage's maximum and won flag: crm.stage.write updates the leads in
        # SQL (_update_stuck_dates), not one by one through the ORM.
        for lead in self:
            stage = lead.stage_id
            if (
                lead.active
                and lead.type == "opportunity"
                and not stage.is_won
                and stage.max_days_in_stage > 0
                and lead.date_last_stage_update
            ):
                lead.stuck_since = lead.date_last_stage_update + timedelta(
                    days=stage.max_days_in_stage
                )
            else:
                lead.stuck_since = False

    @api.depends("activity_ids.date_deadline", "activity_ids.active")
    def _compute_planned_until(self):
        for lead in self:
            deadlines = [
                activity.date_deadline
                for activity in lead.with_context(active_test=True).activity_ids
                if activity.active and activity.date_deadline
            ]
            lead.planned_until = max(deadlines, default=False)

    @api.model
    def _update_stuck_dates(self, where=None):
        """Recompute the stored stuck dates in SQL for the opportunities matching
        ``where`` (an SQL condition on ``l``, ``stage``; default: all)."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(_STUCK_DATES_SQL, where=where if where is not None else SQL("TRUE"))
        )
        self.invalidate_model(["stuck_since", "planned_until"])
        return self.env.cr.rowcount
