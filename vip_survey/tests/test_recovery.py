from psycopg2 import IntegrityError

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import VipSurveyCommon


@tagged("post_install", "-at_install")
class TestRecovery(VipSurveyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Ticket = cls.env["vip.service.ticket"]
        cls.complaint = cls.env.ref("vip_service_ticket.vip_service_category_complaint")
        cls.solved = cls.env.ref("vip_service_ticket.vip_service_stage_solved")

    def _tickets(self, answer):
        return self.Ticket.with_context(active_test=False).search(
            [("vip_survey_answer_id", "=", answer.id)]
        )

    def test_detractor_opens_one_complaint(self):
        answer = self._answer(self.customer, 4, comment="Late again.")
        ticket = self._tickets(answer)
        self.assertEqual(len(ticket), 1)
        self.assertEqual(ticket.category_id, self.complaint)
        self.assertTrue(ticket.is_complaint)
        self.assertEqual(ticket.user_id, self.account_manager)
        self.assertEqual(ticket.partner_id, self.customer)
        self.assertEqual(ticket.vip_tier_id, self.tier_a)
        self.assertEqual(ticket.company_id, self.company)
        self.assertIn("Late again.", str(ticket.description))
        self.assertEqual(answer.vip_recovery_ticket_ids, ticket)
        self.assertEqual(self.campaign.ticket_count, 1)

    def test_submitted_twice_one_ticket(self):
        answer = self._answer(self.customer, 2)
        answer._mark_done()
        answer._vip_create_recovery_tickets()
        self.assertEqual(len(self._tickets(answer)), 1)

    def test_archived_ticket_still_counts(self):
        answer = self._answer(self.customer, 2)
        self._tickets(answer).action_archive()
        answer._mark_done()
        self.assertEqual(len(self._tickets(answer)), 1)

    def test_unique_link_in_database(self):
        answer = self._answer(self.customer, 2)
        # sudo: only the completion hook (as superuser) links a ticket to an answer
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self.Ticket.sudo().create(
                self.Ticket._prepare_ticket_vals(self.customer, vip_survey_answer_id=answer.id)
            )

    def test_passive_and_promoter_no_ticket(self):
        passive = self._answer(self.customer, 7)
        promoter = self._answer(self._customer("Happy"), 9)
        self.assertFalse(self._tickets(passive) | self._tickets(promoter))

    def test_option_off(self):
        self.campaign.create_recovery_ticket = False
        self.assertFalse(self._tickets(self._answer(self.customer, 0)))

    def test_passive_gets_one_followup_activity(self):
        answer = self._answer(self.customer, 8)
        answer._mark_done()
        activities = self.env["mail.activity"].search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "=", self.customer.id),
                (
                    "activity_type_id",
                    "=",
                    self.env.ref("vip_survey.mail_activity_type_vip_nps_followup").id,
                ),
            ]
        )
        self.assertEqual(len(activities), 1)
        self.assertEqual(activities.user_id, self.account_manager)
        promoter = self._customer("Promoter Co", vip_account_manager_id=self.account_manager.id)
        self._answer(promoter, 10)
        self.assertFalse(
            self.env["mail.activity"].search(
                [("res_model", "=", "res.partner"), ("res_id", "=", promoter.id)]
            )
        )

    def test_closing_needs_root_cause_and_solution(self):
        ticket = self._tickets(self._answer(self.customer, 1))
        with self.assertRaises(ValidationError):
            ticket.stage_id = self.solved

    def test_followup_survey_after_closing(self):
        followup = self.env["survey.survey"].create(
            {"title": "Did we fix it?", "access_mode": "token"}
        )
        self.campaign.followup_survey_id = followup
        ticket = self._tickets(self._answer(self.customer, 3))
        self.assertFalse(ticket.vip_followup_answer_ids)
        ticket.write(
            {
                "root_cause_id": self.env.ref(
                    "vip_service_ticket.vip_service_root_cause_delivery"
                ).id,
                "solution": "<p>Dedicated courier from now on.</p>",
                "stage_id": self.solved.id,
            }
        )
        self.assertEqual(len(ticket.vip_followup_answer_ids), 1)
        self.assertEqual(ticket.vip_followup_answer_ids.survey_id, followup)
        self.assertEqual(ticket.vip_followup_answer_ids.partner_id, self.customer)
        mail = self.env["mail.mail"].search(
            [
                ("model", "=", "survey.user_input"),
                ("res_id", "=", ticket.vip_followup_answer_ids.id),
            ]
        )
        self.assertTrue(mail, "the follow-up survey invitation is mailed")
        # reopened and closed again: no second follow-up
        ticket.stage_id = self.env.ref("vip_service_ticket.vip_service_stage_in_progress")
        ticket.stage_id = self.solved
        self.assertEqual(len(ticket.vip_followup_answer_ids), 1)

    def test_no_followup_without_option(self):
        ticket = self._tickets(self._answer(self.customer, 3))
        ticket.write(
            {
                "root_cause_id": self.env.ref("vip_service_ticket.vip_service_root_cause_staff").id,
                "solution": "<p>Apologised in person.</p>",
                "stage_id": self.solved.id,
            }
        )
        self.assertFalse(ticket.vip_followup_answer_ids)
