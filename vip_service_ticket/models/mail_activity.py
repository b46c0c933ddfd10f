from odoo import models
from odoo.exceptions import UserError


class MailActivity(models.Model):
    _inherit = "mail.activity"

    def _action_done(self, feedback=False, attachment_ids=None):
        """Marking a complaint's follow-up visit done records its outcome (the feedback)
        and moves the complaint loop to the follow-up step."""
        visit_type = self.env["vip.service.ticket"]._get_complaint_visit_type()
        visits = self.filtered(
            lambda a: (
                visit_type
                and a.activity_type_id == visit_type
                and a.res_model == "vip.service.ticket"
            )
        )
        ticket_ids = visits.mapped("res_id")
        if visits and not (feedback or "").strip():
            raise UserError(
                self.env._(
                    "Write the outcome of the follow-up visit in the feedback before marking "
                    "it done (%(visit)s).",
                    visit=visits[0].summary or visits[0].activity_type_id.name,
                )
            )
        result = super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
        if ticket_ids:
            # sudo: the visitor (often the account manager) may not write the ticket; the
            # activity they were assigned is what lets them record the outcome
            self.env["vip.service.ticket"].sudo().browse(ticket_ids)._complaint_visit_done(feedback)
        return result
