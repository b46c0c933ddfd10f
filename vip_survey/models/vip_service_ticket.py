from odoo import fields, models


class VipServiceTicket(models.Model):
    _inherit = "vip.service.ticket"

    vip_survey_answer_id = fields.Many2one(
        "survey.user_input",
        string="Detractor Answer",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        copy=False,
        help="Survey answer whose detractor score opened this recovery ticket.",
    )
    vip_survey_campaign_id = fields.Many2one(
        related="vip_survey_answer_id.vip_campaign_id",
        string="Satisfaction Campaign",
        store=True,
        index="btree_not_null",
    )
    vip_survey_nps_score = fields.Integer(
        related="vip_survey_answer_id.vip_nps_score", string="NPS Answer"
    )
    vip_followup_answer_ids = fields.One2many(
        "survey.user_input", "vip_followup_ticket_id", string="Follow-up Surveys"
    )

    _sql_constraints = [
        (
            "vip_survey_answer_uniq",
            "unique(vip_survey_answer_id)",
            "A detractor answer opens one recovery ticket only.",
        ),
    ]

    def _on_close(self, now):
        result = super()._on_close(now)
        self._vip_send_followup_surveys()
        return result

    def _vip_send_followup_surveys(self):
        """After a recovery ticket closes, ask the customer again (campaign option)."""
        # sudo: the agent who closes the ticket need not be a survey officer
        tickets = self.sudo().filtered(
            lambda t: (
                t.vip_survey_campaign_id.followup_survey_id
                and t.partner_id.email
                and not t.vip_followup_answer_ids
            )
        )
        for ticket in tickets:
            campaign = ticket.vip_survey_campaign_id
            answer = campaign.followup_survey_id._create_answer(
                partner=ticket.partner_id,
                check_attempts=False,
                vip_followup_ticket_id=ticket.id,
            )
            if campaign.mail_template_id:
                campaign.mail_template_id.send_mail(
                    answer.id, email_layout_xmlid="mail.mail_notification_light"
                )
            ticket.message_post(
                body=self.env._(
                    "Follow-up survey %(survey)s sent to %(customer)s.",
                    survey=campaign.followup_survey_id.display_name,
                    customer=ticket.partner_id.display_name,
                ),
                subtype_xmlid="mail.mt_note",
            )
