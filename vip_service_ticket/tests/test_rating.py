from odoo.tests import tagged

from .common import VipServiceTicketCommon


@tagged("post_install", "-at_install")
class TestRating(VipServiceTicketCommon):
    def test_closing_requests_a_rating_and_a_follow_up(self):
        ticket = self.create_ticket(partner_id=self.contact.id, user_id=self.agent1.id)
        self.assertTrue(self.stage_solved.rating_template_id)
        ticket.stage_id = self.stage_solved
        rating = self.env["rating.rating"].search(
            [("res_model", "=", ticket._name), ("res_id", "=", ticket.id)]
        )
        self.assertEqual(rating.partner_id, self.contact)
        self.assertEqual(rating.rated_partner_id, self.agent1.partner_id)
        self.assertTrue(rating.access_token)
        request = ticket.message_ids.filtered(lambda m: rating.access_token in (m.body or ""))
        self.assertTrue(request, "the rating mail with the smiley links is sent")
        self.assertIn(self.contact, request.partner_ids)
        followup = ticket.activity_ids.filtered(
            lambda a: (
                a.activity_type_id
                == self.env.ref("vip_service_ticket.mail_activity_type_ticket_followup")
            )
        )
        self.assertEqual(followup.user_id, self.vip_user, "the account manager follows up")

        rating.write({"rating": 5, "consumed": True})
        ticket.invalidate_recordset()
        self.assertEqual(ticket.rating_last_value, 5)

    def test_no_rating_without_template(self):
        self.stage_solved.rating_template_id = False
        ticket = self.create_ticket(partner_id=self.contact.id)
        ticket.stage_id = self.stage_solved
        self.assertFalse(
            self.env["rating.rating"].search(
                [("res_model", "=", ticket._name), ("res_id", "=", ticket.id)]
            )
        )
