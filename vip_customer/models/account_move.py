from odoo import models
from odoo.tools.sql import create_index


class AccountMove(models.Model):
    _inherit = "account.move"

    def init(self):
        super().init()
        # commercial_partner_id is stored but not indexed by account: the tier
        # engine's per-customer recompute and purchase aggregates need it.
        create_index(
            self.env.cr,
            "account_move_vip_purchase_index",
            self._table,
            ["commercial_partner_id", "company_id", "invoice_date"],
            where="state = 'posted' AND move_type IN ('out_invoice', 'out_refund')",
        )
