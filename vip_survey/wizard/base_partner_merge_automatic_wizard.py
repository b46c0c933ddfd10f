from odoo import models

from ..models.res_partner import DERIVED_FIELDS


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    def _update_values(self, src_partners, dst_partner):
        """The customer kept inherits the latest NPS and satisfaction of the merged
        ones. These fields are the server's to write: the generic merge, which copies
        every field as the merging user, would be refused, so it skips them."""
        # sudo: the merging user may not read the survey analytics they carry over
        candidates = (src_partners | dst_partner).sudo().filtered("vip_nps_date")
        if candidates:
            latest = max(candidates, key=lambda p: (p.vip_nps_date, p.id == dst_partner.id))
            if latest.id != dst_partner.id:
                dst_partner.sudo().write({fname: latest[fname] for fname in DERIVED_FIELDS})
        return super()._update_values(src_partners, dst_partner.with_context(vip_survey_merge=True))
