"""Who may do what, one test per rule, each with the user it denies.

=========================  ========  ==============  ===============  ===========  =============
model                      portal    internal user   loyalty user     loyalty      other company
                                     (no group)                       manager
=========================  ========  ==============  ===============  ===========  =============
vip.loyalty.program        -         -               read             all          -
vip.loyalty.account        own read  -               read             read         -
vip.loyalty.move (ledger)  own read  -               read             read         -
vip.loyalty.move.alloc.    -         -               read             read         -
vip.loyalty.reward         read      -               read             all          -
vip.loyalty.redemption     -         -               drafts (no       all, buttons -
                                                     state/points)
vip.benefit / .quota       -         -               read             all          -
vip.benefit.usage          -         -               read, create     all          -
vip.loyalty.adjust         -         -               -                all          -
vip.loyalty.import (+line) -         -               -                own uploads  -
vip.loyalty.statement      -         -               all              all          -
vip.loyalty.backfill       -         -               read             all          -
=========================  ========  ==============  ===============  ===========  =============

Ledger moves, allocations and accounts are written by ``vip.loyalty.engine`` only:
nobody creates, writes or deletes them over RPC, managers included.
"""

from dateutil.relativedelta import relativedelta

from odoo import Command, fields
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
        cls.manager_2 = new_test_user(
            cls.env, login="vip_loyalty-manager-c2",
            groups="base.group_user,vip_loyalty.group_vip_loyalty_manager",
            company_id=cls.company_2.id, company_ids=[Command.set(cls.company_2.ids)],
        )
        cls.portal_user = new_test_user(
            cls.env, login="vip_loyalty-sec-portal", groups="base.group_portal",
            partner_id=cls.env["res.partner"].create(
                {"name": "Buyer", "parent_id": cls.customer.id}
            ).id,
        )
        cls.backfill = cls.env["vip.loyalty.backfill"].create(
            {"date_from": cls.today - relativedelta(years=1)}
        )

    # ------------------------------------------------------------------
    # Plain internal user (no loyalty group): nothing
    # ------------------------------------------------------------------
    def test_internal_user_reads_no_loyalty_model(self):
        for model in ("vip.loyalty.move", "vip.loyalty.account", "vip.loyalty.redemption",
                      "vip.loyalty.reward", "vip.loyalty.program", "vip.benefit.usage",
                      "vip.loyalty.move.allocation", "vip.benefit", "vip.benefit.quota",
                      "vip.loyalty.backfill", "vip.loyalty.import", "vip.loyalty.statement"):
            with self.assertRaises(AccessError, msg=model):
                self.env[model].with_user(self.salesman).search([])

    def test_internal_user_reads_no_points_on_contacts(self):
        with self.assertRaises(AccessError):
            self.customer.with_user(self.salesman).read(["vip_loyalty_balance"])

    # ------------------------------------------------------------------
    # Program, rewards, benefits: managers configure, users read
    # ------------------------------------------------------------------
    def test_user_cannot_write_program(self):
        self.assertTrue(self.program.with_user(self.loyalty_user).read(["points_per_unit"]))
        with self.assertRaises(AccessError):
            self.program.with_user(self.loyalty_user).write({"points_per_unit": 10})

    def test_user_cannot_create_reward(self):
        with self.assertRaises(AccessError):
            self.env["vip.loyalty.reward"].with_user(self.loyalty_user).create(
                {"name": "X", "points_cost": 1}
            )

    def test_user_cannot_write_benefit_or_quota(self):
        with self.assertRaises(AccessError):
            self.benefit.with_user(self.loyalty_user).write({"name": "Valet"})
        with self.assertRaises(AccessError):
            self.benefit.quota_ids.with_user(self.loyalty_user).write({"quota": 50})

    def test_user_records_usage_but_cannot_delete_it(self):
        usage = self.env["vip.benefit.usage"].with_user(self.loyalty_user).create(
            {"partner_id": self.customer.id, "benefit_id": self.benefit.id}
        )
        with self.assertRaises(AccessError):
            usage.write({"quantity": 1})
        with self.assertRaises(AccessError):
            usage.unlink()

    # ------------------------------------------------------------------
    # The ledger: one entry point
    # ------------------------------------------------------------------
    def test_nobody_creates_moves_over_rpc(self):
        for user in (self.loyalty_user, self.loyalty_manager, self.portal_user):
            with self.assertRaises(AccessError, msg=user.login):
                self.env["vip.loyalty.move"].with_user(user).with_context(
                    vip_loyalty_engine=True
                ).create({
                    "name": "Gift to myself", "partner_id": self.customer.id,
                    "company_id": self.company.id, "account_id": self.account.id,
                    "move_type": "adjust", "points": 1000,
                })

    def test_nobody_writes_moves(self):
        for user in (self.loyalty_user, self.loyalty_manager):
            # refused by the append-only guard (a UserError) before the ACL (an AccessError)
            with self.assertRaises(UserError, msg=user.login):
                self.move.with_user(user).with_context(vip_loyalty_engine=True).write(
                    {"points": 1}
                )
        with self.assertRaises(UserError, msg="even as superuser, outside the engine"):
            self.move.sudo().write({"points": 1})

    def test_nobody_deletes_moves(self):
        for user in (self.loyalty_user, self.loyalty_manager):
            with self.assertRaises(AccessError, msg=user.login):
                self.move.with_user(user).unlink()
        with self.assertRaises(UserError):
            self.move.sudo().unlink()

    def test_nobody_writes_accounts_or_allocations(self):
        with self.assertRaises(AccessError):
            self.account.with_user(self.loyalty_manager).write({"balance": 1})
        with self.assertRaises(AccessError):
            self.env["vip.loyalty.account"].with_user(self.loyalty_manager).create(
                {"partner_id": self.salesman.partner_id.id, "company_id": self.company.id}
            )
        with self.assertRaises(AccessError):
            self.env["vip.loyalty.move.allocation"].with_user(self.loyalty_manager).create(
                {"move_id": self.move.id, "lot_id": self.move.id, "points": 1,
                 "company_id": self.company.id}
            )

    def test_user_reads_ledger(self):
        self.assertEqual(self.customer.with_user(self.loyalty_user).vip_loyalty_balance, 100)
        self.assertTrue(self.move.with_user(self.loyalty_user).read(["points", "description"]))

    # ------------------------------------------------------------------
    # Redemptions
    # ------------------------------------------------------------------
    def test_user_cannot_confirm_redemption(self):
        draft = self._redemption(self.customer, self.reward).with_user(self.loyalty_user)
        draft.note = "Ribbon"
        with self.assertRaises(AccessError):
            draft.action_confirm()

    def test_user_cannot_change_a_confirmed_redemption(self):
        redemption = self._redemption(self.customer, self.reward)
        redemption.with_user(self.loyalty_manager).action_confirm()
        as_user = redemption.with_user(self.loyalty_user)
        with self.assertRaises(AccessError):
            as_user.write({"note": "changed after confirmation"})
        with self.assertRaises(AccessError):
            as_user.unlink()
        with self.assertRaises(AccessError):
            as_user.action_cancel()
        redemption.with_user(self.loyalty_manager).write({"note": "Delivered"})

    def test_user_cannot_set_state_or_points_of_a_draft(self):
        draft = self._redemption(self.customer, self.reward).with_user(self.loyalty_user)
        with self.assertRaises(UserError):
            draft.write({"state": "done"})
        with self.assertRaises(UserError):
            draft.write({"points": 1})

    # ------------------------------------------------------------------
    # Wizards
    # ------------------------------------------------------------------
    def test_user_cannot_adjust_points(self):
        with self.assertRaises(AccessError):
            self.env["vip.loyalty.adjust"].with_user(self.loyalty_user).create(
                {"partner_id": self.customer.id, "points": 10, "reason": "x"}
            )

    def test_user_cannot_import_points(self):
        with self.assertRaises(AccessError):
            self.env["vip.loyalty.import"].with_user(self.loyalty_user).create({})

    def test_user_cannot_award_past_invoices(self):
        self.assertTrue(self.backfill.with_user(self.loyalty_user).read(["state"]))
        with self.assertRaises(AccessError):
            self.backfill.with_user(self.loyalty_user).write({"date_to": self.today})
        with self.assertRaises(AccessError):
            self.backfill.with_user(self.loyalty_user).action_start()

    # ------------------------------------------------------------------
    # Portal: own points only, nothing else
    # ------------------------------------------------------------------
    def test_portal_reads_own_points_only(self):
        other = self._partner("Someone Else")
        other_move = self._give(other, 10)
        moves = self.env["vip.loyalty.move"].with_user(self.portal_user).search([])
        self.assertEqual(moves.partner_id, self.customer)
        with self.assertRaises(AccessError):
            other_move.with_user(self.portal_user).read(["points"])
        with self.assertRaises(AccessError):
            other_move.account_id.with_user(self.portal_user).read(["balance"])

    def test_portal_reads_no_redemption_program_or_allocation(self):
        redemption = self._redemption(self.customer, self.reward)
        for record in (redemption, self.program, self.benefit, self.backfill):
            with self.assertRaises(AccessError, msg=record._name):
                record.with_user(self.portal_user).read(["company_id"])
        with self.assertRaises(AccessError):
            self.env["vip.loyalty.move.allocation"].with_user(self.portal_user).search([])

    def test_portal_cannot_write_rewards(self):
        with self.assertRaises(AccessError):
            self.reward.with_user(self.portal_user).write({"points_cost": 1})

    # ------------------------------------------------------------------
    # Other company
    # ------------------------------------------------------------------
    def test_other_company_ledger_hidden(self):
        user = self.loyalty_manager  # allowed in the first company only
        for record in (self.other_move, self.other_move.account_id):
            with self.assertRaises(AccessError, msg=record._name):
                record.with_user(user).read(["company_id"])

    def test_other_company_configuration_hidden(self):
        user = self.loyalty_manager
        program_2 = self.env["vip.loyalty.program"].search([("company_id", "=", self.company_2.id)])
        reward_2 = self.env["vip.loyalty.reward"].create(
            {"name": "Other", "points_cost": 1, "company_id": self.company_2.id}
        )
        benefit_2 = self.env["vip.benefit"].create({"name": "B2", "company_id": self.company_2.id})
        redemption_2 = self.env["vip.loyalty.redemption"].with_company(self.company_2).create(
            {"partner_id": self.customer.id, "reward_id": reward_2.id}
        )
        for record in (program_2, reward_2, benefit_2, redemption_2):
            with self.assertRaises(AccessError, msg=record._name):
                record.with_user(user).read(["company_id"])

    def test_other_company_backfill_hidden(self):
        with self.assertRaises(AccessError):
            self.backfill.with_user(self.manager_2).read(["state"])
        self.assertFalse(self.env["vip.loyalty.backfill"].with_user(self.manager_2).search([]))
        with self.assertRaises(AccessError):
            self.env["vip.loyalty.backfill"].with_user(self.loyalty_manager).create({
                "date_from": self.today - relativedelta(years=1), "company_id": self.company_2.id,
            })

    def test_balance_per_company(self):
        self.assertEqual(self.customer.with_user(self.loyalty_manager).vip_loyalty_balance, 100)
        both = new_test_user(
            self.env, login="vip_loyalty-both",
            groups="base.group_user,vip_loyalty.group_vip_loyalty_user",
            company_id=self.company.id,
            company_ids=[Command.set((self.company | self.company_2).ids)],
        )
        self.assertEqual(
            self.customer.with_user(both).with_company(self.company_2).vip_loyalty_balance, 50
        )

    # ------------------------------------------------------------------
    # Groups
    # ------------------------------------------------------------------
    def test_manager_group_implies(self):
        self.assertTrue(self.loyalty_manager.has_group("vip_loyalty.group_vip_loyalty_user"))
        self.assertTrue(self.loyalty_user.has_group("vip_customer.group_vip_user"))
        self.assertTrue(
            self.env.ref("base.user_admin").has_group("vip_loyalty.group_vip_loyalty_manager")
        )


