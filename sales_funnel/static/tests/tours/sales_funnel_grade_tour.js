/** @odoo-module **/

import { registry } from "@web/core/registry";

// A manager edits the grade matrix: a judgement too far from the others is
// refused with the comparison to fix; a consistent one shows its CR and
// regrades the deals.
const CELL = ".o_field_x2many_2d_matrix tbody tr:nth-child(1) td:nth-child(3) select";

registry.category("web_tour.tours").add("sales_funnel_grade_tour", {
    steps: () => [
        {
            trigger: ".o_form_view .o_field_widget[name='consistency_ratio']:contains('0.000')",
            content: "the shipped matrix is perfectly consistent",
        },
        {
            trigger: ".o_field_x2many_2d_matrix thead:contains('Urgency')",
            content: "the indicators compared two by two",
        },
        {
            trigger: CELL,
            content: "Predicted Revenue against Urgency: 1/9 (far from the rest)",
            run: 'select "1/9"',
        },
        {
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            trigger: ".modal:contains('not consistent enough'):contains('Predicted Revenue against Urgency')",
            content: "refused: the message names the comparison to fix",
        },
        {
            trigger: ".modal .modal-footer .btn-primary",
            run: "click",
        },
        {
            trigger: ".o_form_button_cancel",
            content: "discard the refused judgement",
            run: "click",
        },
        {
            trigger: CELL,
            content: "Predicted Revenue moderately more important than Urgency",
            run: 'select "3"',
        },
        {
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            trigger: ".o_form_saved .o_field_widget[name='consistency_ratio']:not(:contains('0.000'))",
            content: "the new consistency ratio, still under 0.10",
        },
        {
            trigger: ".o_field_x2many_2d_matrix tbody tr:nth-child(2) td:nth-child(2):contains('1/3')",
            content: "the reciprocal is kept below the diagonal",
        },
        {
            trigger: "button[name='action_regrade']",
            content: "regrade the open deals",
            run: "click",
        },
        {
            trigger: ".o_form_saved",
        },
    ],
});

// A salesperson sees why the deal has its grade and scores its urgency.
registry.category("web_tour.tours").add("sales_funnel_grade_score_tour", {
    steps: () => [
        {
            trigger: ".o_form_view .o_notebook a[name='grade']",
            content: "the Grade tab of the deal",
            run: "click",
        },
        {
            trigger: ".o_field_one2many[name='grade_score_ids'] .o_data_row:contains('Predicted Revenue')",
            content: "each indicator's score and weight",
        },
        {
            trigger: ".o_field_one2many[name='grade_score_ids'] .o_data_row:contains('Urgency') td[name='entered_score']",
            content: "score the urgency",
            run: "click",
        },
        {
            trigger: ".o_field_one2many[name='grade_score_ids'] .o_data_row:contains('Urgency') td[name='entered_score'] select",
            run: 'select "5"',
        },
        {
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            trigger: ".o_form_saved .o_field_one2many[name='grade_score_ids'] .o_data_row:contains('Urgency') td[name='score']:contains('5')",
            content: "the deal is regraded with the salesperson's score",
        },
    ],
});
