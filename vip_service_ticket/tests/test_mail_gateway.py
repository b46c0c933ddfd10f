from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import MONDAY, VipServiceTicketCommon

MAIL = """Return-Path: <{email_from}>
To: {to}
From: {email_from}
Subject: {subject}
Message-ID: <{msg_id}>
{extra}MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

{body}
"""


@tagged("post_install", "-at_install")
class TestMailGateway(VipServiceTicketCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        domain = cls.env["mail.alias.domain"].create({"name": "vip-test.example.com"})
        cls.company.alias_domain_id = domain
        cls.team.alias_domain_id = domain
        cls.alias_email = f"vst-care@{domain.name}"

    def receive(self, email_from, subject, body, msg_id, in_reply_to=None):
        extra = (
            f"In-Reply-To: <{in_reply_to}>\nReferences: <{in_reply_to}>\n" if in_reply_to else ""
        )
        raw = MAIL.format(
            email_from=email_from,
            to=self.alias_email,
            subject=subject,
            body=body,
            msg_id=msg_id,
            extra=extra,
        )
        with mute_logger("odoo.addons.mail.models.mail_thread"):
            return self.env["mail.thread"].message_process(None, raw)

    def test_mail_opens_a_ticket_for_the_known_customer(self):
        with freeze_time(MONDAY.replace(hour=9)):
            ticket_id = self.receive(
                "Mr. Chen <chen@gd.example.com>",
                "Broken vase in order 88",
                "The vase arrived broken.",
                "m1@gd.example.com",
            )
        ticket = self.Ticket.browse(ticket_id)
        self.assertEqual(ticket.name, "Broken vase in order 88")
        self.assertEqual(ticket.partner_id, self.contact)
        self.assertEqual(ticket.commercial_partner_id, self.customer)
        self.assertEqual(ticket.vip_tier_id, self.tier_a)
        self.assertEqual(ticket.team_id, self.team)
        self.assertEqual(ticket.channel, "email")
        self.assertEqual(ticket.sla_id, self.sla_a)
        self.assertTrue(ticket.user_id, "assigned by the team's rule")
        self.assertIn(self.contact, ticket.message_partner_ids, "the customer follows replies")
        self.assertIn("arrived broken", ticket.description)

    def test_unknown_sender_keeps_address(self):
        ticket = self.Ticket.browse(
            self.receive("stranger@nowhere.example.com", "Hello", "Who are you?", "m2@nowhere")
        )
        self.assertFalse(ticket.partner_id)
        self.assertEqual(ticket.email_from, "stranger@nowhere.example.com")
        self.assertEqual(ticket.sla_id, self.sla_default)

    def test_replies_thread_into_the_ticket(self):
        ticket = self.Ticket.browse(
            self.receive("chen@gd.example.com", "Broken vase", "Broken.", "m3@gd.example.com")
        )
        count = self.Ticket.search_count([])
        messages = len(ticket.message_ids)
        thread_id = self.receive(
            "chen@gd.example.com",
            "Re: Broken vase",
            "Photos attached.",
            "m4@gd.example.com",
            in_reply_to="m3@gd.example.com",
        )
        self.assertEqual(thread_id, ticket.id)
        self.assertEqual(self.Ticket.search_count([]), count, "no new ticket")
        self.assertEqual(len(ticket.message_ids), messages + 1)
        self.assertFalse(ticket.first_response_date, "a customer message is no first response")
        with freeze_time(MONDAY.replace(hour=10)):
            self.public_reply(ticket, self.agent1)
        self.assertEqual(ticket.first_response_date, MONDAY.replace(hour=10))

    def test_internal_note_is_no_first_response(self):
        ticket = self.create_ticket()
        ticket.with_user(self.agent1).message_post(body="note", subtype_xmlid="mail.mt_note")
        self.assertFalse(ticket.first_response_date)

    def test_reply_reopens_recently_closed_ticket(self):
        with freeze_time(MONDAY.replace(hour=9)):
            ticket = self.Ticket.browse(
                self.receive("chen@gd.example.com", "Invoice", "Wrong.", "m5@gd.example.com")
            )
            ticket.stage_id = self.stage_solved
        self.assertTrue(ticket.close_date)
        with freeze_time(MONDAY + timedelta(days=3)):
            self.receive(
                "chen@gd.example.com",
                "Re: Invoice",
                "Still wrong!",
                "m6@gd.example.com",
                in_reply_to="m5@gd.example.com",
            )
        self.assertEqual(ticket.stage_id, self.stage_progress)
        self.assertEqual(ticket.reopen_count, 1)
        self.assertFalse(ticket.close_date)
        self.assertEqual(ticket.last_reopen_date, MONDAY + timedelta(days=3))

    def test_reply_after_the_window_does_not_reopen(self):
        with freeze_time(MONDAY.replace(hour=9)):
            ticket = self.Ticket.browse(
                self.receive("chen@gd.example.com", "Invoice", "Wrong.", "m7@gd.example.com")
            )
            ticket.stage_id = self.stage_solved
        with freeze_time(MONDAY + timedelta(days=30)):
            self.receive(
                "chen@gd.example.com",
                "Re: Invoice",
                "Thanks again",
                "m8@gd.example.com",
                in_reply_to="m7@gd.example.com",
            )
        self.assertTrue(ticket.is_closed)
        self.assertEqual(ticket.reopen_count, 0)

    def test_customer_answer_resumes_waiting_ticket(self):
        with freeze_time(MONDAY.replace(hour=9)):
            ticket = self.Ticket.browse(
                self.receive("chen@gd.example.com", "Size", "Which size?", "m9@gd.example.com")
            )
            ticket.stage_id = self.stage_waiting
        with freeze_time(datetime(2024, 6, 3, 11)):
            self.receive(
                "chen@gd.example.com",
                "Re: Size",
                "Size L",
                "m10@gd.example.com",
                in_reply_to="m9@gd.example.com",
            )
        self.assertEqual(ticket.stage_id, self.stage_progress)
        self.assertAlmostEqual(ticket.sla_paused_hours, 2.0)
