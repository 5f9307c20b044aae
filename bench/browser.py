#!/usr/bin/env python3
"""How long a user waits for each screen, in headless Chromium.

    python3 bench/browser.py --url http://127.0.0.1:8069 --db bn_1m --runs 5

The web client is loaded once (as after a login); each run opens a screen the
way a menu does (the action service's ``doAction``) and stops the clock when
the screen's data is drawn: the first kanban card, pivot cell, dashboard
funnel bar or list row. Between two runs a small screen (the stage list) is
opened, so the screen measured is built from scratch each time. The clock
runs in the page (``performance.now()``, one animation frame per poll).

Prints median / min / max in ms per screen and the ratio to the stock CRM
screen measured in the same run (Pipeline Analysis, pivot of crm.lead), as
bench/run.py does for its baselines.

The bus (Odoo's websocket, for notifications) is left out: a multi-worker
Odoo serves it on its gevent port behind a proxy, which the benchmark's
servers have not; the screens do not need it.

Needs the ``playwright`` Python package (no browser download: it drives
Debian's chromium, ``--chromium``).
"""

import argparse
import datetime
import statistics
import sys

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PIVOT = ".o_pivot td.o_pivot_cell_value"
KANBAN = ".o_kanban_renderer .o_kanban_record"

# (name, action, additional context, selector of the data drawn, view type)
SCREENS = [
    (
        "stock Pipeline Analysis pivot (baseline)",
        "crm.crm_opportunity_report_action",
        {},
        PIVOT,
        "pivot",
    ),
    (
        "pipeline kanban, admin, no filter",
        "crm.crm_lead_action_pipeline",
        {"search_default_assigned_to_me": 0},
        KANBAN,
        None,
    ),
    (
        "pipeline kanban, Stuck filter",
        "crm.crm_lead_action_pipeline",
        {"search_default_assigned_to_me": 0, "search_default_stuck": 1},
        KANBAN,
        None,
    ),
    (
        "funnel dashboard",
        "sales_funnel.crm_funnel_dashboard_action",
        {},
        ".o_sf_funnel_row",
        None,
    ),
    (
        "Funnel Forecast pivot",
        "sales_funnel.crm_funnel_summary_action",
        {},
        PIVOT,
        "pivot",
    ),
    (
        "Forecast Details pivot",
        "sales_funnel.crm_funnel_forecast_report_action",
        {},
        PIVOT,
        "pivot",
    ),
    (
        "Stage Analysis pivot",
        "sales_funnel.crm_funnel_stage_report_action",
        {},
        PIVOT,
        "pivot",
    ),
    (
        "Pipeline as of a date (-90 days) pivot",
        "sales_funnel.crm_funnel_pipeline_report_action",
        {"search_default_open": 1, "sales_funnel_as_of": "{as_of}"},
        PIVOT,
        "pivot",
    ),
    (
        "Source Effectiveness pivot",
        "sales_funnel.crm_funnel_source_report_action",
        {},
        PIVOT,
        "pivot",
    ),
]
RESET_ACTION = "crm.crm_stage_action"

# The bus service starts its websocket in a (shared) worker: give it one that
# does nothing (see the module's docstring).
NO_BUS = """
window.SharedWorker = undefined;
window.Worker = class {
    constructor() { this.port = this; }
    postMessage() {}
    addEventListener() {}
    removeEventListener() {}
    start() {}
};
"""

