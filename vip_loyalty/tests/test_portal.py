from dateutil.relativedelta import relativedelta

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import VipLoyaltyCommon


@tagged("post_install", "-at_install")
class TestPortal(VipLoyaltyCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls._partner("Rival Trading")
        cls._invoice(cls.customer, 1234)
        cls._invoice(cls.other, 98765)
        cls.portal_user = new_test_user(
            cls.env, login="vip_loyalty-portal", password="vip_loyalty-portal",
            groups="base.group_portal", partner_id=cls.env["res.partner"].create({
                "name": "Portal Buyer", "parent_id": cls.customer.id,
                "email": "buyer@example.com",
            }).id,
            company_id=cls.company.id, company_ids=[Command.set(cls.company.ids)],
        )

    def test_portal_page_shows_own_points_only(self):
        self.authenticate("vip_loyalty-portal", "vip_loyalty-portal")
        response = self.url_open("/my/points")
        self.assertEqual(response.status_code, 200)
        self.assertIn("1,234", response.text)
        self.assertIn("Invoice", response.text)
        self.assertNotIn("98,765", response.text)
        self.assertNotIn("98765", response.text)

    def test_portal_rules(self):
        Move = self.env["vip.loyalty.move"].with_user(self.portal_user)
        moves = Move.search([])
        self.assertEqual(moves.partner_id, self.customer)
        other_move = self.env["vip.loyalty.move"].search([("partner_id", "=", self.other.id)])
        with self.assertRaises(AccessError):
            other_move.with_user(self.portal_user).read(["points"])
        accounts = self.env["vip.loyalty.account"].with_user(self.portal_user).search([])
        self.assertEqual(accounts.partner_id, self.customer)
        with self.assertRaises(AccessError):
            self.env["vip.loyalty.account"].search(
                [("partner_id", "=", self.other.id)]
            ).with_user(self.portal_user).read(["balance"])

    def test_portal_reads_own_moves_without_field_list(self):
        """search_read([], []) over RPC failed on the internal allocation fields."""
        rows = self.env["vip.loyalty.move"].with_user(self.portal_user).search_read([], [])
        self.assertEqual({row["partner_id"][0] for row in rows}, {self.customer.id})
        self.assertIn(1234, [row["points"] for row in rows])
        self.assertNotIn("allocation_ids", rows[0])

    def test_anonymous_redirected(self):
        response = self.url_open("/my/points", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))

    # ------------------------------------------------------------------
    # The page (issue 10, item 8)
    # ------------------------------------------------------------------
    def test_portal_page_shows_tier_benefits_and_formatted_totals(self):
        self.customer.vip_tier_id = self.tier_a
        benefit = self.env["vip.benefit"].create({
            "name": "Free Parking", "quota_ids": [Command.create({"tier_id": self.tier_a.id,
                                                                 "quota": 20})],
        })
        self.env["vip.benefit.usage"].create(
            {"partner_id": self.customer.id, "benefit_id": benefit.id, "quantity": 6}
        )
        self._give(self.customer, 44800)
        self.authenticate("vip_loyalty-portal", "vip_loyalty-portal")
        page = self.url_open("/my/points").text
        self.assertIn(self.tier_a.name, page)
        self.assertIn("Free Parking", page)
        self.assertIn("14 / 20", page, "uses left of the tier's quota")
        # 1,234 earned + 44,800 adjusted: the total like the rows, with separators
        self.assertIn("46,034", page)
        self.assertNotIn("46034", page)
        self.assertIn("/vip_loyalty/static/src/img/points.svg",
                      self.url_open("/my/home").text)

    def test_points_expiring_soon_are_highlighted(self):
        self._give(self.customer, 700, expiry_date=self.today + relativedelta(days=10))
        self._give(self.customer, 900, expiry_date=self.today + relativedelta(days=200))
        self.authenticate("vip_loyalty-portal", "vip_loyalty-portal")
        page = self.url_open("/my/points").text
        self.assertIn("vip_points_expiring_alert", page)
        self.assertEqual(page.count("vip_points_expiring\""), 1, "only the lot expiring soon")

    def test_statement_download_in_the_readers_language(self):
        """A Chinese contact of an English-speaking company reads the statement in
        Chinese: it is rendered in the language of the portal, not the company's."""
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["vip_loyalty"], ["zh_CN"])
        self.customer.lang = "en_US"
        self.portal_user.lang = "zh_CN"
        self.authenticate("vip_loyalty-portal", "vip_loyalty-portal")
        page = self.url_open("/my/points/statement").text
        self.assertIn("积分对账单", page)
        self.assertNotIn("Points Statement", page)

    def test_statement_download_is_the_customers_own(self):
        self.authenticate("vip_loyalty-portal", "vip_loyalty-portal")
        response = self.url_open("/my/points/statement")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Points Statement", response.text)
        self.assertIn(self.customer.name, response.text)
        self.assertNotIn("Rival Trading", response.text)
        self.assertNotIn("98,765", response.text)
        # no way to ask for another customer's statement
        response = self.url_open(f"/my/points/statement?partner_id={self.other.id}")
        self.assertNotIn("Rival Trading", response.text)
        self.authenticate(None, None)
        response = self.url_open("/my/points/statement", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
