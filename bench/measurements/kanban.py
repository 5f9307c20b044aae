"""The pipeline kanban, all columns, and the search of its Stuck filter.

The stock baseline opens the stock crm kanban arch with Odoo's own
``read_progress_bar``, without the addon's indexes and without its kept sums
(the context key ``sales_funnel_stock_read``).
"""

from contextlib import contextmanager

from harness import measure
from webclient import PIPELINE_DOMAIN, Kanban, load_kanban

from odoo import fields

# Indexes the addon adds for its views: dropped (in a savepoint, rolled back)
# while a stock baseline runs, so that it measures stock Odoo.
ADDON_INDEXES = ["crm_lead_sales_funnel_kanban_cover_idx"]


@contextmanager
def without_addon_indexes(cr):
    cr.execute("SAVEPOINT bench_stock_indexes")
    try:
        for name in ADDON_INDEXES:
            cr.execute(f"DROP INDEX IF EXISTS {name}")  # noqa: S608 (fixed names)
        cr.sql_log_count -= 1 + len(ADDON_INDEXES)  # bookkeeping, not the view's
        yield
    finally:
        cr.execute("ROLLBACK TO SAVEPOINT bench_stock_indexes")
        cr.sql_log_count -= 1


def stock_kanban(env, domain):
    # The rows as stock Odoo reads them, not the addon's kept sums.
    env = env(context=dict(env.context, sales_funnel_stock_read=True))
    with without_addon_indexes(env.cr):
        load_kanban(env, domain, *Kanban.get(env, stock=True), stock=True)


def funnel_kanban(env, domain):
    load_kanban(env, domain, *Kanban.get(env, stock=False))


def my_pipeline(env):
    return PIPELINE_DOMAIN + [("user_id", "=", env.uid)]


@measure(
    "kanban all columns, admin, no filter",
    baseline=lambda b: stock_kanban(b.admin, PIPELINE_DOMAIN),
    baseline_name="stock crm kanban",
)
def kanban_admin(bench):
    funnel_kanban(bench.admin, PIPELINE_DOMAIN)


@measure(
    "kanban all columns, salesperson, My Pipeline",
    baseline=lambda b: stock_kanban(b.user, my_pipeline(b.user)),
    baseline_name="stock crm kanban",
)
def kanban_user(bench):
    funnel_kanban(bench.user, my_pipeline(bench.user))


@measure(
    "kanban all columns, salesperson, no filter",
    baseline=lambda b: stock_kanban(b.user, PIPELINE_DOMAIN),
    baseline_name="stock crm kanban",
)
def kanban_user_all(bench):
    funnel_kanban(bench.user, PIPELINE_DOMAIN)


@measure(
    "search Stuck filter, admin (search_count)",
    baseline=lambda b: b.admin["crm.lead"].search_count(
        PIPELINE_DOMAIN + [("activity_date_deadline", "<", fields.Date.today())]
    ),
    baseline_name="stock Late Activities",
)
def stuck_filter(bench):
    bench.admin["crm.lead"].search_count(PIPELINE_DOMAIN + [("is_stuck", "=", True)])
