from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestUi(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="vip_customer-tour-manager",
            groups="base.group_user,vip_customer.group_vip_manager",
        )
        cls.tier = cls.env["vip.tier"].create(
            {"name": "Diamond Circle", "code": "DC", "level": 99, "min_spend": 10000000}
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Tour Customer Ltd", "is_company": True, "email": "tour@example.com"}
        )

    def test_manager_changes_a_tier_in_the_browser(self):
        self.start_tour(
            f"/odoo/action-vip_customer.res_partner_vip_action/{self.customer.id}",
            "vip_customer_change_tier_tour",
            login=self.manager.login,
        )
        self.customer.invalidate_recordset()
        self.assertEqual(self.customer.vip_tier_id, self.tier)
        self.assertTrue(self.customer.vip_locked)
        self.assertEqual(self.customer.vip_lock_reason, "Strategic account")
        history = self.customer.vip_tier_history_ids
        self.assertEqual((history.reason, history.note), ("manual", "Strategic account"))
        self.assertEqual(history.user_id, self.manager)
