from odoo import api, models
from odoo.exceptions import UserError


class VipTier(models.Model):
    _inherit = "vip.tier"

    @api.ondelete(at_uninstall=False)
    def _unlink_except_campaign_target(self):
        """A tier a running campaign targets is not deleted (archive it: the
        campaign keeps inviting its customers); the database would drop it from
        the campaign's targets and leave the campaign without its tier condition."""
        # sudo: whoever may delete tiers learns which campaign holds them, not its content
        campaign = self.env["vip.survey.campaign"].sudo().with_context(active_test=False).search(
            [("state", "=", "running"), ("tier_ids", "in", self.ids)], limit=1
        )
        if campaign:
            tier = (campaign.tier_ids & self)[:1]
            raise UserError(self.env._(
                "Tier %(tier)s is a target of the running survey campaign %(campaign)s: "
                "archive the tier instead, or change the campaign's targets first.",
                tier=tier.display_name, campaign=campaign.display_name,
            ))
