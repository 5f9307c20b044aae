#!/usr/bin/env python3
"""Make a copied benchmark database ready for the load test (cluster.py runs it
on the primary, before the replica is made).

- ``--leads N``: generate N opportunities (bench/generate.py) first;
- the load test's people, password = login: the generator's salespeople
  (``bench_sp_01`` …), a sales manager ``loadtest_manager`` and a sales
  secretary ``loadtest_secretary``;
- the hand-off sends won deals without order lines to the "failed" status
  (it needs products): the deals won during the load test get a product line
  from their creation on, so that a transmission creates a real order.
"""

import argparse
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402

import odoo  # noqa: E402
from odoo import SUPERUSER_ID, api  # noqa: E402
from odoo.modules.registry import Registry  # noqa: E402

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
    env.cr.commit()
    print(f"prepared: {len(salespeople)} salespeople, manager, secretary")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--dbname", required=True)
    parser.add_argument("--leads", type=int, default=0)
    args = parser.parse_args()
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.dbname])
    registry = Registry(args.dbname)
    with registry.cursor() as cr:
        prepare(api.Environment(cr, SUPERUSER_ID, {}), args.leads)


if __name__ == "__main__":
    main()
