from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    vip_window_months = fields.Integer(related="company_id.vip_window_months", readonly=False)
    vip_spend_basis = fields.Selection(related="company_id.vip_spend_basis", readonly=False)
    vip_churn_medium_threshold = fields.Integer(
        related="company_id.vip_churn_medium_threshold", readonly=False
    )
    vip_churn_high_threshold = fields.Integer(
        related="company_id.vip_churn_high_threshold", readonly=False
    )
    vip_followup_lead_days = fields.Integer(
        related="company_id.vip_followup_lead_days", readonly=False
    )