# Opens an action as a menu does and resolves with the milliseconds until
# ``selector`` matches inside the new action (a fresh container: the previous
# screen's elements do not count).
OPEN_AND_TIME = """
async ([action, context, selector, viewType]) => {
    const env = odoo.__WOWL_DEBUG__.root.env;
    const previous = document.querySelector(".o_action_manager > .o_action");
    const start = performance.now();
    const options = {clearBreadcrumbs: true, additionalContext: context};
    if (viewType) options.viewType = viewType;
    env.services.action.doAction(action, options);
    return await new Promise((resolve, reject) => {
        const poll = () => {
            const current = document.querySelector(".o_action_manager > .o_action");
            if (current && current !== previous && current.querySelector(selector)) {
                resolve(performance.now() - start);
            } else if (performance.now() - start > 120000) {
                reject(new Error("not drawn after 120 s: " + action));
            } else {
                requestAnimationFrame(poll);
            }
        };
        requestAnimationFrame(poll);
    });
}
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8069")
    parser.add_argument("--db", required=True)
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--warm-up", type=int, default=1, help="runs before the measured ones"
    )
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument(
        "--only", nargs="*", default=[], help="screens whose name has one of the words"
    )
    parser.add_argument(
        "--failure-dir", help="where a screenshot of a screen not drawn is saved"
    )
    options = parser.parse_args()
    as_of = (datetime.date.today() - datetime.timedelta(days=90)).isoformat()
    screens = [
        (name, action, _fill(context, as_of), selector, view)
        for name, action, context, selector, view in SCREENS
        if name.startswith("stock")
        or not options.only
        or any(word in name for word in options.only)
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=options.chromium, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.set_default_timeout(120000)  # a loaded server, fresh workers
        # What the page said, to explain a screen not drawn.
        errors = []
        page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
        page.on(
            "console",
            lambda message: (
                message.type == "error" and errors.append(f"console: {message.text}")
            ),
        )
        page.on(
            "response",
            lambda response: (
                response.status >= 500
                and errors.append(f"HTTP {response.status}: {response.url}")
            ),
        )
        # Logged in without the login page (its bus would start before the
        # script below could leave it out).
        answer = page.request.post(
            f"{options.url}/web/session/authenticate",
            data={
                "jsonrpc": "2.0",
                "params": {
                    "db": options.db,
                    "login": options.login,
                    "password": options.password,
                },
            },
            timeout=120000,
        ).json()
        if answer.get("error") or not answer.get("result", {}).get("uid"):
            raise SystemExit(f"cannot log in as {options.login}: {answer}")
        page.add_init_script(NO_BUS)
        # The client opens on the small screen used between runs, drawn before
        # the first run (a home action still loading could land on top of it).
        page.goto(f"{options.url}/odoo/action-{RESET_ACTION}")
        page.wait_for_selector(".o_main_navbar", timeout=120000)
        page.wait_for_function("odoo.__WOWL_DEBUG__ && odoo.__WOWL_DEBUG__.root")
        page.wait_for_selector(".o_action_manager .o_list_renderer", timeout=120000)
        print(
            f"database {options.db} at {options.url}, as {options.login}; headless"
            f" Chromium; {options.runs} runs after {options.warm_up} warm-up (ms"
            " from doAction to the data drawn)"
        )
        print(
            f"{'screen':50} {'median':>9} {'min':>9} {'max':>9}  ratio to the stock"
            " pivot"
        )
        baseline = None
        failed = False
        for name, action, context, selector, view in screens:
            try:
                times = [
                    _open(page, action, context, selector, view)
                    for _run in range(options.warm_up + options.runs)
                ][options.warm_up :]
            except Exception as error:  # noqa: BLE001 (reported, the rest goes on)
                print(f"{name:50} FAILED: {str(error).splitlines()[0]}")
                for line in errors[-5:]:
                    print(f"    {line[:300]}")
                if options.failure_dir:
                    page.screenshot(path=f"{options.failure_dir}/{action}.png")
                failed = True
                continue
            finally:
                errors.clear()
            median = statistics.median(times)
            if baseline is None:
                baseline = median
            print(
                f"{name:50} {median:9.0f} {min(times):9.0f} {max(times):9.0f}"
                f"  {median / baseline:5.2f}"
            )
        browser.close()
    return 1 if failed else 0


def _fill(context, as_of):
    return {
        key: value.format(as_of=as_of) if isinstance(value, str) else value
        for key, value in context.items()
    }


def _open(page, action, context, selector, view):
    page.evaluate(OPEN_AND_TIME, [RESET_ACTION, {}, ".o_list_renderer", None])
    return page.evaluate(OPEN_AND_TIME, [action, context, selector, view])


if __name__ == "__main__":
    sys.exit(main())
