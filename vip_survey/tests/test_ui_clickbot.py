from odoo.tests import HttpCase, new_test_user, tagged

CLICKBOT = (
    "odoo.loader.modules.get('@web/webclient/clickbot/clickbot_loader').startClickEverywhere('%s');"
)


@tagged("post_install", "-at_install")
class TestVipSurveyClickbot(HttpCase):
    """Odoo's clickbot opens every menu of the VIP app (the Satisfaction menus and
    the Satisfaction Analysis included), every view of each action and every filter
    of each search view, as admin and as a plain satisfaction user: a view that
    cannot render for them fails here with the browser's error."""

    allow_end_on_form = True
    app_menu = "vip_customer.vip_menu_root"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.survey_user = new_test_user(
            cls.env,
            login="vip_survey-clickbot-user",
            groups="base.group_user,vip_survey.group_vip_survey_user",
        )
        admin = cls.env.ref("base.user_admin")
        for user in cls.survey_user | admin:
            if "tour_enabled" in user._fields:
                user.tour_enabled = False

    def _click_everywhere(self, login):
        self.browser_js(
            "/odoo",
            CLICKBOT % self.app_menu,
            "odoo.isReady === true",
            login=login,
            timeout=900,
            success_signal="clickbot test succeeded",
        )

    def test_clickbot_vip_menu_as_admin(self):
        self._click_everywhere("admin")

    def test_clickbot_vip_menu_as_satisfaction_user(self):
        self._click_everywhere(self.survey_user.login)
