from odoo.tests import HttpCase, new_test_user, tagged

CLICKBOT = (
    "odoo.loader.modules.get('@web/webclient/clickbot/clickbot_loader').startClickEverywhere('%s');"
)


@tagged("post_install", "-at_install")
class TestVipMenuClickbot(HttpCase):
    """Odoo's clickbot opens every menu of the VIP app, every view of each
    action and every filter of each search view: a view that cannot render (a
    kanban progress bar or group-by on a field that is not stored, a filter on
    a field the user cannot read) fails here with the browser's error."""

    allow_end_on_form = True
    app_menu = "vip_customer.vip_menu_root"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vip_user = new_test_user(
            cls.env,
            login="vip_customer-clickbot-user",
            groups="base.group_user,vip_customer.group_vip_user",
        )
        admin = cls.env.ref("base.user_admin")
        for user in cls.vip_user | admin:
            if "tour_enabled" in user._fields:
                user.tour_enabled = False

    def _click_everywhere(self, login):
        self.browser_js(
            "/odoo",
            CLICKBOT % self.app_menu,
            "odoo.isReady === true",
            login=login,
            timeout=600,
            success_signal="clickbot test succeeded",
        )

    def test_clickbot_vip_menu_as_admin(self):
        self._click_everywhere("admin")

    def test_clickbot_vip_menu_as_vip_user(self):
        self._click_everywhere(self.vip_user.login)
