#!/usr/bin/env python3
"""Take the README screenshots from a running Odoo with the sales_funnel demo.

    bin/serve-demo &        # or any server with the demo database
    python3 tools/screenshots.py --url http://localhost:8069 --db sales_funnel_demo

Needs the `playwright` Python package and Debian's chromium (no browser
download): pip install playwright; apt-get install chromium.
"""

import argparse
import json
import pathlib
import urllib.request

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def rpc(url, session, model, method, args, kwargs=None):
    """JSON-RPC call with the browser's session cookie."""
    payload = {
        "jsonrpc": "2.0",
        "method": "call",
        "params": {
            "model": model,
            "method": method,
            "args": args,
            "kwargs": kwargs or {},
        },
    }
    request = urllib.request.Request(
        f"{url}/web/dataset/call_kw",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "Cookie": f"session_id={session}"},
    )
    with urllib.request.urlopen(request) as response:  # noqa: S310 (local server)
        answer = json.load(response)
    if answer.get("error"):
        raise RuntimeError(answer["error"]["data"]["message"])
    return answer["result"]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://localhost:8069")
    parser.add_argument("--db", default="sales_funnel_demo")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--lang", default="en_US")
    parser.add_argument("--out", default="docs/screenshots")
    parser.add_argument(
        "--only-inspection",
        action="store_true",
        help="take only the shots of the inspection rhythm (issue 11)",
    )
    parser.add_argument(
        "--only-grading",
        action="store_true",
        help="take only the shots of grading, lead pool and sources (issue 12)",
    )
    options = parser.parse_args()
    out = pathlib.Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    suffix = "" if options.lang == "en_US" else f"_{options.lang}"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page(
            viewport={"width": 1440, "height": 900},
            locale=options.lang.replace("_", "-"),
        )

        def login():
            page.goto(f"{options.url}/web/login?db={options.db}")
            page.fill("input[name=login]", options.login)
            page.fill("input[name=password]", options.password)
            page.click("button[type=submit]")
            page.wait_for_selector(".o_main_navbar")
            return next(
                c["value"] for c in page.context.cookies() if c["name"] == "session_id"
            )

        session = login()
        uid = rpc(
            options.url,
            session,
            "res.users",
            "search",
            [[("login", "=", options.login)]],
        )
        rpc(options.url, session, "res.users", "write", [uid, {"lang": options.lang}])
        # The session keeps the language it logged in with: start a new one.
        page.close()
        page = browser.new_page(
            viewport={"width": 1440, "height": 900},
            locale=options.lang.replace("_", "-"),
        )
        session = login()
        if options.only_inspection:
            inspection_shots(page, options, session, out, suffix)
            browser.close()
            return
        if options.only_grading:
            grading_shots(page, options, session, out, suffix)
            browser.close()
            return

        # 1. The pipeline of the whole company.
        page.goto(f"{options.url}/odoo/crm")
        page.wait_for_selector(".o_kanban_record")
        page.click(".o_searchview_facet .o_facet_remove")
        page.wait_for_timeout(1500)
        page.screenshot(path=out / f"pipeline{suffix}.png")

        # 2. An opportunity in Development with its checklist partly ticked.
        development = rpc(
            options.url,
            session,
            "ir.model.data",
            "check_object_reference",
            ["sales_funnel", "crm_stage_development"],
        )[1]
        leads = rpc(
            options.url,
            session,
            "crm.lead",
            "search_read",
            [[("stage_id", "=", development), ("partner_id.is_company", "=", True)]],
            {"fields": ["id"], "limit": 20},
        )
        lead_ids = [lead["id"] for lead in leads]
        lines = rpc(
            options.url,
            session,
            "crm.lead.criterion",
            "read_group",
            [
                [
                    ("lead_id", "in", lead_ids),
                    ("done", "=", True),
                    ("in_current_stage", "=", True),
                ],
                ["lead_id"],
                ["lead_id"],
            ],
        )
        lead_id = max(lines, key=lambda group: group["lead_id_count"])["lead_id"][0]
        page.goto(f"{options.url}/odoo/crm/{lead_id}")
        page.wait_for_selector(".o_form_view")
        page.click("a[name=exit_criteria]")
        page.wait_for_timeout(800)
        page.screenshot(path=out / f"checklist{suffix}.png")

        # 3. Moving it forward with open criteria is refused.
        next_stages = (
            ".o_statusbar_status button[data-value]:not(.o_arrow_button_current)"
        )
        page.click(f"{next_stages} >> nth=2")
        page.wait_for_selector(".modal .modal-body")
        page.wait_for_timeout(500)
        page.screenshot(path=out / f"refusal{suffix}.png")

        # 4. The manager overrides with a written reason.
        page.click(".modal-footer .btn-primary >> nth=0")
        page.wait_for_selector(".modal .o_field_widget[name=reason] textarea")
        page.fill(
            ".modal .o_field_widget[name=reason] textarea",
            "Group HQ approved the budget; the site survey follows next week.",
        )
        page.wait_for_timeout(500)
        page.screenshot(path=out / f"override{suffix}.png")
        page.click(".modal .o_form_button_cancel, .modal footer .btn-secondary")

        # 5. The stage configuration with its exit criteria.
        page.goto(f"{options.url}/odoo/action-crm.crm_stage_action/{development}")
        page.wait_for_selector(".o_form_view")
        page.wait_for_timeout(800)
        page.screenshot(path=out / f"stage{suffix}.png")

        # 6. The stage history pivot for managers.
        page.goto(
            f"{options.url}/odoo/action-sales_funnel.crm_lead_stage_history_action?view_type=pivot"
        )
        page.wait_for_selector(".o_pivot")
        page.wait_for_timeout(800)
        page.screenshot(path=out / f"history{suffix}.png")

        # 7. The sales secretary's hand-off list, every status.
        page.goto(f"{options.url}/odoo/action-sales_funnel.crm_lead_handoff_action")
        page.wait_for_selector(".o_list_view .o_data_row")
        page.click(".o_searchview_facet .o_facet_remove")
        page.wait_for_timeout(1500)
        page.screenshot(path=out / f"handoff{suffix}.png")

        # 8. A failed hand-off: the message says what to fix, then Retry.
        failed = rpc(
            options.url,
            session,
            "crm.lead",
            "search",
            [[("handoff_status", "=", "-1"), ("line_ids", "!=", False)]],
            {"limit": 1},
        )[0]
        page.goto(f"{options.url}/odoo/crm/{failed}")
        page.wait_for_selector(".o_form_view")
        page.click("a[name=handoff]")
        page.wait_for_timeout(800)
        page.screenshot(path=out / f"handoff_failed{suffix}.png")

        # 9. The director's funnel dashboard, this year.
        page.goto(f"{options.url}/odoo/action-sales_funnel.crm_funnel_dashboard_action")
        page.wait_for_selector(".o_sf_dashboard .o_sf_funnel_row")
        page.select_option(".o_sf_period", "this_quarter")
        page.wait_for_timeout(1500)
        page.screenshot(path=out / f"dashboard{suffix}.png", full_page=True)

        # 10. Analyses: funnel forecast, stage analysis, accuracy, targets.
        for name, action, selector in (
            ("forecast", "crm_funnel_summary_action", ".o_pivot"),
            ("stage_analysis", "crm_funnel_stage_report_action", ".o_pivot"),
            ("accuracy", "crm_forecast_snapshot_action", ".o_list_view, .o_pivot"),
            ("targets", "crm_sales_target_action", ".o_list_view"),
        ):
            page.goto(f"{options.url}/odoo/action-sales_funnel.{action}")
            page.wait_for_selector(selector)
            page.wait_for_timeout(1200)
            page.screenshot(path=out / f"{name}{suffix}.png")

        # 11. The evidence behind the gate (issue 10).
        def ref(xmlid):
            module, name = xmlid.split(".")
            return rpc(
                options.url,
                session,
                "ir.model.data",
                "check_object_reference",
                [module, name],
            )[1]

        # 11a. The kanban cards: checklist badge and Basic Facts Card bar.
        page.goto(f"{options.url}/odoo/crm")
        page.wait_for_selector(".o_kanban_renderer")
        page.click(".o_searchview_facet .o_facet_remove")
        page.wait_for_selector(".o_kanban_record .o_sales_funnel_fact_card")
        page.wait_for_timeout(1500)
        columns = page.locator(".o_kanban_group").all()[:3]
        first, last = columns[0].bounding_box(), columns[-1].bounding_box()
        page.screenshot(
            path=out / f"facts_kanban{suffix}.png",
            clip={
                "x": first["x"] - 8,
                "y": first["y"] - 8,
                "width": last["x"] + last["width"] - first["x"] + 16,
                "height": 560,
            },
        )

        # 11b. An opportunity's checklist with its evidence and the card's
        # completeness (the deal with the most evidence in its current stage).
        lines = rpc(
            options.url,
            session,
            "crm.lead.criterion",
            "read_group",
            [
                [
                    ("evidence_ref", "!=", False),
                    ("in_current_stage", "=", True),
                    ("lead_id.active", "=", True),
                    ("lead_id.stage_id.is_won", "=", False),
                ],
                ["lead_id"],
                ["lead_id"],
            ],
        )
        evidence_lead = max(lines, key=lambda group: group["lead_id_count"])
        evidence_lead = evidence_lead["lead_id"][0]
        page.set_viewport_size({"width": 1440, "height": 1200})
        page.goto(f"{options.url}/odoo/crm/{evidence_lead}")
        page.wait_for_selector(".o_form_view")
        page.click("a[name=exit_criteria]")
        page.wait_for_timeout(1000)
        page.screenshot(path=out / f"evidence{suffix}.png")

        # 11c. Its Basic Facts Card.
        page.set_viewport_size({"width": 1440, "height": 900})
        page.click("button[name=action_open_fact_card]")
        page.wait_for_selector(".o_form_view .o_field_widget[name=role_ids]")
        page.wait_for_timeout(1000)
        page.screenshot(path=out / f"fact_card{suffix}.png")

        # 11d. A customer interview report with its next steps.
        interview = ref("sales_funnel.interview_verification_02")
        page.set_viewport_size({"width": 1440, "height": 1480})
        page.goto(
            f"{options.url}/odoo/action-sales_funnel.crm_lead_interview_action/{interview}"
        )
        page.wait_for_selector(".o_form_view .o_field_widget[name=step_ids]")
        page.wait_for_timeout(1000)
        page.screenshot(path=out / f"interview{suffix}.png")

        # 11e. The calendar of customer visits, last month.
        page.set_viewport_size({"width": 1440, "height": 900})
        page.goto(
            f"{options.url}/odoo/action-sales_funnel.crm_lead_interview_action"
            "?view_type=calendar"
        )
        page.wait_for_selector(".o_calendar_view .fc")
        page.click(".o_calendar_navigation_buttons .o_calendar_button_prev")
        page.wait_for_timeout(1500)
        page.screenshot(path=out / f"interview_calendar{suffix}.png")

        # 11f. Lost asks for the loss report (left unconfirmed).
        page.goto(f"{options.url}/odoo/crm/{lead_id}")
        page.wait_for_selector(".o_form_view")
        page.click(".o_statusbar_buttons button[data-hotkey=l]")
        page.wait_for_selector(".modal .o_field_widget[name=customer_reason]")
        competitor = rpc(
            options.url,
            session,
            "crm.lost.reason",
            "read",
            [[ref("sales_funnel.crm_lost_reason_competitor")], ["name"]],
            {"context": {"lang": options.lang}},
        )[0]["name"]
        page.fill(".modal .o_field_widget[name=lost_reason_id] input", competitor)
        page.click(
            ".o-autocomplete--dropdown-item:not(.o_m2o_dropdown_option)"
            f" .dropdown-item:has-text('{competitor}')"
        )
        page.wait_for_selector(".modal .o_field_widget[name=competitor_id] input")
        page.fill(
            ".modal .o_field_widget[name=customer_reason] textarea",
            "对方交货期短两周 The competitor delivers two weeks earlier.",
        )
        page.wait_for_timeout(800)
        page.screenshot(path=out / f"lost_wizard{suffix}.png")
        page.click(".modal .modal-footer .btn-secondary")

        # 11g. A loss report, and the loss analysis.
        report = ref("sales_funnel.loss_report_lost_05")
        page.goto(
            f"{options.url}/odoo/action-sales_funnel.crm_lead_loss_report_action/{report}"
        )
        page.wait_for_selector(".o_form_view .o_field_widget[name=analysis]")
        page.wait_for_timeout(1000)
        page.screenshot(path=out / f"loss_report{suffix}.png")
        for name, view_type, selector in (
            ("loss_analysis", "pivot", ".o_pivot"),
            ("loss_analysis_graph", "graph", ".o_graph_renderer canvas"),
        ):
            page.goto(
                f"{options.url}/odoo/action-sales_funnel.crm_lead_loss_report_action_analysis"
                f"?view_type={view_type}"
            )
            page.wait_for_selector(selector)
            page.wait_for_timeout(1500)
            page.screenshot(path=out / f"{name}{suffix}.png")

        # 12. The inspection rhythm (issue 11).
        inspection_shots(page, options, session, out, suffix)

        # 13. The opportunity grade, the lead pool and the sources (issue 12).
        grading_shots(page, options, session, out, suffix)
        browser.close()


