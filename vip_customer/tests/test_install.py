"""Uninstall and reinstall: the uninstall hook leaves nothing that blocks the
removal of the add-on's records, and the demo loader, run again after it, finds
the customers the uninstall kept instead of creating twins."""

from odoo.tests import TransactionCase, tagged

from odoo.addons.vip_customer.hooks import uninstall_hook

DEMO_CUSTOMERS = ("Golden Dragon Trading Co.", "Jade Garden Restaurants", "Phoenix Hotel Group")


@tagged("post_install", "-at_install")
class TestInstall(TransactionCase):
    def setUp(self):
        super().setUp()
        if not self.env.ref("vip_customer.res_partner_vip_golden_dragon", raise_if_not_found=False):
            self.skipTest("needs the demo data")
        self.Partner = self.env["res.partner"].with_context(active_test=False)

    def _count(self, name):
        return self.Partner.search_count([("name", "=", name)])

    def test_uninstall_hook_unblocks_the_removal_of_tiers_and_activity_types(self):
        tiers = self.env["vip.tier"].with_context(active_test=False).search([])
        self.assertTrue(self.env["vip.tier.history"].search_count([]))
        activity_types = self.env["mail.activity.type"].search(
            [("id", "in", [self.env.ref("vip_customer.mail_activity_type_vip_followup").id])]
        )
        uninstall_hook(self.env)
        self.assertFalse(self.env["vip.tier.history"].search_count([]))
        self.assertFalse(self.Partner.search_count([("vip_tier_id", "!=", False)]))
        self.assertFalse(
            self.env["mail.activity"].search_count([("activity_type_id", "in", activity_types.ids)])
        )
        # what Odoo deletes next is referenced no more
        activity_types.unlink()
        self.assertFalse(self.Partner.search_count([("vip_pending_tier_id", "in", tiers.ids)]))
        # the demo customers stay, with their invoices, as ordinary contacts
        golden = self.Partner.search([("name", "=", DEMO_CUSTOMERS[0])])
        self.assertTrue(golden)
        self.assertFalse(
            self.env.ref("vip_customer.res_partner_vip_golden_dragon", raise_if_not_found=False)
        )

    def test_demo_loader_after_an_uninstall_creates_no_twins(self):
        invoices = self.env["account.move"].search_count([])
        uninstall_hook(self.env)
        self.env["vip.tier.engine"]._load_demo_data()
        for name in DEMO_CUSTOMERS:
            self.assertEqual(self._count(name), 1, name)
        self.assertEqual(self.env["account.move"].search_count([]), invoices)
        golden = self.env.ref("vip_customer.res_partner_vip_golden_dragon")
        self.assertEqual(golden.name, DEMO_CUSTOMERS[0])
        self.assertTrue(golden.vip_tier_id, "evaluated again from its kept invoices")
        self.assertEqual(golden.vip_preferred_channel, "visit")

    def test_demo_loader_runs_once(self):
        partners = self.Partner.search_count([])
        self.env["vip.tier.engine"]._load_demo_data()
        self.assertEqual(self.Partner.search_count([]), partners)
