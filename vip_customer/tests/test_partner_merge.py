from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import VipCustomerCommon


@tagged("post_install", "-at_install")
class TestPartnerMerge(VipCustomerCommon):
    """Contacts > Merge of duplicate VIP customers, by users who may merge
    contacts: the generic merge copies every field as the merging user, which
    the tier outcome and the engine's metrics refuse to all but VIP managers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.merging_manager = new_test_user(
            cls.env,
            login="vip_customer-merging-manager",
            groups="base.group_user,base.group_partner_manager,vip_customer.group_vip_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        Partner = cls.env["res.partner"]
        cls.kept = Partner.create(
            {
                "name": "Lotus Trading",
                "is_company": True,
                "email": "lotus@example.com",
                "user_id": cls.vip_user.id,
            }
        )
        cls.duplicate = Partner.create(
            {
                "name": "Lotus Trading Ltd",
                "is_company": True,
                "email": "lotus@example.com",
                "user_id": cls.vip_user.id,
            }
        )
        cls._invoice(cls.kept, 30000)
        cls._invoice(cls.duplicate, 30000)
        cls.Engine._recompute_partners(cls.kept | cls.duplicate)
        # a manager locked the duplicate at A
        cls.duplicate.with_user(cls.vip_manager).write(
            {"vip_tier_id": cls.tier_a.id, "vip_locked": True, "vip_lock_reason": "Key account"}
        )

    def _merge(self, user):
        wizard = (
            self.env["base.partner.merge.automatic.wizard"]
            .with_user(user)
            .create(
                {
                    "partner_ids": [Command.set((self.kept | self.duplicate).ids)],
                    "dst_partner_id": self.kept.id,
                }
            )
        )
        return wizard.action_merge()

    def test_fixture(self):
        self.assertEqual(self.kept.vip_tier_id, self.tier_c)
        self.assertEqual(self.kept.vip_spend, 30000)
        self.assertEqual(self.duplicate.vip_tier_id, self.tier_a)

    def test_contact_manager_merges_vip_customers(self):
        """A plain employee with contact rights merges; the customer kept is
        re-evaluated on both customers' invoices, the manager's lock is not
        carried over by them."""
        self.assertFalse(self.salesman.has_group("vip_customer.group_vip_user"))
        self.assertTrue(self._merge(self.salesman))
        self.assertFalse(self.duplicate.exists())
        self.assertEqual(self.kept.vip_spend, 60000)
        self.assertEqual(self.kept.vip_purchase_count, 2)
        self.assertEqual(self.kept.vip_tier_id, self.tier_b)
        self.assertEqual(self.kept.vip_company_id, self.company)
        self.assertFalse(self.kept.vip_locked)
        self.assertFalse(self.kept.vip_lock_reason)
        history = self.kept.vip_tier_history_ids
        self.assertEqual(history[:1].new_tier_id, self.tier_b)
        self.assertEqual(history[:1].reason, "rule")
        # the merge copies no engine date of the merged contacts: the customer kept
        # was evaluated after it (the merge was refused when it copied them, #13)
        self.assertGreater(self.kept.vip_eval_date, self.today)

    def test_customer_kept_joins_the_program_of_the_merged_one(self):
        """The customer kept was in no program: it gets the merged one's,
        set by the server, and its tier from the engine."""
        newcomer = self.env["res.partner"].create(
            {
                "name": "Lotus",
                "is_company": True,
                "email": "lotus@example.com",
                "user_id": self.vip_user.id,
            }
        )
        self.duplicate.with_user(self.vip_manager).action_vip_unlock()
        wizard = (
            self.env["base.partner.merge.automatic.wizard"]
            .with_user(self.salesman)
            .create(
                {
                    "partner_ids": [Command.set((newcomer | self.duplicate).ids)],
                    "dst_partner_id": newcomer.id,
                }
            )
        )
        since = self.duplicate.vip_tier_since
        history = self.duplicate.vip_tier_history_ids
        wizard.action_merge()
        self.assertFalse(self.duplicate.exists())
        self.assertEqual(newcomer.vip_company_id, self.company)
        self.assertEqual(newcomer.vip_spend, 30000)
        # the merged customer's tier A is kept (hostile report A2: it fell to C at
        # once, logged as a new customer): below A's retention, the usual grace
        self.assertEqual(newcomer.vip_tier_id, self.tier_a)
        self.assertEqual(newcomer.vip_tier_since, since)
        self.assertEqual(newcomer.vip_pending_tier_id, self.tier_c)
        self.assertTrue(newcomer.vip_downgrade_date)
        self.assertEqual(
            newcomer.vip_tier_history_ids,
            history,
            "the merged customer's history moved over; no new row (not logged as a new VIP)",
        )

    def test_vip_manager_merge_carries_the_lock(self):
        """A VIP manager's merge carries the tier they locked over, logged as theirs."""
        self.assertTrue(self._merge(self.merging_manager))
        self.assertFalse(self.duplicate.exists())
        self.assertEqual(self.kept.vip_tier_id, self.tier_a)
        self.assertTrue(self.kept.vip_locked)
        self.assertEqual(self.kept.vip_lock_reason, "Key account")
        self.assertEqual(self.kept.vip_spend, 60000)
        manual = self.kept.vip_tier_history_ids.filtered(
            lambda h: h.user_id == self.merging_manager
        )
        self.assertEqual(manual.mapped("new_tier_id"), self.tier_a)
        self.assertEqual(manual.reason, "manual")

    def test_protected_fields_still_refused_outside_the_merge(self):
        """The merge's context hides nothing from a direct write."""
        with self.assertRaises(AccessError):
            self.kept.with_user(self.salesman).with_context(vip_customer_merge=True).write(
                {"vip_locked": True}
            )
