from odoo import api, fields, models
from odoo.exceptions import ValidationError


class VipTier(models.Model):
    _name = "vip.tier"
    _inherit = "vip.tier"

    loyalty_multiplier = fields.Float(
        string="Points Multiplier",
        default=1.0,
        digits=(16, 2),
        help="Points earned by the customers of this tier are multiplied by this factor "
        "(e.g. 1.0 / 1.5 / 2.0). The multiplier in force when points are earned is kept "
        "on each ledger move.",
    )
    benefit_quota_ids = fields.One2many("vip.benefit.quota", "tier_id", string="Benefit Quotas")

    @api.model
    def _get_vip_bounds(self):
        return dict(super()._get_vip_bounds(), loyalty_multiplier=(0, 100))

    @api.constrains("loyalty_multiplier")
    def _check_loyalty_multiplier(self):
        for tier in self:
            if tier.loyalty_multiplier < 0:
                raise ValidationError(
                    self.env._(
                        "Tier %(tier)s: the points multiplier cannot be negative.",
                        tier=tier.display_name,
                    )
                )
