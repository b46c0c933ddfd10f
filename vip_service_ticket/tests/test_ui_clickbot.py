from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

CLICKBOT = (
    "odoo.loader.modules.get('@web/webclient/clickbot/clickbot_loader').startClickEverywhere('%s');"
)


@tagged("post_install", "-at_install")
class TestServiceMenuClickbot(HttpCase):
    """Odoo's clickbot opens every menu of the VIP Service app, every view of each
    action (My Tickets opens in kanban, whose progress bar groups on the SLA status)
    and every filter of each search view, as an admin and as a plain service agent:
    a view that cannot render fails here with the browser's error."""

    allow_end_on_form = True
    app_menu = "vip_service_ticket.vip_service_menu_root"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent = new_test_user(
            cls.env,
            login="vip_service_ticket-clickbot-agent",
            groups="base.group_user,vip_service_ticket.group_vip_service_user",
        )
        admin = cls.env.ref("base.user_admin")
        for user in cls.agent | admin:
            if "tour_enabled" in user._fields:
                user.tour_enabled = False
        # the agent has tickets of their own in the kanban of My Tickets
        team = cls.env["vip.service.team"].search([], limit=1)
        team.member_ids = [Command.link(cls.agent.id)]
        cls.env["vip.service.ticket"].search([("team_id", "=", team.id)], limit=3).write(
            {"user_id": cls.agent.id}
        )

    def _click_everywhere(self, login):
        self.browser_js(
            "/odoo",
            CLICKBOT % self.app_menu,
            "odoo.isReady === true",
            login=login,
            timeout=600,
            success_signal="clickbot test succeeded",
        )

    def test_clickbot_service_menu_as_admin(self):
        self._click_everywhere("admin")

    def test_clickbot_service_menu_as_agent(self):
        self._click_everywhere(self.agent.login)
