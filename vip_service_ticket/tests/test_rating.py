from odoo.tests import tagged

from .common import VipServiceTicketCommon


@tagged("post_install", "-at_install")
class TestRating(VipServiceTicketCommon):
    def test_closing_requests_a_rating(self):
        """The account manager's follow-up call is the key moment "ticket closed"
        (test_moments.TestTicketMoments)."""
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
