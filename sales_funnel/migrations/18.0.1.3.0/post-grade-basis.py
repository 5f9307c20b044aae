"""The grade's reason was stored as a sentence in the language of the user
who ran the grading; it is now a code (``grade_basis``) and the sentence is
built in the reader's language. The code follows from what was stored: a
rule, else a grade (the weighted score), else a stored reason (graded, not a
valid opportunity). The old column is then dropped."""

from odoo.tools import SQL
from odoo.tools.sql import column_exists


def migrate(cr, version):
    if not column_exists(cr, "crm_lead", "grade_reason"):
        return
    cr.execute(
        SQL(
            """
            UPDATE crm_lead
               SET grade_basis = CASE
                       WHEN grade_rule_id IS NOT NULL THEN 'rule'
                       WHEN grade IS NOT NULL THEN 'score'
                       ELSE 'invalid'
                   END
             WHERE grade_reason IS NOT NULL AND grade_reason != ''
            """
        )
    )
    cr.execute(SQL("ALTER TABLE crm_lead DROP COLUMN grade_reason"))
