"""Uninstall and reinstall of vip_loyalty on a demo database: the demo loader,
run again after the uninstall hook, finds the kept demo customers, gives them
their demo tier again and loads its history without an error or a twin."""

from odoo.tests import TransactionCase, tagged

from odoo.addons.vip_loyalty.hooks import uninstall_hook

DEMO_CUSTOMERS = ("Jade Emperor Holdings", "Lotus Garden Tea House", "Pearl River Outfitters")


@tagged("post_install", "-at_install")
class TestReinstall(TransactionCase):
    def setUp(self):
        super().setUp()
        if not self.env.ref("vip_loyalty.res_partner_demo_jade", raise_if_not_found=False):
            self.skipTest("needs the demo data")
        self.Partner = self.env["res.partner"].with_context(active_test=False)

    def _uninstall(self):
        """The hook, then what Odoo's uninstall removes with the add-on's tables:
        the demo award (its row is gone with vip_loyalty_backfill)."""
        uninstall_hook(self.env)
        self.env["ir.model.data"].search(
            [("module", "=", "vip_loyalty"), ("name", "=", "vip_loyalty_backfill_demo")]
        ).unlink()
        self.env.invalidate_all()

    def test_reinstall_gives_the_kept_customers_their_demo_tier_again(self):
        jade = self.env.ref("vip_loyalty.res_partner_demo_jade")
        tier_a = self.env.ref("vip_customer.vip_tier_demo_a")
        tier_c = self.env.ref("vip_customer.vip_tier_demo_c")
        invoices = self.env["account.move"].search_count([])
        self._uninstall()
        # while the add-on was away, the customer went down to tier C (no Free Parking)
        jade.write({"vip_tier_id": tier_c.id})
        self.env["vip.loyalty.program"]._vip_loyalty_load_demo()
        self.assertEqual(self.env.ref("vip_loyalty.res_partner_demo_jade"), jade)
        self.assertEqual(jade.vip_tier_id, tier_a)
        parking = self.env.ref("vip_loyalty.vip_benefit_demo_parking")
        self.assertEqual(
            self.env["vip.benefit.usage"].search_count(
                [("partner_id", "=", jade.id), ("benefit_id", "=", parking.id)]
            ),
            1,
        )
        for name in DEMO_CUSTOMERS:
            self.assertEqual(self.Partner.search_count([("name", "=", name)]), 1, name)
        self.assertEqual(self.env["account.move"].search_count([]), invoices)
        self.assertGreater(jade.vip_loyalty_balance, 0, "the kept invoices earn again")
