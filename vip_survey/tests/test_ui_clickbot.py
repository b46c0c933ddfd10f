from odoo.tests import tagged

from odoo.addons.vip_customer.tests.common_ui import VipClickbotCase


@tagged("post_install", "-at_install")
class TestVipSurveyClickbot(VipClickbotCase):
    """The VIP app (the Satisfaction menus and the Satisfaction Analysis included)
    opens everywhere for an admin and for a plain satisfaction user."""

    app_menu = "vip_customer.vip_menu_root"
    clickbot_login = "vip_survey-clickbot-user"
    clickbot_groups = "base.group_user,vip_survey.group_vip_survey_user"
    clickbot_timeout = 900

    def test_clickbot_vip_menu_as_admin(self):
        self.click_everywhere("admin")

    def test_clickbot_vip_menu_as_satisfaction_user(self):
        self.click_everywhere(self.clickbot_user.login)
