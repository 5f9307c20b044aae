#!/usr/bin/env python3
"""Make a copied benchmark database ready for the load test (cluster.py runs it
on the primary, before the replica is made).

- ``--leads N``: generate N opportunities (bench/generate.py) first;
- the load test's people, password = login: the generator's salespeople
  (``bench_sp_01`` …), a sales manager ``loadtest_manager`` and a sales
  secretary ``loadtest_secretary``;
- deals ready to be won: ``READY`` deals of each salesperson in the closing
  stage get their exit criteria ticked and an order line, so that the
  salespeople win them during the test and the secretary and the hand-off job
  both transmit them (one order per deal must come out of it);
- the jobs of other modules are put off by a day: in a copied database every
  job is overdue at once, which a running installation never sees, and Odoo's
  cron worker runs all the due jobs of a database within one time limit
  (killed past 120 s on a busy machine); the addon's own jobs stay due;
- the web client's asset bundle built, as a running installation has it.
"""

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402

import odoo  # noqa: E402
from odoo import SUPERUSER_ID, api  # noqa: E402
from odoo.modules.registry import Registry  # noqa: E402

READY = 5
PEOPLE = {
    "loadtest_manager": ("Load Test Manager", "sales_team.group_sale_manager"),
    "loadtest_secretary": ("Load Test Secretary", "sales_funnel.group_sales_secretary"),
}


def prepare(env, leads):
    if leads:
        generate.generate(env, leads, checklist=True)
    Users = env["res.users"].with_context(no_reset_password=True)
    for login, (name, group) in PEOPLE.items():
        if not Users.search([("login", "=", login)]):
            Users.create(
                {
                    "name": name,
                    "login": login,
                    "groups_id": [
                        (6, 0, [env.ref("base.group_user").id, env.ref(group).id])
                    ],
                }
            )
    salespeople = Users.search([("login", "=like", "bench_sp_%")])
    if not salespeople:
        raise SystemExit("no bench_sp_* salesperson: generate opportunities (--leads)")
    generate.set_passwords(env, [*PEOPLE, *salespeople.mapped("login")])
    # A product for the order lines of the deals the salespeople win.
    product = env["product.product"].search([("default_code", "=", "LOADTEST")])
    if not product:
        env["product.product"].create(
            {
                "name": "Load test switchgear",
                "default_code": "LOADTEST",
                "list_price": 1000.0,
                "sale_ok": True,
            }
        )
    ready = make_deals_ready(
        env,
        salespeople,
        product or env["product.product"].search([("default_code", "=", "LOADTEST")]),
    )
    postponed = put_off_other_jobs(env)
    env.cr.commit()
    print(
        f"prepared: {len(salespeople)} salespeople, manager, secretary;"
        f" {ready} deals to win; {postponed} jobs of other modules put off"
    )


BUNDLES = ("web.assets_web", "web.assets_backend_lazy", "web.assets_web_print")


def build_web_assets(registry):
    """The web client's asset bundle (≈ 10 s of CPU): a copied database that
    never served the web client has none, and the load test's first page
    would build it while the load runs, which a running installation does not
    do. A copy that has it finds it (the same files, the same bundle). In a
    transaction of its own, while the data is generated (mostly PostgreSQL's
    work)."""
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        # Every bundle the screens load, the lazy one (pivot, graph) and the
        # print styles included: a bundle first asked for in a read-only
        # request (served by the replica) cannot be written, and its request
        # ends in a 400, so the screen that needs it is never drawn.
        for name in BUNDLES:
            bundle = env["ir.qweb"]._get_asset_bundle(name)
            bundle.css()
            bundle.js()


def put_off_other_jobs(env):
    own = (
        env["ir.model.data"]
        .search([("module", "=", "sales_funnel"), ("model", "=", "ir.cron")])
        .mapped("res_id")
    )
    others = env["ir.cron"].search([("id", "not in", own)])
    others.write({"nextcall": datetime.now() + timedelta(days=1)})
    env["ir.cron.trigger"].search([("cron_id", "in", others.ids)]).unlink()
    return len(others)


def make_deals_ready(env, salespeople, product):
    stages = env["crm.stage"].search([("team_id", "=", False)], order="sequence, id")
    closing = stages.filtered(lambda stage: not stage.is_won)[-1:]
    Lead = env["crm.lead"]
    leads = Lead.browse()
    for user in salespeople:
        leads |= Lead.search(
            [
                ("user_id", "=", user.id),
                ("stage_id", "=", closing.id),
                ("type", "=", "opportunity"),
                ("partner_id", "!=", False),
                ("line_ids", "=", False),
            ],
            limit=READY,
        )
    if not leads:
        return 0
    env.cr.execute(
        "UPDATE crm_lead_criterion SET done = true WHERE lead_id IN %s",
        [tuple(leads.ids)],
    )
    env["crm.lead.line"].create(
        [{"lead_id": lead.id, "product_id": product.id} for lead in leads]
    )
    return len(leads)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--dbname", required=True)
    parser.add_argument("--leads", type=int, default=0)
    args = parser.parse_args()
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.dbname])
    registry = Registry(args.dbname)
    with ThreadPoolExecutor(1) as pool:
        assets = pool.submit(build_web_assets, registry)
        with registry.cursor() as cr:
            prepare(api.Environment(cr, SUPERUSER_ID, {}), args.leads)
        assets.result()


if __name__ == "__main__":
    main()
