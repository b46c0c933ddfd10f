from odoo import api, fields, models
from odoo.exceptions import AccessError

from .vip_survey_campaign import reader_lang

# Set by the survey completion hook (as superuser) or related to what it sets.
SURVEY_FIELDS = {
    "vip_survey_answer_id",
    "vip_survey_campaign_id",
    "vip_survey_nps_score",
    "vip_followup_answer_ids",
}


class VipServiceTicket(models.Model):
    _inherit = "vip.service.ticket"

    # internal: the customer reads their tickets on the portal, not their scores
    vip_survey_answer_id = fields.Many2one(
        "survey.user_input",
        string="Detractor Answer",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        copy=False,
        groups="base.group_user",
        help="Survey answer whose detractor score opened this recovery ticket.",
    )
    vip_survey_campaign_id = fields.Many2one(
        related="vip_survey_answer_id.vip_campaign_id",
        string="Satisfaction Campaign",
        store=True,
        index="btree_not_null",
        groups="base.group_user",
    )
    vip_survey_nps_score = fields.Integer(
        related="vip_survey_answer_id.vip_nps_score",
        string="NPS Answer",
        groups="base.group_user",
    )
    vip_followup_answer_ids = fields.One2many(
        "survey.user_input",
        "vip_followup_ticket_id",
        string="Follow-up Surveys",
        groups="base.group_user",
    )

    _sql_constraints = [
        (
            "vip_survey_answer_uniq",
            "unique(vip_survey_answer_id)",
            "A detractor answer opens one recovery ticket only.",
        ),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        if any(SURVEY_FIELDS & vals.keys() for vals in vals_list):
            self._vip_check_recovery_link()
        return super().create(vals_list)

    def write(self, vals):
        if SURVEY_FIELDS & vals.keys():
            self._vip_check_recovery_link()
        return super().write(vals)

    def _vip_check_recovery_link(self):
        """The link to the detractor answer is set by the survey completion hook only
        (as superuser): a ticket linked by hand would pass for a recovery, and the
        related campaign or score written through the ticket would rewrite the answer."""
        if not self.env.su:
            raise AccessError(
                self.env._(
                    "The detractor answer of a recovery ticket is set when the customer's "
                    "answer is completed; it cannot be written."
                )
            )

    def _on_close(self, now):
        result = super()._on_close(now)
        self._vip_send_followup_surveys()
        return result

    def _complaint_visit_done(self, outcome):
        """A follow-up survey answered satisfied before the visit confirms after it,
        as a satisfied rating does."""
        tickets = super()._complaint_visit_done(outcome)
        # sudo: the visitor need not read survey answers
        tickets.sudo().vip_followup_answer_ids._vip_confirm_complaints()
        return tickets

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
            # a note for the staff, in the language of the ticket's assignee
            staff_env = self.with_context(
                lang=reader_lang(self.env, ticket.user_id, ticket.company_id)
            ).env
            ticket.message_post(
                body=staff_env._(
                    "Follow-up survey %(survey)s sent to %(customer)s.",
                    survey=campaign.followup_survey_id.with_context(
                        lang=staff_env.lang
                    ).display_name,
                    customer=ticket.partner_id.display_name,
                ),
                subtype_xmlid="mail.mt_note",
            )