@tagged("post_install", "-at_install")
class TestCompanyGuard(VipLoyaltyCommon):
    """A loyalty manager of company 1 only cannot push a reward, a program or a benefit
    into another company (out of their own reach)."""

    def test_records_stay_in_the_managers_companies(self):
        other = self.env["res.company"].create({"name": "VIP Loyalty Elsewhere"})
        reward = self.env["vip.loyalty.reward"].create(
            {"name": "Gift", "points_cost": 800, "company_id": self.company.id}
        )
        backfill = self.env["vip.loyalty.backfill"].create(
            {
                "date_from": fields.Date.today() - relativedelta(years=1),
                "company_id": self.company.id,
            }
        )
        for record in (reward, self.program, backfill):
            with self.subTest(model=record._name), self.assertRaisesRegex(AccessError, "Company"):
                record.with_user(self.loyalty_manager).write({"company_id": other.id})
            self.assertEqual(record.company_id, self.company)
        with self.assertRaisesRegex(AccessError, "Company"):
            self.env["vip.loyalty.reward"].with_user(self.loyalty_manager).create(
                {"name": "Pushed", "points_cost": 10, "company_id": other.id}
            )
        reward.with_user(self.loyalty_manager).write({"name": "Gift (renamed)"})
        self.assertEqual(reward.name, "Gift (renamed)")
