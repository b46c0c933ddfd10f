from odoo import Command
from odoo.tests import tagged

from odoo.addons.vip_customer.tests.common_ui import VipClickbotCase


@tagged("post_install", "-at_install")
class TestServiceMenuClickbot(VipClickbotCase):
    """The VIP Service app opens everywhere (My Tickets opens in kanban, whose progress
    bar groups on the SLA status) for an admin and for a plain service agent."""

    app_menu = "vip_service_ticket.vip_service_menu_root"
    clickbot_login = "vip_service_ticket-clickbot-agent"
    clickbot_groups = "base.group_user,vip_service_ticket.group_vip_service_user"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the agent has tickets of their own in the kanban of My Tickets
        team = cls.env["vip.service.team"].search([], limit=1)
        team.member_ids = [Command.link(cls.clickbot_user.id)]
        cls.env["vip.service.ticket"].search([("team_id", "=", team.id)], limit=3).write(
            {"user_id": cls.clickbot_user.id}
        )

    def test_clickbot_service_menu_as_admin(self):
        self.click_everywhere("admin")

    def test_clickbot_service_menu_as_agent(self):
        self.click_everywhere(self.clickbot_user.login)
