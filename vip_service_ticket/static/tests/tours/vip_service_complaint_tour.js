/** @odoo-module **/

import { registry } from "@web/core/registry";

// The assignee of a new complaint records the verification, then names the responsibility.
registry.category("web_tour.tours").add("vip_service_complaint_steps_tour", {
    steps: () => [
        {
            content: "The complaint is at its intake, shown in the header",
            trigger: '.o_form_view div[name="complaint_step"] .o_arrow_button_current:contains("Intake")',
        },
        {
            content: "Only the next step's button is offered",
            trigger: '.o_form_view .o_statusbar_buttons:not(:has(button[name="action_complaint_record_result"]))',
        },
        {
            content: "Verify",
            trigger: '.o_form_view .o_statusbar_buttons button[name="action_complaint_verify"]',
            run: "click",
        },
        {
            content: "The dialog has a title",
            trigger: '.modal .modal-title:contains("Record the Verification")',
        },
        {
            content: "Say what was found",
            trigger: '.modal div[name="findings"] textarea',
            run: "edit The sleeves are 2 cm short.",
        },
        {
            content: "Confirm",
            trigger: '.modal .modal-footer button:contains("Confirm")',
            run: "click",
        },
        {
            content: "The header shows the new step",
            trigger: '.o_form_view div[name="complaint_step"] .o_arrow_button_current:contains("Verification")',
        },
        {
            content: "Assign the responsibility",
            trigger: '.o_form_view .o_statusbar_buttons button[name="action_complaint_assign_responsibility"]',
            run: "click",
        },
        {
            content: "Pick it from the list managers keep",
            trigger: '.modal div[name="responsibility_id"] input',
            run: "edit Tour Tailoring",
        },
        {
            content: "Select it",
            trigger: '.o-autocomplete--dropdown-item:contains("Tour Tailoring")',
            run: "click",
        },
        {
            content: "Confirm",
            trigger: '.modal .modal-footer button:contains("Confirm")',
            run: "click",
        },
        {
            content: "The next step is the solution",
            trigger: '.o_form_view .o_statusbar_buttons button[name="action_complaint_record_solution"]',
        },
        {
            content: "The chatter has one line per step",
            trigger: '.o-mail-Message:contains("Responsibility assigned")',
        },
    ],
});

// A progress update from its own titled dialog reaches the customer.
registry.category("web_tour.tours").add("vip_service_complaint_progress_tour", {
    steps: () => [
        {
            content: "Send a progress update",
            trigger: '.o_form_view .o_statusbar_buttons button[name="action_send_progress_update"]',
            run: "click",
        },
        {
            content: "The dialog is titled, not 'Odoo'",
            trigger: '.modal .modal-title:contains("Send Progress Update")',
        },
        {
            content: "It goes to the customer",
            trigger: '.modal div[name="partner_id"]:contains("Mr. Tour")',
        },
        {
            content: "Write the update",
            trigger: '.modal div[name="progress_note"] textarea',
            run: "edit The new suit is ready for fitting on Friday.",
        },
        {
            content: "Send",
            trigger: '.modal .modal-footer button:contains("Send")',
            run: "click",
        },
        {
            content: "The step moved on",
            trigger: '.o_form_view div[name="complaint_step"] .o_arrow_button_current:contains("Progress Updates")',
        },
        {
            content: "The update is in the chatter",
            trigger: '.o-mail-Message:contains("ready for fitting on Friday")',
        },
    ],
});
