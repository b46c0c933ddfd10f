from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import VipSurveyCommon

# what differs between two answers whoever creates them
OWN_VALUES = {"id", "access_token", "invite_token", "partner_id", "email", "nickname"}
# what the campaign adds
CAMPAIGN_VALUES = {"vip_campaign_id", "vip_campaign_run", "deadline"}
LOG_VALUES = {"create_date", "write_date", "create_uid", "write_uid", "start_datetime"}


@tagged("post_install", "-at_install")
class TestInvitation(VipSurveyCommon):
    """Invitations are survey answers created through survey's own API, with the
    values ``survey._create_answer`` gives an answer (they used to be a raw INSERT)."""

    def _row(self, answer):
        answer.env.flush_all()
        self.env.cr.execute("SELECT * FROM survey_user_input WHERE id = %s", [answer.id])
        columns = [c.name for c in self.env.cr.description]
        return dict(zip(columns, self.env.cr.fetchone(), strict=True))

    def test_same_row_as_create_answer(self):
        """Every column of an invitation's row is the one ``_create_answer`` writes
        for the same customer, but for tokens, the customer, and the campaign's own."""
        self.survey.write({"is_attempts_limited": True, "attempts_limit": 2})
        partner = self._customer("Row Co")
        twin = self._customer("Twin Co")
        invitation = self.campaign._create_invitations(partner)
        reference = self.survey._create_answer(partner=twin, check_attempts=False)
        row, expected = self._row(invitation), self._row(reference)
        skip = OWN_VALUES | CAMPAIGN_VALUES | LOG_VALUES
        self.assertEqual(
            {k: v for k, v in row.items() if k not in skip},
            {k: v for k, v in expected.items() if k not in skip},
        )
        self.assertEqual(
            (row["partner_id"], row["email"], row["nickname"]),
            (partner.id, partner.email, partner.name),
        )
        self.assertTrue(row["invite_token"] and row["access_token"], "own tokens")
        self.assertNotEqual(row["access_token"], expected["access_token"])
        self.assertEqual(invitation.predefined_question_ids, reference.predefined_question_ids)
        self.assertEqual(invitation.predefined_question_ids, self.survey.question_ids)
        self.assertEqual(row["vip_campaign_id"], self.campaign.id)

    def test_random_questions_and_saved_email(self):
        """A survey drawing its questions at random draws them for each invitation (as
        ``survey.user_input.create`` does); a question saving the e-mail gets it."""
        survey = self.env["survey.survey"].create(
            {
                "title": "Random VIP survey",
                "access_mode": "token",
                "questions_selection": "random",
                "question_and_page_ids": [
                    Command.create(
                        {
                            "title": "Recommend us?",
                            "question_type": "scale",
                            "scale_min": 0,
                            "scale_max": 10,
                            "sequence": 1,
                        }
                    ),
                    Command.create(
                        {
                            "title": "Your e-mail",
                            "question_type": "char_box",
                            "validation_email": True,
                            "save_as_email": True,
                            "sequence": 2,
                        }
                    ),
                    Command.create(
                        {
                            "title": "Page",
                            "is_page": True,
                            "random_questions_count": 1,
                            "sequence": 3,
                        }
                    ),
                    Command.create({"title": "A", "question_type": "text_box", "sequence": 4}),
                    Command.create({"title": "B", "question_type": "text_box", "sequence": 5}),
                ],
            }
        )
        nps, email, page, q_a, q_b = survey.question_and_page_ids.sorted("sequence")
        campaign = self.campaign.copy(
            {"survey_id": survey.id, "nps_question_id": nps.id, "satisfaction_source": "nps"}
        )
        partners = self.customer | self._customer("Other Co")
        invitations = campaign._create_invitations(partners)
        self.assertEqual(len(invitations), 2)
        for invitation in invitations:
            drawn = invitation.predefined_question_ids
            self.assertEqual(drawn & (nps | email), nps | email)
            self.assertEqual(len(drawn & (q_a | q_b)), 1, "one question of the page drawn")
            line = invitation.sudo().user_input_line_ids.filtered(
                lambda line: line.question_id == email
            )
            self.assertEqual(line.value_char_box, invitation.partner_id.email)
        self.assertEqual(page.random_questions_count, 1)

    def test_answer_creation_checks_per_customer(self):
        """The survey's own checks apply to each customer invited, and the refusal
        names the campaign and the customer."""
        self.survey.active = False
        partner = self._customer("No User Co")
        with self.assertRaisesRegex(UserError, "No User Co") as caught:
            self.campaign._create_invitations(partner)
        self.assertIn(self.campaign.name, str(caught.exception))
        self.assertFalse(self.campaign.user_input_ids)

    def test_no_chatter_noise_per_invitation(self):
        """Tens of thousands of invitations: no creation note nor follower each."""
        invitations = self.campaign._create_invitations(self.customer | self._customer("B Co"))
        self.assertFalse(invitations.sudo().message_ids)
        self.assertFalse(invitations.sudo().message_follower_ids)