def inspection_shots(page, options, session, out, suffix):
    """The weekly self-check, its signed one-to-one review, the hand-over of a
    departed salesperson and the dashboard's need worked back from the target."""
    url = options.url

    def login_id(login):
        return rpc(
            url,
            session,
            "res.users",
            "search",
            [[("login", "=", login), ("active", "in", [True, False])]],
        )[0]

    def selfcheck(login, state, order):
        return rpc(
            url,
            session,
            "crm.funnel.selfcheck",
            "search",
            [[("user_id", "=", login_id(login)), ("state", "=", state)]],
            {"order": order, "limit": 1},
        )[0]

    # 12a. Li Na's self-check of this week, submitted: the deals she checked.
    mine = selfcheck("li.na", "submitted", "week_start desc")
    page.set_viewport_size({"width": 1440, "height": 1100})
    page.goto(f"{url}/odoo/action-sales_funnel.crm_funnel_selfcheck_action/{mine}")
    page.wait_for_selector(".o_form_view .o_notebook")
    page.click(".o_notebook a[name=deals]")
    page.wait_for_selector("div[name=deal_line_ids] .o_data_row")
    page.wait_for_timeout(1000)
    page.screenshot(path=out / f"selfcheck{suffix}.png")

    # 12b. Wang Lei's last signed review: guidance and the agreed action.
    signed = selfcheck("wang.lei", "reviewed", "week_start desc")
    page.goto(
        f"{url}/odoo/action-sales_funnel.crm_funnel_selfcheck_action_reviews/{signed}"
    )
    page.wait_for_selector(".o_form_view .o_notebook")
    page.click(".o_notebook a[name=review]")
    page.wait_for_selector("div[name=action_ids] .o_data_row")
    page.wait_for_timeout(1000)
    page.screenshot(path=out / f"review{suffix}.png")

    # 12c. Ma Jun's hand-over: what went to whom.
    handover = rpc(
        url,
        session,
        "crm.salesperson.handover",
        "search",
        [[("user_id", "=", login_id("ma.jun"))]],
        {"limit": 1},
    )[0]
    page.goto(
        f"{url}/odoo/action-sales_funnel.crm_salesperson_handover_action/{handover}"
    )
    page.wait_for_selector(".o_form_view .o_data_row")
    page.wait_for_timeout(1000)
    page.screenshot(path=out / f"handover{suffix}.png")

    # 12d. The dashboard card of a salesperson: the new opportunities needed,
    # worked back from the target.
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{url}/odoo/action-sales_funnel.crm_funnel_dashboard_action")
    page.wait_for_selector(".o_sf_dashboard .o_sf_funnel_row")
    page.select_option(".o_sf_period", "this_quarter")
    page.wait_for_timeout(1000)
    page.select_option(".o_sf_user", str(login_id("li.na")))
    page.wait_for_timeout(1000)
    page.wait_for_selector(".o_sf_need .o_sf_need_message")
    page.wait_for_timeout(1500)
    page.locator(".o_sf_need").screenshot(path=out / f"need{suffix}.png")


