from odoo.tests import HttpCase, new_test_user

CLICKBOT = (
    "odoo.loader.modules.get('@web/webclient/clickbot/clickbot_loader').startClickEverywhere('%s');"
)


class VipClickbotCase(HttpCase):
    """Odoo's clickbot on one app menu, shared by the clickbots of every vip_* add-on.

    The clickbot opens every menu under ``app_menu``, every view of each action and
    every filter of each search view: a view that cannot render for the user (a
    kanban progress bar or group-by on a field that is not stored, a filter on a
    field the user cannot read) fails with the browser's error.

    A subclass names the menu (``app_menu``) and its plain user (``clickbot_login``,
    ``clickbot_groups``, created in ``setUpClass`` as ``cls.clickbot_user``) and
    writes one test per user calling ``click_everywhere(login)``. This class has no
    test of its own, so importing it into another add-on's test file runs nothing twice.
    """

    allow_end_on_form = True
    app_menu = "vip_customer.vip_menu_root"
    clickbot_login = None
    clickbot_groups = "base.group_user"
    clickbot_timeout = 600

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clickbot_user = new_test_user(
            cls.env, login=cls.clickbot_login, groups=cls.clickbot_groups
        )
        users = cls.clickbot_user | cls.env.ref("base.user_admin")
        if "tour_enabled" in users._fields:
            # the onboarding tour would cover the menus the clickbot clicks
            users.tour_enabled = False

    def click_everywhere(self, login):
        """Run the clickbot on ``app_menu`` as ``login``; fails on any browser error."""
        self.browser_js(
            "/odoo",
            CLICKBOT % self.app_menu,
            "odoo.isReady === true",
            login=login,
            timeout=self.clickbot_timeout,
            success_signal="clickbot test succeeded",
        )
