from odoo import api, fields, models
from odoo.exceptions import UserError


class VipLoyaltyMoveAllocation(models.Model):
    """Which lot a move took points from (or gave them back to).

    Positive points: the move consumed them from the lot; negative: the move
    gave them back (a cancelled redemption returns its points to the lots they
    came from). A lot's remaining points are its points minus the sum of its
    allocations.
    """

    _name = "vip.loyalty.move.allocation"
    _description = "VIP Points Allocation"
    _order = "id"
    _log_access = False

    move_id = fields.Many2one(
        "vip.loyalty.move", required=True, index=True, ondelete="cascade", readonly=True
    )
    lot_id = fields.Many2one(
        "vip.loyalty.move", required=True, index=True, ondelete="cascade", readonly=True
    )
    points = fields.Integer(required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    lot_date = fields.Date(related="lot_id.date", string="Earned On")
    lot_expiry_date = fields.Date(related="lot_id.expiry_date", string="Lot Expires On")

    @api.model_create_multi
    def create(self, vals_list):
        """Refused to everyone but the ledger's entry point (``vip.loyalty.engine``); the
        access rights refuse the rest (no group may create allocations)."""
        self.check_access("create")  # users: the access rights refuse (AccessError)
        if not self.env.context.get("vip_loyalty_engine"):
            raise UserError(self.env._(
                "Points allocations are recorded by the points engine only."
            ))
        return super().create(vals_list)
