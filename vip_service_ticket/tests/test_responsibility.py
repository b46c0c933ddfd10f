from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import VipServiceTicketCommon


@tagged("post_install", "-at_install")
class TestResponsibility(VipServiceTicketCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Responsibility = cls.env["vip.service.responsibility"]
        cls.logistics = cls.Responsibility.create(
            {"name": "Logistics", "kind": "department", "company_id": cls.company.id}
        )
        cls.other_company = cls.env["res.company"].create({"name": "VIP Loop Other Co"})
        cls.foreign = cls.Responsibility.create(
            {"name": "Shanghai Warehouse", "company_id": cls.other_company.id}
        )

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_users_read_managers_keep_the_list(self):
        mine = self.logistics.with_user(self.agent1)
        self.assertEqual(mine.name, "Logistics")
        self.assertIn(self.logistics, self.Responsibility.with_user(self.agent1).search([]))
        with self.assertRaises(AccessError):
            mine.write({"name": "Transport"})
        with self.assertRaises(AccessError):
            self.Responsibility.with_user(self.agent1).create({"name": "Me"})
        with self.assertRaises(AccessError):
            mine.unlink()
        with self.assertRaises(AccessError):
            self.logistics.with_user(self.salesman).read(["name"])
        managed = self.Responsibility.with_user(self.service_manager)
        person = managed.create({"name": "Ms. Li", "kind": "person", "user_id": self.agent2.id})
        person.write({"active": False})
        self.assertFalse(person.active)
        person.unlink()

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_company_rule(self):
        self.service_manager.company_ids = [Command.link(self.other_company.id)]
        Responsibility = self.Responsibility.with_user(self.service_manager).with_context(
            allowed_company_ids=[self.company.id]
        )
        visible = Responsibility.search([])
        self.assertIn(self.logistics, visible)
        self.assertNotIn(self.foreign, visible)
        with self.assertRaises(AccessError):
            self.foreign.with_user(self.service_manager).with_context(
                allowed_company_ids=[self.company.id]
            ).read(["name"])
        shared = self.Responsibility.create({"name": "Head Office", "company_id": False})
        self.assertIn(shared, Responsibility.search([]), "shared by every company")

    def test_ticket_takes_a_responsibility_of_its_company(self):
        complaint = self.create_ticket(category_id=self.cat_complaint.id)
        with self.assertRaisesRegex(UserError, "compan"):
            complaint.responsibility_id = self.foreign

    def test_name_is_translatable(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.logistics.update_field_translations("name", {"zh_CN": "物流部"})
        self.assertEqual(self.logistics.with_context(lang="zh_CN").name, "物流部")
        self.assertEqual(self.logistics.with_context(lang="en_US").name, "Logistics")

    def test_ticket_count(self):
        complaint = self.create_ticket(category_id=self.cat_complaint.id)
        complaint.responsibility_id = self.logistics
        self.assertEqual(self.logistics.ticket_count, 1)
