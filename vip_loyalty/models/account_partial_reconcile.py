from odoo import api, models


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    @api.model_create_multi
    def create(self, vals_list):
        partials = super().create(vals_list)
        partials._vip_loyalty_sync_paid()
        return partials

    def unlink(self):
        moves = (self.debit_move_id | self.credit_move_id).move_id
        result = super().unlink()
        moves.exists()._vip_loyalty_sync_paid_moves()
        return result

    def _vip_loyalty_sync_paid(self):
        (self.debit_move_id | self.credit_move_id).move_id._vip_loyalty_sync_paid_moves()

