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
        self.assertIn("1234", response.text)
        self.assertIn("Invoice", response.text)
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

    def test_anonymous_redirected(self):
        response = self.url_open("/my/points", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
