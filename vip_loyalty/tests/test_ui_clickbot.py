from odoo.tests import tagged

from odoo.addons.vip_customer.tests.common_ui import VipClickbotCase


@tagged("post_install", "-at_install")
class TestLoyaltyMenuClickbot(VipClickbotCase):
    """The VIP app (its Loyalty menus included) opens everywhere for a plain loyalty
    user; vip_customer's clickbot already runs the same menu as admin."""

    app_menu = "vip_customer.vip_menu_root"
    clickbot_login = "vip_loyalty-clickbot-user"
    clickbot_groups = "base.group_user,vip_loyalty.group_vip_loyalty_user"

    def test_clickbot_vip_menu_as_loyalty_user(self):
        menus = self.env["ir.ui.menu"].with_user(self.clickbot_user).load_menus(False)
        loyalty_menu = self.env.ref("vip_loyalty.vip_loyalty_menu")
        self.assertIn(loyalty_menu.id, menus, "the loyalty user sees the Loyalty menu")
        self.click_everywhere(self.clickbot_user.login)
