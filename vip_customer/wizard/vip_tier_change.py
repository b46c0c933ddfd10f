from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.res_partner import TierChangeOrigin


class VipTierChange(models.TransientModel):
    """Set a tier by hand, optionally locked against the rules."""

    _name = "vip.tier.change"
    _description = "Change VIP Tier"

    partner_ids = fields.Many2many("res.partner", string="Customers", required=True)
    tier_id = fields.Many2one(
        "vip.tier", string="New Tier", domain="[('company_id', 'in', allowed_company_ids)]"
    )
    lock = fields.Boolean(
        string="Lock Tier",
        default=True,
        help="Locked customers keep this tier whatever the rules say, until the lock ends.",
    )
    lock_until = fields.Date(string="Locked Until")
    reason = fields.Char(required=True)

    @api.constrains("lock_until")
    def _check_lock_until(self):
        today = fields.Date.context_today(self)
        for wizard in self:
            if wizard.lock_until and wizard.lock_until < today:
                raise UserError(self.env._("The lock end date cannot be in the past."))

    def action_apply(self):
        self.ensure_one()
        partners = self.partner_ids.commercial_partner_id
        partners._check_vip_manager()
        origin = TierChangeOrigin("manual", self.reason)
        partners.with_context(vip_tier_origin=origin).write(
            {
                "vip_tier_id": self.tier_id.id,
                "vip_locked": self.lock,
                "vip_lock_reason": self.reason if self.lock else False,
                "vip_lock_until": self.lock_until if self.lock else False,
            }
        )
        return {"type": "ir.actions.act_window_close"}
