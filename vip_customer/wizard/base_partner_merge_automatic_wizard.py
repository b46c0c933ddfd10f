from odoo import api, fields, models

from ..models.res_partner import ENGINE_FIELDS, TierChangeOrigin


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
        self._vip_merge_tier(sources, dst)
        if not dst.vip_company_id and sources.vip_company_id:
            # sudo: the invoices the merge moves are evaluated in this program; the
            # server sets it, whoever merges (the engine re-evaluates the tier next)
            dst.write({"vip_company_id": sources.vip_company_id[0].id})
        locked = sources.filtered("vip_locked")[:1]
        today = fields.Date.context_today(self)
        if (
            locked
            and not dst.vip_locked
            and not (locked.vip_lock_until and locked.vip_lock_until < today)
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

    @api.model
    def _vip_merge_tier(self, sources, dst):
        """The customer kept is the same customer as the merged ones: when one of
        them holds a better tier (of the kept one's program), the kept one takes
        it over with its program data (since, pending downgrade, metrics), as the
        engine keeps them, and their tier history moves with the merge. The
        engine's re-evaluation after the merge then applies the usual retention
        and grace period: a merge never downgrades at once, and whoever merges
        (sudo: the server carries the tier over, nobody picks it)."""
        candidates = sources.filtered(
            lambda p: (
                p.vip_tier_id
                # a manager's lock is carried over by a manager's merge only (below)
                and not p.vip_locked
                and (not dst.vip_company_id or p.vip_tier_id.company_id == dst.vip_company_id)
            )
        )
        if not candidates:
            return
        best = candidates.sorted(
            lambda p: (-p.vip_tier_id.level, p.vip_tier_since or fields.Date.today(), p.id)
        )[0]
        if dst.vip_tier_id and dst.vip_tier_id.level >= best.vip_tier_id.level:
            return
        old_tier = dst.vip_tier_id
        names = {
            "vip_tier_id",
            "vip_tier_since",
            "vip_pending_tier_id",
            "vip_downgrade_date",
            *ENGINE_FIELDS,
        }
        vals = best._convert_to_write({fname: best[fname] for fname in names})
        vals["vip_company_id"] = best.vip_tier_id.company_id.id
        dst.with_context(vip_engine=True).write(vals)
        self.env["vip.tier.engine"]._apply_tier_pricelists(dst, {dst.id: old_tier})
