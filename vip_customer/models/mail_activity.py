from odoo import fields, models


class MailActivity(models.Model):
    _inherit = "mail.activity"

    def _action_done(self, feedback=False, attachment_ids=None):
        """Marking a VIP follow-up done records the follow-up on the customer,
        which moves their next follow-up by the tier's cadence."""
        followup_type = self.env.ref(
            "vip_customer.mail_activity_type_vip_followup", raise_if_not_found=False
        )
        followups = self.filtered(
            lambda a: a.activity_type_id == followup_type and a.res_model == "res.partner"
        )
        # read before super(): done activities are unlinked (or archived)
        partner_ids = followups.mapped("res_id")
        result = super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
        # sudo only to reach the commercial partner of a contact the user may not read
        partners = (
            self.env["res.partner"]
            .sudo()
            .browse(partner_ids)
            .exists()
            .commercial_partner_id.sudo(False)
        )
        if partners:
            # sudo: Odoo lets assignees mark done activities on records they
            # cannot edit (see mail.activity._action_done), and the follow-up
            # plan is a VIP users' field; the date of this follow-up must be
            # recorded all the same, and is the only field written here.
            partners.sudo().write({"vip_last_followup_date": fields.Date.context_today(self)})
        return result
