from odoo.tests import HttpCase, tagged

from .common import VipSurveyCommon


@tagged("post_install", "-at_install")
class TestUi(HttpCase, VipSurveyCommon):
    def test_detractor_fills_survey_in_browser(self):
        invitation = self.campaign._create_invitations(self.customer)
        self.start_tour(invitation.get_start_url(), "vip_survey_detractor_tour")
        invitation.invalidate_recordset()
        self.assertEqual(invitation.state, "done")
        self.assertEqual(invitation.vip_nps_score, 3)
        self.assertEqual(invitation.vip_nps_class, "detractor")
        ticket = self.env["vip.service.ticket"].search(
            [("vip_survey_answer_id", "=", invitation.id)]
        )
        self.assertEqual(len(ticket), 1)
        self.assertTrue(ticket.is_complaint)
        self.assertEqual(ticket.user_id, self.account_manager)
        self.assertIn("Too slow", str(ticket.description))

    def test_token_only_reaches_its_own_answer(self):
        mine = self.campaign._create_invitations(self.customer)
        other = self._answer(self._customer("Other"), 2, comment="Secret remark of another")
        # the print page of an answer needs that answer's token: another token shows nothing
        response = self.url_open(f"{mine.get_print_url()}")
        self.assertNotIn("Secret remark of another", response.text)
        response = self.url_open(f"/survey/print/{self.survey.access_token}")
        self.assertNotIn("Secret remark of another", response.text)
        response = self.url_open(other.get_print_url())
        self.assertIn("Secret remark of another", response.text, "the owner's link works")
