from odoo.tests import tagged, warmup

from .common import VipCustomerCommon


@tagged("post_install", "-at_install")
class TestPerformance(VipCustomerCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._invoice(cls.customer, 60000, days_ago=40)
        cls._invoice(cls.customer, 50000, days_ago=4)

    @warmup
    def test_single_customer_recompute_queries(self):
        """Re-evaluating one customer costs a bounded number of queries
        whatever the size of the customer base (one aggregate, one update,
        the tier change through write() with the commercial sync to the
        contacts, its history row and its note through mail's API)."""
        # measure this add-on's engine: other add-ons' churn signals add their own query
        engine_cls = type(self.env["vip.tier.engine"])
        self.patch(engine_cls, "_get_churn_signals", lambda engine, company, ids: {})
        self.env.invalidate_all()
        with self.assertQueryCount(16):
            self.Engine.sudo()._recompute(self.company, partner_ids=self.customer.ids)
        self.assertEqual(self.customer.vip_tier_id, self.tier_a)
        # nothing changed: the aggregate and nothing else
        self.env.invalidate_all()
        with self.assertQueryCount(5):
            self.Engine.sudo()._recompute(self.company, partner_ids=self.customer.ids)

    @warmup
    def test_partner_form_queries(self):
        self.customer.with_user(self.vip_manager).vip_tier_id = self.tier_a
        self.env.invalidate_all()
        partner = self.customer.with_user(self.vip_user)
        fields_to_read = [
            name
            for name, field in partner._fields.items()
            if name.startswith("vip_") and field._module == "vip_customer"
        ]
        with self.assertQueryCount(12):
            partner.read(fields_to_read)
