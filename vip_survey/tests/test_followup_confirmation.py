from markupsafe import Markup

from odoo import Command
from odoo.tests import tagged

from .common import VipSurveyCommon


@tagged("post_install", "-at_install")
class TestFollowupConfirmation(VipSurveyCommon):
    """The follow-up survey of a recovery complaint, answered satisfied, confirms
    the complaint's satisfaction step on the customer's own word."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.logistics = cls.env["vip.service.responsibility"].create(
            {"name": "Logistics", "kind": "department", "company_id": cls.company.id}
        )
        cls.visit_type = cls.env.ref("vip_service_ticket.mail_activity_type_complaint_visit")
        # the campaign's own survey is sent again after the recovery
        cls.campaign.followup_survey_id = cls.survey

    def _recovery_complaint(self, partner=None):
        """A detractor's recovery complaint, its loop up to the result and the
        ticket closed (which sends the follow-up survey)."""
        ticket = self._answer(partner or self.customer, 2).vip_recovery_ticket_ids
        self.assertTrue(ticket.is_complaint)
        ticket._complaint_verify("Delivery late twice.")
        ticket._complaint_assign_responsibility(self.logistics)
        ticket._complaint_record_solution(Markup("<p>Dedicated courier.</p>"))
        ticket._complaint_send_progress("The courier is booked.")
        ticket._complaint_record_result("Deliveries on time since.")
        ticket.write(
            {
                "root_cause_id": self.env.ref(
                    "vip_service_ticket.vip_service_root_cause_delivery"
                ).id,
                "stage_id": self.env.ref("vip_service_ticket.vip_service_stage_solved").id,
            }
        )
        self.assertEqual(len(ticket.vip_followup_answer_ids), 1)
        return ticket

    def _visit(self, ticket):
        visit = ticket.activity_ids.filtered(lambda a: a.activity_type_id == self.visit_type)
        visit.with_user(visit.user_id).action_feedback(feedback="Visited.")

    def _answer_followup(self, ticket, nps, satisfaction):
        # sudo: customers answer through the survey controller, which works in sudo
        answer = ticket.vip_followup_answer_ids.sudo()
        answer._save_lines(self.q_nps, str(nps))
        answer._save_lines(self.q_satisfaction, str(satisfaction))
        answer._mark_done()
        return answer

    def test_satisfied_followup_confirms_the_complaint(self):
        ticket = self._recovery_complaint()
        self._visit(ticket)
        self.assertEqual(ticket.complaint_step, "follow_up")
        answer = self._answer_followup(ticket, 10, 5)
        self.assertEqual((answer.vip_nps_class, answer.vip_satisfaction_score), ("promoter", 100))
        self.assertEqual(ticket.complaint_step, "confirmed")
        self.assertEqual(ticket.complaint_confirmed_by, "survey")
        confirmed = ticket.message_ids.filtered(
            lambda m: (
                m.subtype_id == self.env.ref("vip_service_ticket.mt_complaint_confirmed_survey")
            )
        )
        self.assertEqual(len(confirmed), 1)
        # completed again: nothing more
        answer._mark_done()
        answer.write({"state": "done"})
        ticket.invalidate_recordset(["message_ids"])
        self.assertEqual(
            len(ticket.message_ids.filtered(lambda m: m.subtype_id == confirmed.subtype_id)), 1
        )

    def test_unsatisfied_followup_confirms_nothing(self):
        ticket = self._recovery_complaint()
        self._visit(ticket)
        # a promoter below the campaign's satisfaction target (3/5 = 50 < 85)
        self._answer_followup(ticket, 9, 3)
        self.assertEqual(ticket.complaint_step, "follow_up")
        self.assertFalse(ticket.complaint_confirmed_by)
        # satisfied enough, but not a promoter
        other = self._recovery_complaint(self._customer("Second Co"))
        self._visit(other)
        self._answer_followup(other, 8, 5)
        self.assertEqual(other.complaint_step, "follow_up")

    def test_followup_answered_before_the_visit_confirms_after_it(self):
        ticket = self._recovery_complaint()
        self._answer_followup(ticket, 10, 5)
        self.assertEqual(ticket.complaint_step, "result", "the steps go in order")
        self._visit(ticket)
        self.assertEqual(ticket.complaint_step, "confirmed")
        self.assertEqual(ticket.complaint_confirmed_by, "survey")

    def test_own_followup_survey_scored_on_its_recommendation_question(self):
        """A follow-up survey other than the campaign's: its 0-10 question decides."""
        followup = self.env["survey.survey"].create(
            {
                "title": "Did we fix it?",
                "access_mode": "token",
                "question_and_page_ids": [
                    Command.create(
                        {
                            "title": "Would you recommend us now?",
                            "question_type": "scale",
                            "scale_min": 0,
                            "scale_max": 10,
                        }
                    )
                ],
            }
        )
        self.campaign.write({"followup_survey_id": followup.id, "satisfaction_source": "nps"})
        ticket = self._recovery_complaint()
        self._visit(ticket)
        answer = ticket.vip_followup_answer_ids.sudo()
        answer._save_lines(followup.question_ids, "9")
        answer._mark_done()
        self.assertEqual(answer.vip_nps_class, "promoter")
        self.assertEqual(ticket.complaint_confirmed_by, "survey")
