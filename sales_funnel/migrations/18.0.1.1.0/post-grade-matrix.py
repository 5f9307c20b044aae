"""The opportunity grade's shipped matrix gets its judgements.

The matrix record is ``noupdate``: a database that installed an earlier version
gets the record on upgrade, but not the ``<function>`` calls that fill and
activate it (they run at installation only). Done here, then the open deals are
graded by the daily regrade.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    matrix = env.ref("sales_funnel.crm_grade_matrix_default", raise_if_not_found=False)
    if matrix and not matrix.cell_ids:
        matrix._judge_by_default()
        matrix.action_activate()
