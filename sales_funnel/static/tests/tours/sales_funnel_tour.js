/** @odoo-module **/

import { registry } from "@web/core/registry";

const DEAL = "SF Tour Deal";
const card = `.o_kanban_record:contains('${DEAL}')`;
const column = (stage) =>
    `.o_opportunity_kanban .o_kanban_group:has(.o_column_title:contains('${stage}'))`;

function tickRow(index) {
    return {
        trigger: `.modal .o_data_row:eq(${index}) .o_field_boolean_toggle input`,
        content: "tick the criterion",
        run: "click",
    };
}

registry.category("web_tour.tours").add("sales_funnel_gate_tour", {
    url: "/odoo/action-crm.crm_lead_action_pipeline",
    steps: () => [
        {
            trigger: `${column("Verification")} ${card}`,
            content: "drag the deal to Development before its criteria are met",
            run: `drag_and_drop (${column("Development")})`,
        },
        {
            trigger: ".modal:contains('Customer passed the credit check')",
            content: "the refusal lists the missing criteria",
        },
        {
            trigger: ".modal .modal-footer .btn-primary",
            content: "close the refusal",
            run: "click",
        },
        {
            trigger: `body:not(:has(.modal)) ${column("Verification")} ${card}`,
            content: "the deal stayed in Verification",
        },
        {
            trigger: `${card} .o_sales_funnel_checklist`,
            content: "open the checklist from the card",
            run: "click",
        },
        {
            trigger: ".modal .o_data_row:eq(7)",
            content: "the checklist of Verification is shown",
        },
        {
            trigger: ".modal .o_data_row:eq(3) .o_field_boolean_toggle input:checked",
            content: "the interview report ticked the face-to-face meeting",
        },
        {
            trigger: ".modal .o_data_row:eq(7) .o_field_boolean_toggle input:checked",
            content: "the criteria the Basic Facts Card answers are ticked already",
        },
        ...[0, 1, 2, 4].map(tickRow),
        {
            trigger: ".modal .o_form_button_save",
            content: "save the ticks",
            run: "click",
        },
        {
            trigger: `body:not(:has(.modal)) ${card} .o_sales_funnel_checklist:contains('8/8')`,
            content: "the card shows the full checklist",
        },
        {
            trigger: `${column("Verification")} ${card}`,
            content: "drag the deal to Development again",
            run: `drag_and_drop (${column("Development")})`,
        },
        {
            trigger: `body:not(:has(.modal)) ${column("Development")} ${card}`,
            content: "the deal moved to Development",
        },
    ],
});
