import re

from odoo.tests import HttpCase, new_test_user, tagged

from .common import VipServiceTicketCommon


@tagged("post_install", "-at_install")
class TestPortal(VipServiceTicketCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(
            cls.env,
            login="vst-portal-http",
            password="vst-portal-http-pw",
            groups="base.group_portal",
            partner_id=cls.contact.id,
        )
        cls.own = cls.create_ticket(name="Our broken vase")
        cls.foreign = cls.create_ticket(name="Lotus secret", partner_id=cls.other_customer.id)

    def form_token(self):
        form = self.url_open("/my/tickets/new")
        self.assertEqual(form.status_code, 200)
        return re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)

    def test_list_and_detail(self):
        self.authenticate("vst-portal-http", "vst-portal-http-pw")
        page = self.url_open("/my/tickets?filterby=all")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Our broken vase", page.text)
        self.assertNotIn("Lotus secret", page.text)
        detail = self.url_open(f"/my/tickets/{self.own.id}")
        self.assertIn(self.own.number, detail.text)
        other = self.url_open(f"/my/tickets/{self.foreign.id}")
        self.assertNotIn("Lotus secret", other.text)
        self.assertTrue(other.url.endswith("/my"), "redirected away from another company's ticket")

    def test_new_ticket(self):
        self.authenticate("vst-portal-http", "vst-portal-http-pw")
        token = self.form_token()
        response = self.url_open(
            "/my/tickets/submit",
            data={
                "subject": "Gift wrapping missing",
                "description": "The gift arrived\nwithout wrapping.",
                "category_id": self.cat_complaint.id,
                "csrf_token": token,
            },
        )
        self.assertEqual(response.status_code, 200)
        ticket = self.Ticket.search([("name", "=", "Gift wrapping missing")])
        self.assertEqual(ticket.partner_id, self.contact)
        self.assertEqual(ticket.channel, "portal")
        self.assertEqual(ticket.category_id, self.cat_complaint)
        self.assertEqual(ticket.sla_id, self.sla_a)
        self.assertIn("without wrapping", ticket.description)
        self.assertIn(f"/my/tickets/{ticket.id}", response.url)

    def test_empty_form_is_refused(self):
        self.authenticate("vst-portal-http", "vst-portal-http-pw")
        count = self.Ticket.search_count([])
        response = self.url_open(
            "/my/tickets/submit",
            data={
                "subject": "",
                "description": "",
                "csrf_token": self.form_token(),
            },
        )
        self.assertIn("Give your request a subject", response.text)
        self.assertEqual(self.Ticket.search_count([]), count)
