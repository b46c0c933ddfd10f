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

    def test_new_form_shows_every_box(self):
        """The Description label has its text box from the first display on."""
        self.authenticate("vst-portal-http", "vst-portal-http-pw")
        page = self.url_open("/my/tickets/new")
        self.assertEqual(page.status_code, 200)
        self.assertRegex(page.text, r'<textarea[^>]*name="description"[^>]*>\s*</textarea>')
        self.assertRegex(page.text, r'<input[^>]*name="subject"')
        self.assertIn(self.cat_complaint.name, page.text)

    def submit(self, **data):
        data.setdefault("subject", "Gift wrapping missing")
        data.setdefault("description", "The gift arrived without wrapping.")
        data["csrf_token"] = self.form_token()
        return self.url_open("/my/tickets/submit", data=data)

    def test_bad_category_is_a_form_error(self):
        self.authenticate("vst-portal-http", "vst-portal-http-pw")
        archived = self.env["vip.service.category"].create({"name": "Old", "active": False})
        count = self.Ticket.search_count([])
        for value in ("abc", "1e9", "99999999999999999999", str(archived.id), "-1", "1; DROP"):
            with self.subTest(category_id=value):
                response = self.submit(category_id=value)
                self.assertEqual(response.status_code, 200)
                self.assertIn("Category: choose one of the categories", response.text)
                self.assertIn("Gift wrapping missing", response.text, "the form keeps the input")
        self.assertEqual(self.Ticket.search_count([]), count, "nothing created")

    def test_too_long_subject_is_a_form_error(self):
        self.authenticate("vst-portal-http", "vst-portal-http-pw")
        response = self.submit(subject="x" * 5000)
        self.assertEqual(response.status_code, 200)
        self.assertIn("Keep the subject under", response.text)

    def test_control_characters_are_a_form_error(self):
        """A NUL byte (which PostgreSQL cannot store) was an HTTP 500."""
        self.authenticate("vst-portal-http", "vst-portal-http-pw")
        count = self.Ticket.search_count([])
        response = self.submit(subject="a\x00b", description="d\x00")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Subject: remove the invisible control characters", response.text)
        self.assertIn("Description: remove the invisible control characters", response.text)
        self.assertEqual(self.Ticket.search_count([]), count, "nothing created")
        response = self.submit(description="Line one\r\n\tline two")
        self.assertEqual(response.status_code, 200)
        ticket = self.Ticket.search([("name", "=", "Gift wrapping missing")])
        self.assertIn("line two", ticket.description, "newlines and tabs are text")

    def test_valid_request_without_category(self):
        self.authenticate("vst-portal-http", "vst-portal-http-pw")
        response = self.submit(category_id="")
        ticket = self.Ticket.search([("name", "=", "Gift wrapping missing")])
        self.assertEqual(ticket.partner_id, self.contact)
        self.assertFalse(ticket.category_id)
        self.assertIn(f"/my/tickets/{ticket.id}", response.url)

    def test_portal_home_uses_line_icon(self):
        self.authenticate("vst-portal-http", "vst-portal-http-pw")
        home = self.url_open("/my/home")
        self.assertIn("/vip_service_ticket/static/src/img/service_request.svg", home.text)
        self.assertNotIn("/vip_service_ticket/static/description/icon.png", home.text)
        counters = self.make_jsonrpc_request("/my/counters", {"counters": ["vip_ticket_count"]})
        self.assertEqual(counters["vip_ticket_count"], "1")
        svg = self.url_open("/vip_service_ticket/static/src/img/service_request.svg")
        self.assertEqual(svg.status_code, 200)

    def test_portal_dates_without_seconds(self):
        self.authenticate("vst-portal-http", "vst-portal-http-pw")
        detail = self.url_open(f"/my/tickets/{self.own.id}")
        opened = re.search(r"Opened On:</strong>(.*?)</div>", detail.text, re.S)
        opened = re.sub(r"<[^>]+>", "", opened.group(1)).strip()
        self.assertRegex(opened, r"\d{1,2}:\d{2}")
        self.assertNotRegex(opened, r"\d{1,2}:\d{2}:\d{2}")

    def test_portal_dates_without_seconds_in_chinese(self):
        """Odoo's ``hide_seconds`` only strips ":ss"; the zh_CN time format is
        "%H时%M分%S秒", so a Chinese customer saw the seconds."""
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["vip_service_ticket"], ["zh_CN"])
        self.portal_user.lang = "zh_CN"
        self.authenticate("vst-portal-http", "vst-portal-http-pw")
        detail = self.url_open(f"/my/tickets/{self.own.id}")
        opened = re.search(r"创建于：</strong>(.*?)</div>", detail.text, re.S)
        self.assertTrue(opened, "the detail page is in Chinese")
        opened = re.sub(r"<[^>]+>", "", opened.group(1)).strip()
        self.assertRegex(opened, r"\d{1,2}:\d{2}$")
        self.assertNotIn("秒", opened)
