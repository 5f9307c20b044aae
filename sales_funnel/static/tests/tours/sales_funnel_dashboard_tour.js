/** @odoo-module **/

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("sales_funnel_dashboard_tour", {
    url: "/odoo/action-sales_funnel.crm_funnel_dashboard_action",
    steps: () => [
        {
            trigger: ".o_sf_dashboard .o_sf_funnel_row:contains('Proposal')",
            content: "the funnel shows every stage",
        },
        {
            trigger: ".o_sf_weighted:contains('50,000')",
            content: "next quarter's weighted forecast: 100,000 at 50%",
        },
        {
            trigger: ".o_sf_coverage:contains('25%')",
            content: "coverage against the 200,000 target",
        },
        {
            trigger: ".o_sf_target_basis:contains('Sum of the salespeople')",
            content: "the dashboard says how the target was read (the company: its salespeople's)",
        },
        {
            trigger:
                ".o_sf_need_message:contains('new opportunities: 12 in Proposal, 6 in Closing')",
            content: "worked back from the 150,000 gap and the conversions of the last 12 months",
        },
        {
            trigger: ".o_sf_period",
            content: "look at next month instead",
            run: "select next_month",
        },
        {
            trigger: ".o_sf_weighted:not(:contains('50,000'))",
            content: "nothing closes next month",
        },
        {
            trigger: ".o_sf_period",
            content: "back to next quarter",
            run: "select next_quarter",
        },
        {
            trigger: ".o_sf_weighted:contains('50,000')",
            content: "next quarter's figures are back (wait before drilling down)",
        },
        {
            trigger: ".o_sf_funnel_row:contains('Proposal')",
            content: "open the Proposal stage's opportunities",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('SF Dashboard Deal')",
            content: "the opportunity behind the number",
        },
    ],
});
