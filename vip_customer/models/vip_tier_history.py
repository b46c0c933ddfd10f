from odoo import api, fields, models
from odoo.exceptions import UserError


class VipTierHistory(models.Model):
    """Append-only log of tier changes: one row per change, with the metrics
    that decided it, so a customer's tier can always be explained."""

    _name = "vip.tier.history"
    _description = "VIP Tier Change"
    _order = "date desc, id desc"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(required=True, default=fields.Date.context_today, index=True)
    old_tier_id = fields.Many2one("vip.tier", string="From Tier", ondelete="restrict")
    new_tier_id = fields.Many2one("vip.tier", string="To Tier", ondelete="restrict")
    direction = fields.Selection(
        [
            ("new", "New VIP"),
            ("upgrade", "Upgrade"),
            ("downgrade", "Downgrade"),
            ("removed", "Left VIP"),
        ],
        required=True,
    )
    reason = fields.Selection(
        [("rule", "Tier rules"), ("manual", "Manual"), ("import", "Import")],
        required=True,
        default="manual",
    )
    spend = fields.Monetary(help="Spend over the deciding tier's window when the change was made.")
    purchase_count = fields.Integer(string="Purchases")
    window_months = fields.Integer(string="Window (months)")
    note = fields.Char()
    user_id = fields.Many2one("res.users", default=lambda self: self.env.user, string="By")

    @api.model
    def _direction(self, old_tier, new_tier):
        if not old_tier:
            return "new"
        if not new_tier:
            return "removed"
        return "upgrade" if new_tier.level > old_tier.level else "downgrade"

    def write(self, vals):
        self.check_access("write")  # users have no write access: say so first
        if vals:
            raise UserError(self.env._("Tier history is an audit trail: it cannot be modified."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(self.env._("Tier history is an audit trail: it cannot be deleted."))