def grading_shots(page, options, session, out, suffix):
    """The AHP grade matrix, an opportunity's grade and why, the grade badges
    on the pipeline, the lead pool and the source effectiveness report."""
    url = options.url

    def ref(xmlid):
        module, name = xmlid.split(".")
        return rpc(
            url, session, "ir.model.data", "check_object_reference", [module, name]
        )[1]

    # 13a. The company's grade matrix: the pairwise comparisons, λmax, CI, CR.
    matrix = ref("sales_funnel.crm_grade_matrix_default")
    page.set_viewport_size({"width": 1440, "height": 1100})
    page.goto(f"{url}/odoo/action-sales_funnel.crm_grade_matrix_action/{matrix}")
    page.wait_for_selector(".o_form_view .o_field_widget[name=cell_ids] table")
    page.wait_for_timeout(1200)
    page.screenshot(path=out / f"grade_matrix{suffix}.png")

    # 13b. Its weights, the principal eigenvector.
    page.click(".o_notebook a[name=weights]")
    page.wait_for_selector("div[name=weight_ids] .o_data_row")
    page.wait_for_timeout(1000)
    page.screenshot(path=out / f"grade_weights{suffix}.png")

    # 13c. An opportunity's Grade tab: each indicator's score, weight and
    # contribution, the grade and its reason.
    lead = ref("sales_funnel.opportunity_closing_01")
    page.goto(f"{url}/odoo/crm/{lead}")
    page.wait_for_selector(".o_form_view .o_notebook")
    page.click(".o_notebook a[name=grade]")
    page.wait_for_selector("div[name=grade_score_ids] .o_data_row")
    page.wait_for_timeout(1000)
    page.screenshot(path=out / f"grade{suffix}.png")

    # 13d. The pipeline's cards with their grade badges; the window is wide
    # enough for the funnel's stages after any of Odoo's left empty before them.
    page.set_viewport_size({"width": 2880, "height": 900})
    page.goto(f"{url}/odoo/crm")
    page.wait_for_selector(".o_kanban_renderer")
    page.click(".o_searchview_facet .o_facet_remove")
    page.wait_for_selector(".o_kanban_record .o_sales_funnel_grade")
    page.wait_for_timeout(1500)
    columns = page.locator(".o_kanban_group:has(.o_kanban_record)").all()[:4]
    first, last = columns[0].bounding_box(), columns[-1].bounding_box()
    page.screenshot(
        path=out / f"grade_kanban{suffix}.png",
        clip={
            "x": first["x"] - 8,
            "y": first["y"] - 8,
            "width": last["x"] + last["width"] - first["x"] + 16,
            "height": 560,
        },
    )

    # 13e. The lead pool by source, the leads nobody has taken yet.
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{url}/odoo/action-sales_funnel.crm_lead_pool_action")
    page.wait_for_selector(".o_kanban_renderer .o_kanban_record")
    page.wait_for_timeout(1500)
    page.screenshot(path=out / f"lead_pool{suffix}.png")

    # 13f. Source effectiveness, by source and campaign, and as a graph.
    for name, view_type, selector in (
        ("source_report", "pivot", ".o_pivot"),
        ("source_report_graph", "graph", ".o_graph_renderer canvas"),
    ):
        page.goto(
            f"{url}/odoo/action-sales_funnel.crm_funnel_source_report_action"
            f"?view_type={view_type}"
        )
        page.wait_for_selector(selector)
        if view_type == "graph":
            # Side by side: how far each source's leads get, step by step.
            page.click(".o_graph_button.fa-database.active")
        page.wait_for_timeout(1500)
        page.screenshot(path=out / f"{name}{suffix}.png")


if __name__ == "__main__":
    main()
