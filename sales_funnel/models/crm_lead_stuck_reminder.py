from psycopg2.errors import SerializationFailure

from odoo import api, fields, models
from odoo.tools import SQL

from ..jobs import run_batches

# The job works in batches, each committed with its progress (Odoo's cron runner
# calls it again while some remain, ten batches a run, then again as soon as
# the other jobs had their turn). A batch is never cut by the cron cycle's
# budget (jobs.py): 25 reminders take well under a second on a quiet server,
# about 6 s on one saturated by users (100 took 25 s in the load test).
STUCK_REMINDER_BATCH = 25
# An owner has at most this many open stuck reminders at once: the first run on
# a pipeline with thousands of stuck deals sends each salesperson their oldest
# ones, the next as they work them off. System parameter
# ``sales_funnel.stuck_reminders_per_owner`` changes it.
STUCK_REMINDERS_PER_OWNER = 20
STUCK_REMINDER_DAYS = 2


class CrmLead(models.Model):
    """The daily reminder of stuck opportunities (停留时间过长)."""

    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _stuck_reminders_per_owner(self):
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("sales_funnel.stuck_reminders_per_owner")
        )
        try:
            return max(int(value), 0) if value else STUCK_REMINDERS_PER_OWNER
        except ValueError:
            return STUCK_REMINDERS_PER_OWNER

    @api.model
    def _stuck_reminder_candidates(self, limit):
        """[(lead id, owner id, stage id, stuck since)] of the next ``limit``
        stuck opportunities to remind, and how many are due in all: stuck,
        without an open stuck reminder (overdue or not), whose owner has fewer
        than the cap of open stuck reminders; the oldest first for each owner,
        owners taking turns. One query, whatever the size of the pipeline."""
        reminder_type = self.env.ref(
            "sales_funnel.mail_activity_type_stuck_reminder", raise_if_not_found=False
        )
        if not reminder_type:
            return [], 0
        self.env["mail.activity"].flush_model(
            ["res_model", "res_id", "activity_type_id", "user_id", "active"]
        )
        query = self.sudo()._stuck_query()
        lead = query.table
        owner = SQL("COALESCE(%s, %s)", SQL.identifier(lead, "user_id"), self.env.uid)
        query.add_where(
            SQL(
                """NOT EXISTS (
                    SELECT 1 FROM mail_activity reminder
                     WHERE reminder.res_model = 'crm.lead'
                       AND reminder.res_id = %(id)s
                       AND reminder.activity_type_id = %(type)s
                       AND reminder.active)""",
                id=SQL.identifier(lead, "id"),
                type=reminder_type.id,
            )
        )
        stuck = query.select(
            SQL("%s AS id", SQL.identifier(lead, "id")),
            SQL("%s AS owner", owner),
            SQL("%s AS stage_id", SQL.identifier(lead, "stage_id")),
            SQL("%s AS since", SQL.identifier(lead, "date_last_stage_update")),
        )
        rows = self.env.execute_query(
            SQL(
                """
                WITH stuck AS (%(stuck)s),
                     ranked AS (
                         SELECT stuck.*, row_number() OVER (
                                    PARTITION BY stuck.owner
                                    ORDER BY stuck.since, stuck.id) AS rank
                           FROM stuck),
                     open AS (
                         SELECT user_id, count(*) AS reminders
                           FROM mail_activity
                          WHERE res_model = 'crm.lead'
                            AND activity_type_id = %(type)s
                            AND active
                          GROUP BY user_id),
                     due AS (
                         SELECT ranked.*
                           FROM ranked
                           LEFT JOIN open ON open.user_id = ranked.owner
                          WHERE ranked.rank <= %(cap)s - COALESCE(open.reminders, 0))
                SELECT id, owner, stage_id, since, count(*) OVER ()
                  FROM due
                 ORDER BY rank, since, id
                 LIMIT %(limit)s
                """,
                stuck=stuck,
                type=reminder_type.id,
                cap=self._stuck_reminders_per_owner(),
                limit=limit,
            )
        )
        total = rows[0][4] if rows else 0
        return [row[:4] for row in rows], total

    @api.model
    def _cron_remind_stuck_opportunities(self, batch=STUCK_REMINDER_BATCH):
        """Give each stuck opportunity's owner a to-do (then it is worked on),
        in batches (``jobs.run_batches``). A deal with an open stuck reminder
        gets no second one, and an owner no more than the cap of open ones
        (``_stuck_reminders_per_owner``). Returns the reminders created."""
        created = self.env["mail.activity"]

        def step():
            nonlocal created
            reminders, remaining = self._remind_stuck_batch(batch)
            created |= reminders
            return len(reminders), remaining

        run_batches(self.env, step)
        return created

    @api.model
    def _remind_stuck_batch(self, batch):
        """One batch of reminders: (the reminders created, how many remain)."""
        rows, total = self._stuck_reminder_candidates(batch)
        Activity = self.env["mail.activity"].sudo()
        if not rows:
            return Activity, 0
        # The deals locked first (their reminder moves their stuck dates): one
        # a salesperson is saving right now is left to the next batch, instead
        # of either transaction failing on a concurrent update.
        locked = self._lock_for_reminder([row[0] for row in rows])
        rows = [row for row in rows if row[0] in locked]
        if not rows:
            return Activity, total
        now = fields.Datetime.now()
        deadline = fields.Date.add(
            fields.Date.context_today(self), days=STUCK_REMINDER_DAYS
        )
        reminder_type = self.env.ref("sales_funnel.mail_activity_type_stuck_reminder")
        model_id = self.env["ir.model"]._get_id("crm.lead")
        owners = self.env["res.users"].sudo().browse({row[1] for row in rows})
        stages = self.env["crm.stage"].sudo().browse({row[2] for row in rows})
        vals_list = []
        for lead_id, owner_id, stage_id, since in rows:
            owner = owners.browse(owner_id)
            # Each owner reads the reminder in their own language.
            stage = stages.browse(stage_id).with_context(lang=owner.lang)
            vals_list.append(
                {
                    "res_model_id": model_id,
                    "res_id": lead_id,
                    "activity_type_id": reminder_type.id,
                    "summary": stage.env._(
                        "Stuck in %(stage)s for %(days)s days: move it on or plan "
                        "the next step",
                        stage=stage.name,
                        days=(now - since).days if since else 0,
                    ),
                    "user_id": owner_id,
                    "date_deadline": deadline,
                }
            )
        # No e-mail per reminder (up to the cap of each owner on a first run):
        # the owner finds them in their activities.
        reminders = Activity.with_context(mail_activity_quick_update=True).create(
            vals_list
        )
        return reminders, total - len(reminders)

    @api.model
    def _lock_for_reminder(self, lead_ids):
        """The ids of ``lead_ids`` locked for this transaction; none when one
        changed since it began (the next batch reads them afresh)."""
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL(
                        "SELECT id FROM crm_lead WHERE id = ANY(%s)"
                        " FOR NO KEY UPDATE SKIP LOCKED",
                        list(lead_ids),
                    ),
                    log_exceptions=False,
                )
                return {row[0] for row in self.env.cr.fetchall()}
        except SerializationFailure:
            return set()
