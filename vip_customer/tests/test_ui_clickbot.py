from odoo.tests import tagged

from .common_ui import VipClickbotCase


@tagged("post_install", "-at_install")
class TestVipMenuClickbot(VipClickbotCase):
    """The VIP app opens everywhere for an admin and for a plain VIP user."""

    app_menu = "vip_customer.vip_menu_root"
    clickbot_login = "vip_customer-clickbot-user"
    clickbot_groups = "base.group_user,vip_customer.group_vip_user"

    def test_clickbot_vip_menu_as_admin(self):
        self.click_everywhere("admin")

    def test_clickbot_vip_menu_as_vip_user(self):
        self.click_everywhere(self.clickbot_user.login)
