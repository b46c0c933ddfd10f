/** @odoo-module **/

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("vip_customer_change_tier_tour", {
    steps: () => [
        {
            content: "Open the VIP page of the customer",
            trigger: '.o_notebook .nav-link:contains("VIP")',
            run: "click",
        },
        {
            content: "The profile shows the metrics",
            trigger: '.o_notebook div[name="vip_spend"]',
        },
        {
            content: "Change the tier by hand",
            trigger: 'button[name="action_vip_change_tier"]',
            run: "click",
        },
        {
            content: "Pick the tier",
            trigger: '.modal div[name="tier_id"] input',
            run: "edit Diamond Circle",
        },
        {
            content: "Select it",
            trigger: '.o-autocomplete--dropdown-item:contains("Diamond Circle")',
            run: "click",
        },
        {
            content: "Say why",
            trigger: '.modal div[name="reason"] input',
            run: "edit Strategic account",
        },
        {
            content: "Apply",
            trigger: '.modal button[name="action_apply"]',
            run: "click",
        },
        {
            content: "The badge shows the new tier",
            trigger: '.o_form_view .oe_title div[name="vip_tier_id"]:contains("Diamond Circle")',
        },
        {
            content: "The lock icon shows",
            trigger: '.o_form_view .oe_title .fa-lock',
        },
    ],
});
