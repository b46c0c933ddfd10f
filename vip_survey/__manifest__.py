{
    "name": "VIP Satisfaction Surveys",
    "summary": "Satisfaction and NPS campaigns on Odoo surveys, with detractor recovery tickets",
    "version": "18.0.1.1.0",
    "category": "Marketing/Surveys",
    "website": "https://github.com/vip-suite/vip-suite",
    "author": "VIP Suite Authors",
    "maintainers": ["vip-suite"],
    "license": "LGPL-3",
    "depends": ["vip_customer", "vip_service_ticket", "survey"],
    "data": [
        "security/vip_survey_security.xml",
        "security/ir.model.access.csv",
        "data/mail_activity_type_data.xml",
        "data/ir_cron_data.xml",
        "data/vip_moment_rule_data.xml",
        "views/vip_survey_campaign_views.xml",
        "views/survey_user_input_views.xml",
        "views/vip_service_ticket_views.xml",
        "views/res_partner_views.xml",
        "report/vip_satisfaction_report_views.xml",
        "views/vip_survey_menus.xml",
    ],
    "demo": [
        "demo/survey_demo.xml",
        "demo/vip_survey_campaign_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "vip_survey/static/tests/tours/*.js",
        ],
    },
    "uninstall_hook": "uninstall_hook",
}
