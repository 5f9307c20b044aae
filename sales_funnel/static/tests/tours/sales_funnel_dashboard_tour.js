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
            // Wait for the quarter's figures: a click on the row before they
            // arrive would open the previous period's opportunities.
            trigger: ".o_sf_weighted:contains('50,000')",
            content: "the quarter's figures are back",
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
