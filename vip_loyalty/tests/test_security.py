from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import VipLoyaltyCommon


@tagged("post_install", "-at_install")
class TestSecurity(VipLoyaltyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_2 = cls.setup_other_company()["company"]
        cls.env["vip.loyalty.program"].create({"company_id": cls.company_2.id})
        cls.reward = cls.env["vip.loyalty.reward"].create({"name": "Gift", "points_cost": 10})
        cls._give(cls.customer, 100)
        cls.move = cls.env["vip.loyalty.move"].search([("partner_id", "=", cls.customer.id)])
        cls.account = cls.move.account_id
        cls.other_move = cls._give(cls.customer, 50, company=cls.company_2)
        cls.benefit = cls.env["vip.benefit"].create({
            "name": "Parking", "quota_ids": [(0, 0, {"tier_id": cls.tier_c.id, "quota": 5})],
        })

    def test_salesman_without_loyalty_group_sees_no_points(self):
        for model in ("vip.loyalty.move", "vip.loyalty.account", "vip.loyalty.redemption",
                      "vip.loyalty.reward", "vip.loyalty.program", "vip.benefit.usage"):
            with self.assertRaises(AccessError, msg=model):
                self.env[model].with_user(self.salesman).search([])
        with self.assertRaises(AccessError):
            self.customer.with_user(self.salesman).read(["vip_loyalty_balance"])

    def test_loyalty_user_reads_but_cannot_configure(self):
        user = self.loyalty_user
        self.assertEqual(self.customer.with_user(user).vip_loyalty_balance, 100)
        self.assertTrue(self.move.with_user(user).read(["points"]))
        with self.assertRaises(AccessError):
            self.env["vip.loyalty.reward"].with_user(user).create({"name": "X", "points_cost": 1})
        with self.assertRaises(AccessError):
            self.program.with_user(user).write({"points_per_unit": 10})
        with self.assertRaises(AccessError):
            self.benefit.with_user(user).write({"name": "Valet"})
        with self.assertRaises(AccessError):
            self.env["vip.loyalty.adjust"].with_user(user).create(
                {"partner_id": self.customer.id, "points": 10, "reason": "x"}
            )
        with self.assertRaises(AccessError):
            self.env["vip.loyalty.import"].with_user(user).create({})
        usage = self.env["vip.benefit.usage"].with_user(user).create(
            {"partner_id": self.customer.id, "benefit_id": self.benefit.id}
        )
        with self.assertRaises(AccessError):
            usage.unlink()

    def test_ledger_not_writable_even_for_managers(self):
        with self.assertRaises(UserError):  # AccessError or "append-only"
            self.move.with_user(self.loyalty_manager).write({"points": 1})
        with self.assertRaises(AccessError):
            self.move.with_user(self.loyalty_manager).unlink()
        with self.assertRaises(AccessError):
            self.account.with_user(self.loyalty_manager).write({"balance": 1})
        with self.assertRaises(AccessError):
            self.move.allocation_ids.with_user(self.loyalty_manager).create(
                {"move_id": self.move.id, "lot_id": self.move.id, "points": 1,
                 "company_id": self.company.id}
            )

    def test_redemption_rules(self):
        draft = self._redemption(self.customer, self.reward).with_user(self.loyalty_user)
        draft.note = "Ribbon"
        with self.assertRaises(AccessError):
            draft.action_confirm()
        draft.with_user(self.loyalty_manager).action_confirm()
        with self.assertRaises(AccessError):
            draft.write({"note": "changed after confirmation"})
        with self.assertRaises(AccessError):
            draft.unlink()
        with self.assertRaises(AccessError):
            draft.action_cancel()
        draft.with_user(self.loyalty_manager).write({"note": "Delivered"})

    def test_company_rules(self):
        user = self.loyalty_manager  # allowed in the first company only
        for record in (self.other_move, self.other_move.account_id):
            with self.assertRaises(AccessError, msg=record._name):
                record.with_user(user).read(["company_id"])
        program_2 = self.env["vip.loyalty.program"].search([("company_id", "=", self.company_2.id)])
        with self.assertRaises(AccessError):
            program_2.with_user(user).read(["name"])
        reward_2 = self.env["vip.loyalty.reward"].create(
            {"name": "Other", "points_cost": 1, "company_id": self.company_2.id}
        )
        with self.assertRaises(AccessError):
            reward_2.with_user(user).read(["name"])
        benefit_2 = self.env["vip.benefit"].create({"name": "B2", "company_id": self.company_2.id})
        with self.assertRaises(AccessError):
            benefit_2.with_user(user).read(["name"])
        redemption_2 = self.env["vip.loyalty.redemption"].with_company(self.company_2).create(
            {"partner_id": self.customer.id, "reward_id": reward_2.id}
        )
        with self.assertRaises(AccessError):
            redemption_2.with_user(user).read(["name"])
        self.assertEqual(self.customer.with_user(user).vip_loyalty_balance, 100)
        both = new_test_user(
            self.env, login="vip_loyalty-both",
            groups="base.group_user,vip_loyalty.group_vip_loyalty_user",
            company_id=self.company.id,
            company_ids=[Command.set((self.company | self.company_2).ids)],
        )
        self.assertEqual(
            self.customer.with_user(both).with_company(self.company_2).vip_loyalty_balance, 50
        )

    def test_manager_group_implies(self):
        self.assertTrue(self.loyalty_manager.has_group("vip_loyalty.group_vip_loyalty_user"))
        self.assertTrue(self.loyalty_user.has_group("vip_customer.group_vip_user"))
        self.assertTrue(
            self.env.ref("base.user_admin").has_group("vip_loyalty.group_vip_loyalty_manager")
        )
