/** @odoo-module **/

import { registry } from "@web/core/registry";

// The records are made by tests/test_ui_selfcheck.py.
const SALESPERSON = "SF Selfcheck Salesperson";
const DEAL = "SF Selfcheck Deal";
const NOTE = "Budget confirmed by phone; the visit is booked for Tuesday.";
const PLAN = "Visit the plant manager and send the revised quotation.";
const COMMENT = "Bring the solutions engineer to the visit.";
const GUIDANCE = "Qualify the budget before writing the solution.";
const ACTION = "Send the site survey report to the customer";

function tab(name, content) {
    return {
        trigger: `.o_form_view .o_notebook a[name=${name}]`,
        content,
        run: "click",
    };
}

// 1. The salesperson opens their weekly self-check, notes the flagged deal,
// writes the plan for next week and submits.
registry.category("web_tour.tours").add("sales_funnel_selfcheck_tour", {
    steps: () => [
        {
            trigger: `.o_list_view .o_data_row:contains('${SALESPERSON}') td[name=week_start]`,
            content: "open my self-check of this week",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('To Submit')",
            content: "it is still to submit",
        },
        tab("deals", "the deals the job flagged"),
        {
            trigger: `div[name=deal_line_ids] .o_data_row:contains('${DEAL}') td[name=reason]:contains('required criteria not ticked')`,
            content: "the deal is flagged: required criteria of its stage not ticked",
        },
        {
            trigger: `div[name=deal_line_ids] .o_data_row:contains('${DEAL}') td[name=note]`,
            content: "check the deal",
            run: "click",
        },
        {
            trigger: "div[name=deal_line_ids] .o_selected_row .o_field_widget[name=note] textarea",
            content: "what I found and will do",
            run: `edit ${NOTE}`,
        },
        tab("plan", "my plan for next week"),
        {
            trigger: "div[name=plan] .odoo-editor-editable",
            content: "write the plan",
            run: `editor ${PLAN}`,
        },
        {
            trigger: ".o_form_view .o_form_statusbar button[name=action_submit]",
            content: "submit the self-check",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Submitted')",
            content: "the self-check is submitted",
        },
    ],
});

// 2. The team leader holds the one-to-one review: comments the deal, gives
// guidance, agrees an action and signs off.
registry.category("web_tour.tours").add("sales_funnel_selfcheck_review_tour", {
    steps: () => [
        {
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Submitted')",
            content: "the salesperson's submitted self-check",
        },
        tab("deals", "the deals the salesperson checked"),
        {
            trigger: `div[name=deal_line_ids] .o_data_row:contains('${DEAL}'):contains('${NOTE}') td[name=manager_comment]`,
            content: "comment the salesperson's check of the deal",
            run: "click",
        },
        {
            trigger: "div[name=deal_line_ids] .o_selected_row .o_field_widget[name=manager_comment] textarea",
            content: "the manager's comment",
            run: `edit ${COMMENT}`,
        },
        tab("plan", "read the plan"),
        {
            trigger: `div[name=plan]:contains('${PLAN}')`,
            content: "the plan of the salesperson",
        },
        tab("review", "the one-to-one review"),
        {
            trigger: "div[name=guidance] .odoo-editor-editable",
            content: "guidance and advice",
            run: `editor ${GUIDANCE}`,
        },
        {
            trigger: "div[name=action_ids] .o_field_x2many_list_row_add a",
            content: "agree an action",
            run: "click",
        },
        {
            trigger: "div[name=action_ids] .o_selected_row .o_field_widget[name=name] input",
            content: "what the salesperson will do",
            run: `edit ${ACTION}`,
        },
        {
            trigger: `div[name=action_ids] .o_selected_row .o_field_widget[name=user_id] input:value('${SALESPERSON}')`,
            content: "for the salesperson",
        },
        {
            trigger: ".o_form_view .o_form_statusbar button[name=action_sign_off]",
            content: "sign off the review",
            run: "click",
        },
        {
            trigger: ".modal:contains('Signed off, the review is kept as it is') .modal-footer .btn-primary",
            content: "confirm: signed, it is kept as it is",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal)) .o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Reviewed')",
            content: "the review is signed off",
        },
    ],
});

// 3. The salesperson reads the review: the comment, the guidance, the action.
registry.category("web_tour.tours").add("sales_funnel_selfcheck_read_tour", {
    steps: () => [
        {
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Reviewed')",
            content: "my self-check was reviewed",
        },
        {
            trigger: ".o-mail-Message:contains('One-to-one review signed off by')",
            content: "the chatter says who signed it off",
        },
        tab("deals", "the deals"),
        {
            trigger: `div[name=deal_line_ids] .o_data_row:contains('${DEAL}') td[name=manager_comment]:contains('${COMMENT}')`,
            content: "I see my manager's comment on the deal",
        },
        tab("review", "the review"),
        {
            trigger: `div[name=guidance]:contains('${GUIDANCE}')`,
            content: "I see the guidance",
        },
        {
            trigger: `div[name=action_ids] .o_data_row:contains('${ACTION}')`,
            content: "and the action we agreed",
        },
    ],
});
