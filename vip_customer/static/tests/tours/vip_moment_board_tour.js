/** @odoo-module **/

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("vip_moment_board_tour", {
    steps: () => [
        {
            content: "Open the apps menu",
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            content: "Open the VIP app",
            trigger: '.o_app[data-menu-xmlid="vip_customer.vip_menu_root"]',
            run: "click",
        },
        {
            content: "Open the Customers menu",
            trigger: '.o_menu_sections button:contains("Customers")',
            run: "click",
        },
        {
            content: "Open Key Moments",
            trigger: '.dropdown-item[data-menu-xmlid="vip_customer.vip_moment_occurrence_menu"]',
            run: "click",
        },
        {
            content: "The board shows the statuses as columns",
            trigger: '.o_kanban_group .o_column_title:contains("Not yet due")',
        },
        {
            content: "Record the contact of the customer's moment",
            trigger:
                '.o_kanban_record:contains("Tour Moment Customer") button[name="action_record_visit"]',
            run: "click",
        },
        {
            content: "Write what the customer said",
            trigger: '.modal div[name="feedback"] textarea',
            run: "edit Happy with the new range",
        },
        {
            content: "Record",
            trigger: '.modal button[name="action_record"]',
            run: "click",
        },
        {
            content: "The moment is processed",
            trigger:
                '.o_kanban_group:contains("Processed") .o_kanban_record:contains("Tour Moment Customer")',
        },
    ],
});
