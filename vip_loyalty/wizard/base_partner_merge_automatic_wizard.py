from odoo import api, models


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    @api.model
    def _update_foreign_keys(self, src_partners, dst_partner):
        """A customer has one points account per company. Where the merged contacts
        hold several in one company, the generic merge cannot move them all to the
        customer kept (unique) nor delete the extra ones (their ledger): it failed.
        The accounts of a company are joined first by the ledger's writer, none of
        their points lost."""
        self.env["vip.loyalty.engine"]._join_accounts(src_partners, dst_partner)
        return super()._update_foreign_keys(src_partners, dst_partner)
