/** @odoo-module **/

import { registry } from "@web/core/registry";

const CARD = '.o_kanban_record:contains("KPI UI Month")';

registry.category("web_tour.tours").add("vip_customer_kpi_manager_tour", {
    steps: () => [
        {
            content: "This year's months show as cards: the test month is one of them",
            trigger: `.o_kanban_view ${CARD}`,
        },
        {
            content: "Ask for the KPIs to be computed again",
            trigger: '.o_control_panel button.o_vip_kpi_recompute',
            run: "click",
        },
        {
            content: "The page says it happens in the background",
            trigger: '.o_notification:contains("background")',
        },
        {
            content: "Retention at 95% against 90% shows green",
            trigger: `${CARD} button.o_vip_kpi_retention.btn-success:contains("95")`,
        },
        {
            content: "Renewal at 50% against 90% shows red",
            trigger: `${CARD} button.o_vip_kpi_renewal.btn-danger:contains("50")`,
        },
        {
            content: "Repeat purchase without data shows grey",
            trigger: `${CARD} button.o_vip_kpi_repeat.btn-light`,
        },
        {
            content: "Open the customers behind the lost VIPs",
            trigger: `${CARD} button.o_vip_kpi_lost:contains("1")`,
            run: "click",
        },
        {
            content: "The customer who left shows, not the one who stayed",
            trigger: '.o_list_view .o_data_row:contains("KPI Other Customer")',
        },
        {
            content: "Only the lost VIP is listed",
            trigger: '.o_list_view:not(:has(.o_data_row:contains("KPI Own Customer")))',
        },
        {
            content: "Back to the periods",
            trigger: '.o_breadcrumb .breadcrumb-item a:contains("Program KPIs")',
            run: "click",
        },
        {
            content: "Open the period",
            trigger: `${CARD} .o_vip_kpi_name`,
            run: "click",
        },
        {
            content: "The form says retention is on target",
            trigger: '.o_form_view .badge.text-bg-success:contains("On target")',
        },
        {
            content: "Every stat button of the period shows: none hidden under More",
            trigger: '.o_form_view .o-form-buttonbox:not(:has(.o_button_more)) .oe_stat_button:contains("VIPs at Start")',
        },
        {
            content: "Drill down from the retention line",
            trigger: ".o_form_view button.o_vip_kpi_open_retention",
            run: "click",
        },
        {
            content: "Both VIPs at the start are in the retention base",
            trigger: '.o_list_view .o_data_row:contains("KPI Own Customer")',
        },
        {
            trigger: '.o_list_view .o_data_row:contains("KPI Other Customer")',
        },
    ],
});

registry.category("web_tour.tours").add("vip_customer_kpi_account_manager_tour", {
    steps: () => [
        {
            content: "The figures open on the pivot",
            trigger: ".o_pivot_view .o_pivot",
        },
        {
            content: "Switch to the list of customers",
            trigger: ".o_switch_view.o_list",
            run: "click",
        },
        {
            content: "My customer shows",
            trigger: '.o_list_view .o_data_row:contains("KPI Own Customer")',
        },
        {
            content: "Another account manager's customer does not",
            trigger: '.o_list_view:not(:has(.o_data_row:contains("KPI Other Customer")))',
        },
    ],
});
