from odoo import api, fields, models


class VipBenefitQuota(models.Model):
    _name = "vip.benefit.quota"
    _inherit = ["vip.bounds.mixin"]
    _description = "VIP Benefit Quota"
    _order = "benefit_id, tier_id"
    _check_company_auto = True

    benefit_id = fields.Many2one("vip.benefit", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="benefit_id.company_id", store=True, index=True)
    tier_id = fields.Many2one(
        "vip.tier", required=True, index=True, ondelete="cascade", check_company=True
    )
    quota = fields.Integer(
        required=True, default=1, help="Times a customer of the tier may use it per period."
    )
    period = fields.Selection(related="benefit_id.period")

    _sql_constraints = [
        ("benefit_tier_uniq", "unique(benefit_id, tier_id)", "One quota per tier and benefit."),
        ("quota_positive", "CHECK(quota > 0)", "A quota must be at least one."),
    ]

    @api.model
    def _get_vip_bounds(self):
        return {"quota": (1, 100_000)}
