/** @odoo-module **/

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("vip_survey_detractor_tour", {
    steps: () => [
        {
            content: "Start the survey",
            trigger: 'button.btn:contains("Start")',
            run: "click",
        },
        {
            content: "Give a detractor score (3/10)",
            trigger: 'div.js_question-wrapper:contains("recommend") label:contains("3")',
            run: "click",
        },
        {
            content: "Low satisfaction (2/5)",
            trigger: 'div.js_question-wrapper:contains("satisfied") label:contains("2")',
            run: "click",
        },
        {
            content: "Say why",
            trigger: 'div.js_question-wrapper:contains("Anything to add") textarea',
            run: "edit Too slow",
        },
        {
            content: "Submit",
            trigger: 'button[value="finish"]',
            run: "click",
        },
        {
            content: "Thank you page",
            trigger: 'h1:contains("Thank you")',
        },
    ],
});
