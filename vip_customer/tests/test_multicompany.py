from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import VipCustomerCommon


@tagged("post_install", "-at_install")
class TestMultiCompany(VipCustomerCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_2 = cls.setup_other_company(name="VIP Subsidiary")["company"]
        cls.tier_2 = cls.env["vip.tier"].create(
            {
                "name": "Sub Gold",
                "code": "G",
                "level": 1,
                "company_id": cls.company_2.id,
                "min_spend": 10000,
                "min_purchase_count": 1,
            }
        )

    def test_each_company_counts_its_own_invoices(self):
        self._invoice(self.customer, 30000, days_ago=5)
        self._invoice(self.customer, 90000, days_ago=5, company=self.company_2)
        self.recompute()
        self.assertEqual(
            self.customer.vip_tier_id, self.tier_c, "company 2's invoices do not count"
        )
        self.assertEqual(self.customer.vip_spend, 30000)
        self.assertEqual(self.customer.vip_company_id, self.company)
        # the shared customer is in company 1's program: company 2 leaves it alone
        self.Engine._recompute(self.company_2)
        self.assertEqual(self.customer.vip_tier_id, self.tier_c)
        self.assertEqual(self.customer.vip_spend, 30000)

    def test_customer_of_another_company(self):
        local = self.env["res.partner"].create({"name": "Local", "company_id": self.company_2.id})
        self._invoice(local, 20000, days_ago=5, company=self.company_2)
        self.recompute()
        self.assertFalse(local.vip_tier_id, "company 1 does not evaluate company 2's customers")
        self.Engine._recompute(self.company_2)
        self.assertEqual(local.vip_tier_id, self.tier_2)
        history = local.vip_tier_history_ids
        self.assertEqual(history.company_id, self.company_2)

    def test_recompute_button_uses_the_program_company(self):
        local = self.env["res.partner"].create({"name": "Local", "company_id": self.company_2.id})
        self._invoice(local, 20000, days_ago=5, company=self.company_2)
        local.action_vip_recompute()
        self.assertEqual(local.vip_tier_id, self.tier_2)

    def test_tier_pricelist_must_match_company(self):
        pricelist = self.env["product.pricelist"].create(
            {"name": "Company 1 only", "company_id": self.company.id}
        )
        with self.assertRaises(UserError):
            self.tier_2.pricelist_id = pricelist

    def test_manager_cannot_push_records_into_another_company(self):
        """A company-1 manager moving or creating a tier / key-moment rule in company 2
        (not one of theirs) is refused with the field named; nothing moves."""
        tier = self.tier_c.with_user(self.vip_manager)
        with self.assertRaisesRegex(AccessError, "Company"):
            tier.write({"company_id": self.company_2.id})
        self.assertEqual(self.tier_c.company_id, self.company)
        with self.assertRaisesRegex(AccessError, "Company"):
            self.env["vip.tier"].with_user(self.vip_manager).create(
                {"name": "Pushed", "code": "P", "level": 9, "company_id": self.company_2.id}
            )
        rule = self.env["vip.moment.rule"].create(
            {"name": "Birthday", "company_id": self.company.id, "trigger_type": "birthday"}
        )
        with self.assertRaisesRegex(AccessError, "Company"):
            rule.with_user(self.vip_manager).write({"company_id": self.company_2.id})
        self.assertEqual(rule.company_id, self.company)
        # in their own company it works
        tier.write({"name": "C - Valued (renamed)"})
        self.assertEqual(self.tier_c.name, "C - Valued (renamed)")
