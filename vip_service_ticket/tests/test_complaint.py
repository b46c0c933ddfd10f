from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import VipServiceTicketCommon


@tagged("post_install", "-at_install")
class TestComplaint(VipServiceTicketCommon):
    def test_closing_needs_root_cause_and_solution(self):
        complaint = self.create_ticket(category_id=self.cat_complaint.id)
        self.assertTrue(complaint.is_complaint)
        self.assertEqual(complaint.complaint_step, "intake")
        with self.assertRaises(ValidationError) as caught:
            complaint.stage_id = self.stage_solved
        self.assertIn(complaint.number, str(caught.exception), "the error names the ticket")
        complaint.root_cause_id = self.cause_delivery
        with self.assertRaises(ValidationError):
            complaint.stage_id = self.stage_solved
        complaint.solution = "<p>Replaced the vase, courier the next morning.</p>"
        complaint.stage_id = self.stage_solved
        self.assertTrue(complaint.is_closed)
        with self.assertRaises(ValidationError):
            complaint.solution = "<p><br></p>"

    def test_inquiry_closes_freely(self):
        inquiry = self.create_ticket()
        inquiry.stage_id = self.stage_solved
        self.assertTrue(inquiry.is_closed)

    def test_becoming_a_complaint_starts_the_loop(self):
        ticket = self.create_ticket()
        self.assertFalse(ticket.complaint_step)
        ticket.category_id = self.cat_complaint
        self.assertEqual(ticket.complaint_step, "intake")

    def test_loop_steps(self):
        complaint = self.create_ticket(category_id=self.cat_complaint.id)
        complaint.action_complaint_next_step()
        self.assertEqual(complaint.complaint_step, "verification")
        with self.assertRaisesRegex(UserError, "root cause"):
            complaint.action_complaint_next_step()
        complaint.root_cause_id = self.cause_delivery
        complaint.action_complaint_next_step()
        with self.assertRaisesRegex(UserError, "responsible"):
            complaint.action_complaint_next_step()
        complaint.responsible_department = "Logistics"
        complaint.action_complaint_next_step()
        self.assertEqual(complaint.complaint_step, "solution")
        with self.assertRaisesRegex(UserError, "solution"):
            complaint.action_complaint_next_step()
        complaint.solution = "<p>New vase delivered.</p>"
        for _step in ("progress", "result", "follow_up", "confirmed"):
            complaint.action_complaint_next_step()
        self.assertEqual(complaint.complaint_step, "confirmed")
        with self.assertRaisesRegex(UserError, "already confirmed"):
            complaint.action_complaint_next_step()
        logged = complaint.message_ids.filtered(
            lambda m: m.subtype_id == self.env.ref("vip_service_ticket.mt_ticket_complaint_step")
        )
        self.assertEqual(len(logged), 7, "each step is logged")
        with self.assertRaisesRegex(UserError, "not a complaint"):
            self.create_ticket().action_complaint_next_step()

    def test_progress_update_is_public(self):
        complaint = self.create_ticket(
            category_id=self.cat_complaint.id, partner_id=self.contact.id
        )
        action = complaint.action_send_progress_update()
        self.assertEqual(action["res_model"], "mail.compose.message")
        composer = self.env["mail.compose.message"].with_context(**action["context"]).create({})
        self.assertTrue(composer.body)
        composer._action_send_mail()
        message = complaint.message_ids[0]
        self.assertEqual(message.subtype_id, self.env.ref("mail.mt_comment"))
        self.assertIn(self.contact, message.notified_partner_ids)

    def test_prepare_ticket_vals_for_recovery(self):
        Ticket = self.Ticket
        vals = Ticket._prepare_ticket_vals(
            self.contact,
            "vip_service_ticket.vip_service_category_complaint",
            name="Recovery: detractor in survey",
            user_id=self.vip_user.id,
        )
        self.team.member_ids |= self.vip_user
        ticket = Ticket.create(vals)
        self.assertEqual(ticket.category_id, self.cat_complaint)
        self.assertEqual(ticket.complaint_step, "intake")
        self.assertEqual(ticket.user_id, self.vip_user)
        self.assertEqual(ticket.vip_tier_id, self.tier_a)
        self.assertEqual(ticket.sla_id, self.sla_a)
