from odoo.tests import HttpCase, new_test_user, tagged

CLICKBOT = (
    "odoo.loader.modules.get('@web/webclient/clickbot/clickbot_loader')"
    ".startClickEverywhere('%s');"
)


@tagged("post_install", "-at_install")
class TestLoyaltyMenuClickbot(HttpCase):
    """Odoo's clickbot opens every menu of the VIP app (its Loyalty menus included),
    every view of each action and every filter, as a plain loyalty user: a loyalty
    view that cannot render for that user fails here with the browser's error."""

    allow_end_on_form = True
    app_menu = "vip_customer.vip_menu_root"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.loyalty_user = new_test_user(
            cls.env,
            login="vip_loyalty-clickbot-user",
            groups="base.group_user,vip_loyalty.group_vip_loyalty_user",
        )
        if "tour_enabled" in cls.loyalty_user._fields:
            cls.loyalty_user.tour_enabled = False

    def test_clickbot_vip_menu_as_loyalty_user(self):
        menus = self.env["ir.ui.menu"].with_user(self.loyalty_user).load_menus(False)
        loyalty_menu = self.env.ref("vip_loyalty.vip_loyalty_menu")
        self.assertIn(loyalty_menu.id, menus, "the loyalty user sees the Loyalty menu")
        self.browser_js(
            "/odoo",
            CLICKBOT % self.app_menu,
            "odoo.isReady === true",
            login=self.loyalty_user.login,
            timeout=600,
            success_signal="clickbot test succeeded",
        )
