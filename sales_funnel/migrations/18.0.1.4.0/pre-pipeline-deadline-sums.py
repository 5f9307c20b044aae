"""Pipeline as of a date keeps its sums also per month of the expected
closing (crm_funnel_pipeline_deadline_delta): the kept spans get the month of
their opportunity's date_deadline and the new table is summed from them,
before the module's new triggers write both (a pass over the spans, not a
recount of the history)."""

from odoo.addons.sales_funnel.report.crm_funnel_pipeline_sums import (
    add_deadline_sums,
)


def migrate(cr, version):
    add_deadline_sums(cr)
