"""Releases before 18.0.1.1.0 reminded a stuck opportunity's owner with a
stock to-do every day. The job now gives a deal one reminder of its own type
at a time, and knows a deal is reminded by that type: the old to-dos still
open become reminders of the type (recognised by their summary, in English
or Chinese, the languages the old job wrote in), so that upgraded deals are
not reminded once more on top of them. Nothing is deleted."""

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL

# The old job's summaries ("Stuck in %(stage)s for %(days)s days: ...").
OLD_SUMMARIES = (
    "Stuck in % for % days: move it on or plan the next step",
    "已在 % 停留 % 天：请推进或安排下一步",
)


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    todo = env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
    reminder = env.ref(
        "sales_funnel.mail_activity_type_stuck_reminder", raise_if_not_found=False
    )
    if not (todo and reminder):
        return
    cr.execute(
        SQL(
            """
            UPDATE mail_activity
               SET activity_type_id = %(reminder)s
             WHERE res_model = 'crm.lead'
               AND activity_type_id = %(todo)s
               AND active
               AND summary LIKE ANY (%(summaries)s)
            """,
            reminder=reminder.id,
            todo=todo.id,
            summaries=list(OLD_SUMMARIES),
        )
    )
