from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import VipCustomerCommon


@tagged("post_install", "-at_install")
class TestSecurity(VipCustomerCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.with_user(cls.vip_manager).vip_tier_id = cls.tier_b
        cls.history = cls.customer.vip_tier_history_ids
        cls.portal_user = new_test_user(
            cls.env, login="vip_customer-portal", groups="base.group_portal"
        )

    def test_tiers(self):
        # everyone inside reads tiers (badges on every customer)...
        for user in (self.salesman, self.vip_user, self.vip_manager):
            self.assertEqual(self.tier_a.with_user(user).name, "A")
        # ...only managers configure them
        for user in (self.salesman, self.vip_user):
            with self.assertRaises(AccessError):
                self.Tier.with_user(user).create({"name": "X", "code": "X", "level": 7})
            with self.assertRaises(AccessError):
                self.tier_a.with_user(user).write({"min_spend": 1})
            with self.assertRaises(AccessError):
                self.tier_c.with_user(user).unlink()
        tier = self.Tier.with_user(self.vip_manager).create({"name": "X", "code": "X", "level": 7})
        tier.with_user(self.vip_manager).min_spend = 500000
        tier.with_user(self.vip_manager).unlink()

    def test_tier_history(self):
        with self.assertRaises(AccessError):
            self.history.with_user(self.salesman).read(["new_tier_id"])
        self.assertEqual(self.history.with_user(self.vip_user).new_tier_id, self.tier_b)
        for user in (self.vip_user, self.vip_manager):
            with self.assertRaises(AccessError):
                self.history.with_user(user).unlink()

    def test_care_and_interests(self):
        occasion = self.env["vip.care.occasion"].create(
            {
                "name": "Birthday",
                "occasion_type": "birthday",
                "mail_template_id": self.env.ref("vip_customer.mail_template_vip_birthday").id,
            }
        )
        self.assertEqual(occasion.with_user(self.vip_user).name, "Birthday")
        with self.assertRaises(AccessError):
            occasion.with_user(self.vip_user).write({"name": "Changed"})
        with self.assertRaises(AccessError):
            occasion.with_user(self.salesman).read(["name"])
        tag = self.env["vip.interest.tag"].with_user(self.vip_user).create({"name": "Falconry"})
        with self.assertRaises(AccessError):
            tag.with_user(self.vip_user).unlink()
        with self.assertRaises(AccessError):
            self.env["vip.interest.tag"].with_user(self.salesman).create({"name": "Tea"})

    def test_wizards_are_for_managers(self):
        for model in ("vip.tier.change", "vip.customer.import"):
            with self.assertRaises(AccessError):
                self.env[model].with_user(self.vip_user).create({})
        with self.assertRaises(AccessError):
            self.customer.with_user(self.vip_user).action_vip_change_tier()

    def test_recompute_all_is_for_managers(self):
        with self.assertRaises(AccessError):
            self.env["res.partner"].with_user(self.vip_user).action_vip_recompute_all()
        action = self.env["res.partner"].with_user(self.vip_manager).action_vip_recompute_all()
        self.assertEqual(action["tag"], "display_notification")

    def test_vip_user_recomputes_a_customer(self):
        self.customer.with_user(self.vip_manager).vip_tier_id = False
        self._invoice(self.customer, 60000, days_ago=2)
        self.customer.with_user(self.vip_user).action_vip_recompute()
        self.assertEqual(self.customer.vip_tier_id, self.tier_b)

    def test_pareto_report(self):
        self._invoice(self.customer, 60000, days_ago=2)
        self.recompute()
        report = self.env["vip.pareto.report"]
        self.assertTrue(
            report.with_user(self.vip_user).search([("partner_id", "=", self.customer.id)])
        )
        with self.assertRaises(AccessError):
            report.with_user(self.salesman).search([])

    def test_portal_sees_nothing_of_the_program(self):
        with self.assertRaises(AccessError):
            self.history.with_user(self.portal_user).read(["spend"])
        with self.assertRaises(AccessError):
            self.customer.with_user(self.portal_user).action_vip_recompute()
        with self.assertRaises(AccessError):
            self.customer.with_user(self.salesman).action_vip_recompute()

    def test_company_rules(self):
        other = self.setup_other_company(name="Other VIP Co")["company"]
        foreign_tier = self.Tier.create(
            {"name": "Z", "code": "Z", "level": 1, "company_id": other.id}
        )
        foreign_occasion = self.env["vip.care.occasion"].create(
            {
                "name": "Other birthday",
                "company_id": other.id,
                "mail_template_id": self.env.ref("vip_customer.mail_template_vip_birthday").id,
            }
        )
        for record in (foreign_tier, foreign_occasion):
            with self.assertRaises(AccessError):
                record.with_user(self.vip_manager).read(["name"])
        self.assertNotIn(foreign_tier, self.Tier.with_user(self.vip_manager).search([]))
        # a user of both companies sees both
        self.vip_manager.company_ids = [Command.link(other.id)]
        self.assertEqual(
            foreign_tier.with_user(self.vip_manager)
            .with_context(allowed_company_ids=[self.company.id, other.id])
            .name,
            "Z",
        )
