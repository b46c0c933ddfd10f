from odoo import api, fields, models


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
    vip_followup_minimum = fields.Boolean(
        related="company_id.vip_followup_minimum", readonly=False
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

    # ------------------------------------------------------------------
    # One write of the company's VIP settings
    # ------------------------------------------------------------------
    @api.model
    def _get_vip_company_fields(self):
        """``{settings field: company field}`` of the VIP settings kept on the
        company. The company checks them together (score weights: at least
        one above 0; churn levels: medium below high), so they are written to
        it in one ``write``: the inverse of each related field would write
        them one by one and refuse a valid change half-way (e.g. the only
        weight moved from retention to growth)."""
        return {
            name: field.related.split(".", 1)[1]
            for name, field in self._fields.items()
            if field.related
            and not field.readonly
            and field.related.startswith("company_id.vip_")
            and field.related.count(".") == 1
        }

    def _pop_vip_company_vals(self, vals):
        """Take the company's VIP settings out of ``vals``: ``{company field: value}``."""
        return {
            fname: vals.pop(name)
            for name, fname in self._get_vip_company_fields().items()
            if name in vals
        }

    @api.model_create_multi
    def create(self, vals_list):
        company_vals_list = [self._pop_vip_company_vals(vals) for vals in vals_list]
        settings = super().create(vals_list)
        for setting, company_vals in zip(settings, company_vals_list, strict=True):
            if company_vals:
                setting.company_id.write(company_vals)
        return settings

    def write(self, vals):
        vals = dict(vals)
        company_vals = self._pop_vip_company_vals(vals)
        res = super().write(vals) if vals else True
        if company_vals:
            self.company_id.write(company_vals)
        return res
