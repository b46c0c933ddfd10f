from odoo import Command
from odoo.tests import tagged

from .common import VipLoyaltyCommon


@tagged("post_install", "-at_install")
class TestPartnerMerge(VipLoyaltyCommon):
    """Contacts > Merge of duplicates that both hold points in the same company:
    one account per customer and company, so the points of the merged one go to
    the account of the customer kept, none lost."""

    def _merge(self, partners, kept):
        wizard = (
            self.env["base.partner.merge.automatic.wizard"]
            .with_user(self.salesman)
            .create({"partner_ids": [Command.set(partners.ids)], "dst_partner_id": kept.id})
        )
        return wizard.action_merge()

    def test_merge_adds_the_points_of_the_duplicate(self):
        kept = self._partner("Lotus Trading", email="lotus@example.com")
        duplicate = self._partner("Lotus Trading Ltd", email="lotus@example.com")
        self._give(kept, 300)
        self._give(duplicate, 200)
        self._give(duplicate, -50)
        self._merge(kept | duplicate, kept)
        self.assertFalse(duplicate.exists())
        self.assertEqual(self.balance(kept), 450)
        accounts = self.env["vip.loyalty.account"].sudo().search([("partner_id", "=", kept.id)])
        self.assertEqual(len(accounts), 1)
        self.assertEqual(len(accounts.move_ids), 3)
        self.assertEqual(set(accounts.move_ids.partner_id.ids), {kept.id})
        self.assertLedger(kept)

    def test_merge_of_two_accounts_into_a_customer_without_one(self):
        kept = self._partner("Lotus", email="lotus@example.com")
        first = self._partner("Lotus Trading", email="lotus@example.com")
        second = self._partner("Lotus Trading Ltd", email="lotus@example.com")
        self._give(first, 120)
        self._give(second, 80)
        self._merge(kept | first | second, kept)
        self.assertFalse((first | second).exists())
        self.assertEqual(self.balance(kept), 200)
        self.assertLedger(kept)
