# Copyright 2026 sales_funnel contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
{
    "name": "Sales Funnel",
    "summary": "Gated four-stage B2B sales funnel: exit criteria, win rates, "
    "stage history and manager overrides on top of Odoo CRM",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "license": "AGPL-3",
    "author": "sales_funnel contributors",
    "website": "https://github.com/sales-funnel/sales_funnel",
    "depends": ["crm", "sale_crm", "sale_management", "contract"],
    "data": [
        "security/sales_funnel_security.xml",
        "security/ir.model.access.csv",
        "data/crm_stage_data.xml",
        "data/crm_stage_criterion_data.xml",
        "data/ir_cron_data.xml",
        "wizards/crm_stage_gate_override_wizard_views.xml",
        "views/crm_stage_views.xml",
        "views/crm_stage_criterion_views.xml",
        "views/crm_lead_criterion_views.xml",
        "views/crm_lead_stage_history_views.xml",
        "views/crm_stage_gate_override_views.xml",
        "views/crm_lead_views.xml",
        "views/res_config_settings_views.xml",
        "report/crm_lead_funnel_report.xml",
        "views/sales_funnel_menus.xml",
        "wizards/crm_funnel_pipeline_wizard_views.xml",
        "wizards/crm_funnel_health_wizard_views.xml",
        "views/crm_stage_win_rate_log_views.xml",
        "report/crm_funnel_forecast_report_views.xml",
        "report/crm_funnel_stage_report_views.xml",
        "report/crm_funnel_pipeline_report_views.xml",
        "views/sales_funnel_analytics_menus.xml",
    ],
    "demo": [
        "demo/sales_funnel_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "sales_funnel/static/tests/tours/*.js",
        ],
    },
    "installable": True,
}
