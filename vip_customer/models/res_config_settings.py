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
    vip_target_retention = fields.Float(
        related="company_id.vip_target_retention", readonly=False
    )
    vip_target_renewal = fields.Float(related="company_id.vip_target_renewal", readonly=False)
    vip_target_repeat = fields.Float(related="company_id.vip_target_repeat", readonly=False)
    vip_target_satisfaction = fields.Float(
        related="company_id.vip_target_satisfaction", readonly=False
    )
    vip_target_nps = fields.Float(related="company_id.vip_target_nps", readonly=False)
    vip_kpi_retention_tier_id = fields.Many2one(
        related="company_id.vip_kpi_retention_tier_id", readonly=False
    )
    vip_score_weight_retention = fields.Integer(
        related="company_id.vip_score_weight_retention", readonly=False
    )
    vip_score_weight_renewal = fields.Integer(
        related="company_id.vip_score_weight_renewal", readonly=False
    )
    vip_score_weight_satisfaction = fields.Integer(
        related="company_id.vip_score_weight_satisfaction", readonly=False
    )
    vip_score_weight_followup = fields.Integer(
        related="company_id.vip_score_weight_followup", readonly=False
    )
    vip_score_weight_sla = fields.Integer(related="company_id.vip_score_weight_sla", readonly=False)
    vip_score_weight_growth = fields.Integer(
        related="company_id.vip_score_weight_growth", readonly=False
    )
