/** @odoo-module **/

import { registry } from "@web/core/registry";

const DEAL = "SF Evidence Deal";
const LOST_DEAL = "SF Lost Deal";
const OBJECTIVE = "Confirm the assembly line layout";
const STEP = "Send the line layout drawing";
// The next step is due in ten days: the opportunity's activity says so.
const DUE = luxon.DateTime.now().plus({ days: 10 }).toFormat("MM/dd/yyyy");
const FACE_TO_FACE = "Met the customer face to face";

function addLine(field) {
    return {
        trigger: `div[name=${field}] .o_field_x2many_list_row_add a`,
        content: `add a line to ${field}`,
        run: "click",
    };
}

function pick(selector, text, content) {
    return [
        {
            trigger: selector,
            content,
            run: `edit ${text}`,
        },
        {
            trigger: `.o-autocomplete--dropdown-menu .dropdown-item:contains('${text}')`,
            content: `choose ${text}`,
            run: "click",
        },
    ];
}

// Started on the opportunity's form (/odoo/crm/<id>, see test_ui_evidence.py).
registry.category("web_tour.tours").add("sales_funnel_evidence_tour", {
    steps: () => [
        // 1. A customer interview report, logged from the opportunity.
        {
            trigger: ".o_form_view .o_form_statusbar button[name=action_log_interview]",
            content: "log an interview report from the opportunity",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=lead_id] input:value('SF Evidence Deal')",
            content: "the report belongs to the opportunity",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=objective] input",
            content: "the objective of the visit",
            run: `edit ${OBJECTIVE}`,
        },
        addLine("participant_ids"),
        ...pick(
            "div[name=participant_ids] .o_data_row .o_field_widget[name=partner_id] input",
            "SF Evidence Chief",
            "a contact of the customer took part"
        ),
        {
            trigger: "div[name=participant_ids] .o_data_row .o_field_widget[name=function] input:value('Chief Engineer')",
            content: "with the job position of the contact",
        },
        addLine("result_ids"),
        {
            trigger: "div[name=result_ids] .o_data_row .o_field_widget[name=name] input",
            content: "what came out of the visit",
            run: "edit Two assembly lines to automate in 2027",
        },
        addLine("step_ids"),
        {
            trigger: "div[name=step_ids] .o_data_row .o_field_widget[name=name] input",
            content: "the next step",
            run: `edit ${STEP}`,
        },
        ...pick(
            "div[name=step_ids] .o_data_row .o_field_widget[name=user_id] input",
            "SF Presales Engineer",
            "its owner"
        ),
        {
            trigger: "div[name=step_ids] .o_data_row .o_field_widget[name=date_deadline] input",
            content: "its date",
            run: `edit ${DUE}`,
        },
        {
            trigger: ".o_form_view .o_form_statusbar button[name=action_submit]",
            content: "submit the report",
            run: "click",
        },
        {
            trigger: ".modal:contains('only a sales manager can reopen it') .modal-footer .btn-primary",
            content: "confirm: a submitted report is kept as it is",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Submitted')",
            content: "the report is submitted",
        },
        // 2. Back on the opportunity: the criterion is ticked, the step planned.
        {
            trigger: `.o_breadcrumb .breadcrumb-item a:contains('${DEAL}')`,
            content: "back to the opportunity",
            run: "click",
        },
        {
            trigger: `.o-mail-Message:contains('Customer interview report submitted'):contains('${OBJECTIVE}')`,
            content: "the opportunity's chatter links the report",
        },
        {
            trigger: ".o_form_view .o_notebook a[name=exit_criteria]",
            content: "open the checklist",
            run: "click",
        },
        {
            trigger: `div[name=current_criterion_ids] .o_data_row:contains('${FACE_TO_FACE}') .o_field_boolean_toggle input:checked`,
            content: "the interview report ticked the face-to-face meeting",
        },
        {
            trigger: `div[name=current_criterion_ids] .o_data_row:contains('${FACE_TO_FACE}') td[name=evidence_ref]:contains('${OBJECTIVE}')`,
            content: "the checklist links the report as the evidence",
        },
        {
            trigger: `.o-mail-Activity:contains('${STEP}'):contains('Due in 10 days'):contains('SF Presales Engineer')`,
            content: "the next step is planned for its owner on its date",
        },
        // 3. Another deal is lost: the Lost wizard asks for the loss report.
        {
            trigger: ".o_breadcrumb .breadcrumb-item a:contains('Pipeline')",
            content: "back to the pipeline",
            run: "click",
        },
        {
            trigger: `.o_kanban_record:contains('${LOST_DEAL}')`,
            content: "open the deal to lose",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_form_statusbar .o_statusbar_buttons button:contains('Lost')",
            content: "mark it lost",
            run: "click",
        },
        {
            trigger: ".modal .alert:contains('Loss report')",
            content: "the Lost wizard asks for the loss report",
        },
        ...pick(
            ".modal .o_field_widget[name=lost_reason_id] input",
            "Lost to a competitor",
            "the loss reason"
        ),
        {
            trigger: ".modal .modal-footer button[name=action_lost_reason_apply]",
            content: "try to mark it lost without the report",
            run: "click",
        },
        {
            trigger: `.o_notification:contains("Customer's Reason"):contains('Our Analysis'):contains('How to Avoid It'):contains('Winning Competitor')`,
            content: "refused: the message names what is missing",
        },
        {
            trigger: ".modal .o_field_widget[name=customer_reason] textarea",
            content: "the reason the customer gave",
            run: "edit The rival offered a shorter delivery time.",
        },
        {
            trigger: ".modal .o_field_widget[name=analysis] textarea",
            content: "our own analysis",
            run: "edit We met the decision maker too late.",
        },
        {
            trigger: ".modal .o_field_widget[name=prevention] textarea",
            content: "how to avoid it",
            run: "edit Meet the decision maker in Verification.",
        },
        ...pick(
            ".modal .o_field_widget[name=competitor_id] input",
            "SF Rival Automation",
            "the competitor who won"
        ),
        {
            trigger: ".modal .o_field_widget[name=competitor_price] input",
            content: "their price",
            run: "edit 95000",
        },
        {
            trigger: ".modal .modal-footer button[name=action_lost_reason_apply]",
            content: "mark it lost with its report",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal)) .o_form_view .ribbon:contains('Lost')",
            content: "the deal is lost",
        },
    ],
});
