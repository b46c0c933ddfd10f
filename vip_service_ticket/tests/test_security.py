from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import VipServiceTicketCommon


@tagged("post_install", "-at_install")
class TestSecurity(VipServiceTicketCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.own = cls.create_ticket(user_id=cls.agent1.id)
        cls.hotline_ticket = cls.create_ticket(
            team_id=cls.team_hotline.id, user_id=cls.outsider.id, partner_id=cls.other_customer.id
        )
        cls.portal_user = new_test_user(
            cls.env,
            login="vst-portal",
            groups="base.group_portal",
            partner_id=cls.contact.id,
        )
        cls.other_company = cls.env["res.company"].create({"name": "VIP Other Co"})
        cls.foreign = cls.Ticket.create(
            {
                "name": "Elsewhere",
                "company_id": cls.other_company.id,
                "team_id": False,
                "partner_id": cls.other_customer.id,
            }
        )

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_service_user_sees_own_and_team_tickets(self):
        Ticket = self.Ticket.with_user(self.agent2)
        visible = Ticket.search([])
        self.assertIn(self.own, visible, "a team ticket")
        self.assertNotIn(self.hotline_ticket, visible)
        self.own.with_user(self.agent2).write({"priority": "2"})
        with self.assertRaises(AccessError):
            self.hotline_ticket.with_user(self.agent2).read(["name"])
        with self.assertRaises(AccessError):
            self.hotline_ticket.with_user(self.agent2).write({"priority": "2"})
        with self.assertRaises(AccessError):
            self.own.with_user(self.agent2).unlink()

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_own_ticket_outside_the_team(self):
        self.hotline_ticket.user_id = self.agent2
        self.hotline_ticket.with_user(self.agent2).read(["name"])
        self.assertEqual(
            self.hotline_ticket.with_user(self.agent2).assignment_ids.to_user_id,
            self.outsider | self.agent2,
        )

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_service_user_cannot_configure(self):
        for model, vals in [
            ("vip.service.sla", {"name": "Mine", "resolution_hours": 1}),
            ("vip.service.team", {"name": "Mine", "assignment_method": "manual"}),
            ("vip.service.stage", {"name": "Mine"}),
            ("vip.service.category", {"name": "Mine"}),
            ("vip.service.root.cause", {"name": "Mine"}),
        ]:
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(self.agent1).create(vals)
        with self.assertRaises(AccessError):
            self.sla_a.with_user(self.agent1).write({"resolution_hours": 100})
        with self.assertRaises(AccessError):
            self.env["vip.service.ticket.escalation"].with_user(self.agent1).create(
                {
                    "ticket_id": self.own.id,
                    "step_id": self.sla_a.escalation_ids[0].id,
                    "level": 1,
                    "action": "notify_assignee",
                    "deadline_type": "resolution",
                    "company_id": self.company.id,
                }
            )
        with self.assertRaises(AccessError):
            self.own.assignment_ids.with_user(self.agent1).unlink()

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_history_follows_ticket_rules(self):
        self.assertTrue(self.own.assignment_ids)
        self.assertFalse(
            self.env["vip.service.ticket.assignment"]
            .with_user(self.agent2)
            .search([("ticket_id", "=", self.hotline_ticket.id)])
        )
        self.assertTrue(
            self.env["vip.service.ticket.report"]
            .with_user(self.agent2)
            .search([("ticket_id", "=", self.own.id)])
        )
        self.assertFalse(
            self.env["vip.service.ticket.report"]
            .with_user(self.agent2)
            .search([("ticket_id", "=", self.hotline_ticket.id)])
        )

    def test_manager_sees_all(self):
        visible = self.Ticket.with_user(self.service_manager).search([])
        self.assertIn(self.own, visible)
        self.assertIn(self.hotline_ticket, visible)
        self.own.with_user(self.service_manager).unlink()

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_company_rule(self):
        self.service_manager.company_ids = [Command.link(self.other_company.id)]
        Ticket = self.Ticket.with_user(self.service_manager).with_context(
            allowed_company_ids=[self.company.id]
        )
        self.assertNotIn(self.foreign, Ticket.search([]))
        with self.assertRaises(AccessError):
            self.foreign.with_user(self.service_manager).with_context(
                allowed_company_ids=[self.company.id]
            ).read(["name"])
        self.assertIn(
            self.foreign,
            Ticket.with_context(
                allowed_company_ids=[self.company.id, self.other_company.id]
            ).search([]),
        )

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_portal_rules(self):
        Ticket = self.Ticket.with_user(self.portal_user)
        self.assertEqual(Ticket.search([]), self.own, "the tickets of their own company only")
        self.own.with_user(self.portal_user).read(["name", "stage_id"])
        with self.assertRaises(AccessError):
            self.hotline_ticket.with_user(self.portal_user).read(["name"])
        with self.assertRaises(AccessError):
            self.own.with_user(self.portal_user).write({"priority": "3"})
        with self.assertRaises(AccessError):
            self.env["vip.service.sla"].with_user(self.portal_user).search([])
        with self.assertRaises(AccessError):
            Ticket.create(
                {
                    "name": "For someone else",
                    "partner_id": self.other_customer.id,
                    "company_id": self.company.id,
                    "team_id": False,
                }
            )

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_plain_employee_has_no_access(self):
        with self.assertRaises(AccessError):
            self.Ticket.with_user(self.salesman).search([])
