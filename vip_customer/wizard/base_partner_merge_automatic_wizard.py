from odoo import api, models

from ..models.res_partner import TierChangeOrigin


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    @api.model
    def _update_values(self, src_partners, dst_partner):
        """The generic merge copies every field of the merged contacts onto the
        one kept, as the merging user; the tier outcome and the engine's metrics
        are refused to anyone but VIP managers, so it skips them. Instead the
        customer kept joins the VIP program of the merged ones, keeps its own
        tier, and the tier engine re-evaluates it on the invoices the merge moved
        to it. A tier a manager locked on a merged contact is carried over only
        when a VIP manager merges."""
        self._vip_merge_program(src_partners, dst_partner)
        result = super()._update_values(
            src_partners, dst_partner.with_context(vip_customer_merge=True)
        )
        self.env["vip.tier.engine"]._recompute_partners(dst_partner.commercial_partner_id)
        return result

    @api.model
    def _vip_merge_program(self, src_partners, dst_partner):
        """Before the generic merge: the program company and a manager's lock."""
        if dst_partner.parent_id:
            return  # a contact shows its company's tier
        # sudo: the program and lock fields of the merged contacts are VIP users' to read
        sources = src_partners.sudo().filtered(lambda p: not p.parent_id)
        dst = dst_partner.sudo()
        if not dst.vip_company_id and sources.vip_company_id:
            # sudo: the invoices the merge moves are evaluated in this program; the
            # server sets it, whoever merges (the engine re-evaluates the tier next)
            dst.write({"vip_company_id": sources.vip_company_id[0].id})
        locked = sources.filtered("vip_locked")[:1]
        if (
            locked
            and not dst.vip_locked
            and self.env.user.has_group("vip_customer.group_vip_manager")
        ):
            # as the manager: the tier change is logged as theirs, like any by hand
            dst_partner.with_context(
                vip_tier_origin=TierChangeOrigin("manual", locked.vip_lock_reason)
            ).write(
                {
                    "vip_tier_id": locked.vip_tier_id.id,
                    "vip_locked": True,
                    "vip_lock_reason": locked.vip_lock_reason,
                    "vip_lock_until": locked.vip_lock_until,
                }
            )
