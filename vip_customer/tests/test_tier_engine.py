from datetime import timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from .common import VipCustomerCommon


@tagged("post_install", "-at_install")
class TestTierEngine(VipCustomerCommon):
    def _history(self, partner):
        return self.env["vip.tier.history"].search([("partner_id", "=", partner.id)], order="id")

    # ------------------------------------------------------------------
    # Entry rules and upgrades
    # ------------------------------------------------------------------
    def test_tiers_by_spend(self):
        big = self.env["res.partner"].create({"name": "Big Spender"})
        mid = self.env["res.partner"].create({"name": "Mid Spender"})
        small = self.env["res.partner"].create({"name": "Small Spender"})
        idle = self.env["res.partner"].create({"name": "Never bought"})
        self._invoice(big, 70000, days_ago=100)
        self._invoice(big, 40000, days_ago=10)
        self._invoice(mid, 60000, days_ago=30)
        self._invoice(small, 900, days_ago=5)
        self.recompute()
        self.assertEqual(big.vip_tier_id, self.tier_a)
        self.assertEqual(mid.vip_tier_id, self.tier_b)
        self.assertEqual(small.vip_tier_id, self.tier_c)
        self.assertFalse(idle.vip_tier_id)
        self.assertEqual(big.vip_spend, 110000)
        self.assertEqual(big.vip_purchase_count, 2)
        self.assertEqual(big.vip_avg_purchase, 55000)
        self.assertEqual(big.vip_first_purchase_date, self.today - timedelta(days=100))
        self.assertEqual(big.vip_last_purchase_date, self.today - timedelta(days=10))
        self.assertEqual(big.vip_tier_since, self.today)
        self.assertEqual(big.vip_company_id, self.company)

    def test_entry_needs_purchase_count_too(self):
        """A: 100k and at least two purchases. One big invoice gives B only."""
        self._invoice(self.customer, 150000, days_ago=20)
        self.recompute()
        self.assertEqual(self.customer.vip_tier_id, self.tier_b)

    def test_upgrade_is_immediate_and_logged(self):
        self._invoice(self.customer, 60000, days_ago=40)
        self.recompute()
        self.assertEqual(self.customer.vip_tier_id, self.tier_b)
        self._invoice(self.customer, 45000, days_ago=1)
        self.recompute()
        self.assertEqual(self.customer.vip_tier_id, self.tier_a)
        history = self._history(self.customer)
        self.assertEqual(history.mapped("direction"), ["new", "upgrade"])
        self.assertEqual(history[-1].old_tier_id, self.tier_b)
        self.assertEqual(history[-1].new_tier_id, self.tier_a)
        self.assertEqual(history[-1].reason, "rule")
        self.assertEqual(history[-1].spend, 105000)
        self.assertEqual(history[-1].purchase_count, 2)
        self.assertEqual(history[-1].window_months, 12)
        messages = self.customer.message_ids.filtered(lambda m: "VIP tier" in (m.body or ""))
        self.assertEqual(len(messages), 2, "each change is noted in the chatter")

    def test_window_excludes_old_purchases(self):
        self._invoice(self.customer, 60000, days_ago=400)
        self._invoice(self.customer, 100, days_ago=3)
        self.recompute()
        self.assertEqual(self.customer.vip_tier_id, self.tier_c)
        self.assertEqual(self.customer.vip_spend, 100)
        self.assertEqual(self.customer.vip_prev_spend, 60000)

    def test_future_dated_invoices_wait_for_their_date(self):
        self._invoice(self.customer, 60000, days_ago=-10)
        self.recompute()
        self.assertFalse(self.customer.vip_tier_id)
        later = self.today + timedelta(days=10)
        with freeze_time(later):
            self.recompute(today=later)
        self.assertEqual(self.customer.vip_tier_id, self.tier_b)

    def test_tier_with_its_own_window(self):
        self.tier_b.window_months = 24
        self._invoice(self.customer, 60000, days_ago=500)
        self.recompute()
        self.assertEqual(self.customer.vip_tier_id, self.tier_b, "B counts 24 months")
        self.assertEqual(
            self.customer.vip_spend, 0, "the customer's metrics use the 12-month window"
        )

    # ------------------------------------------------------------------
    # Downgrades: grace period and hysteresis
    # ------------------------------------------------------------------
    def _make_a_customer_who_stopped_buying(self):
        # 120k over two invoices ten months ago: A today, below A's 80k
        # retention once they leave the window.
        self._invoice(self.customer, 60000, days_ago=300)
        self._invoice(self.customer, 60000, days_ago=290)
        self._invoice(self.customer, 45000, days_ago=50)
        self.recompute()
        self.assertEqual(self.customer.vip_tier_id, self.tier_a)

    def test_downgrade_waits_for_grace_period(self):
        self._make_a_customer_who_stopped_buying()
        in_four_months = self.today + timedelta(days=120)
        with freeze_time(in_four_months):
            self.recompute(today=in_four_months)
            self.assertEqual(
                self.customer.vip_tier_id, self.tier_a, "still A during the grace period"
            )
            self.assertEqual(self.customer.vip_pending_tier_id, self.tier_b)
            self.assertEqual(self.customer.vip_downgrade_date, in_four_months + timedelta(days=30))
        later = in_four_months + timedelta(days=15)
        with freeze_time(later):
            self.recompute(today=later)
            self.assertEqual(self.customer.vip_tier_id, self.tier_a)
            self.assertEqual(
                self.customer.vip_downgrade_date,
                in_four_months + timedelta(days=30),
                "the grace period does not restart",
            )
        end = in_four_months + timedelta(days=30)
        with freeze_time(end):
            self.recompute(today=end)
            self.assertEqual(self.customer.vip_tier_id, self.tier_b)
            self.assertFalse(self.customer.vip_pending_tier_id)
            self.assertFalse(self.customer.vip_downgrade_date)
            last = self._history(self.customer)[-1]
            self.assertEqual(last.direction, "downgrade")
            self.assertEqual((last.old_tier_id, last.new_tier_id), (self.tier_a, self.tier_b))

    def test_recovery_during_grace_cancels_downgrade(self):
        self._make_a_customer_who_stopped_buying()
        in_four_months = self.today + timedelta(days=120)
        with freeze_time(in_four_months):
            self.recompute(today=in_four_months)
            self.assertTrue(self.customer.vip_downgrade_date)
            self._invoice(self.customer, 50000, days_ago=-120)  # bought again "today"
            self.recompute(today=in_four_months)
            self.assertEqual(self.customer.vip_tier_id, self.tier_a)
            self.assertFalse(self.customer.vip_downgrade_date)

    def test_hysteresis_keeps_tier_above_retention(self):
        self._invoice(self.customer, 60000, days_ago=200)
        self._invoice(self.customer, 50000, days_ago=100)
        self.recompute()
        self.assertEqual(self.customer.vip_tier_id, self.tier_a)
        # a 25k refund: 85k is below A's entry (100k) but above its retention (80k)
        self._invoice(self.customer, 25000, days_ago=1, move_type="out_refund")
        self.recompute()
        self.assertEqual(self.customer.vip_tier_id, self.tier_a)
        self.assertFalse(self.customer.vip_downgrade_date)
        self.assertEqual(self.customer.vip_spend, 85000)

    def test_zero_grace_downgrades_at_once(self):
        self.tier_a.grace_days = 0
        self._invoice(self.customer, 60000, days_ago=200)
        self._invoice(self.customer, 50000, days_ago=100)
        self.recompute()
        self._invoice(self.customer, 50000, days_ago=1, move_type="out_refund")
        self.recompute()
        self.assertEqual(self.customer.vip_tier_id, self.tier_b)

    # ------------------------------------------------------------------
    # Locks, refunds, contacts, currencies
    # ------------------------------------------------------------------
    def test_locked_customer_is_left_alone(self):
        self.customer.with_user(self.vip_manager).write(
            {
                "vip_tier_id": self.tier_c.id,
                "vip_locked": True,
                "vip_lock_reason": "Contract",
            }
        )
        self._invoice(self.customer, 90000, days_ago=10)
        self._invoice(self.customer, 90000, days_ago=5)
        self.recompute()
        self.assertEqual(self.customer.vip_tier_id, self.tier_c)
        self.assertEqual(self.customer.vip_spend, 180000, "metrics still follow purchases")

    def test_expired_lock_is_lifted(self):
        self.customer.with_user(self.vip_manager).write(
            {
                "vip_tier_id": self.tier_c.id,
                "vip_locked": True,
                "vip_lock_until": self.today + timedelta(days=1),
            }
        )
        # two days later (a lock end in the past is refused to people)
        self.customer.sudo().write({"vip_lock_until": self.today - timedelta(days=1)})
        self._invoice(self.customer, 60000, days_ago=5)
        self.recompute()
        self.assertFalse(self.customer.vip_locked)
        self.assertEqual(self.customer.vip_tier_id, self.tier_b)

    def test_refunds_reduce_spend_but_not_purchases(self):
        self._invoice(self.customer, 120000, days_ago=30)
        self._invoice(self.customer, 10000, days_ago=20)
        self._invoice(self.customer, 30000, days_ago=10, move_type="out_refund")
        self.recompute()
        self.assertEqual(self.customer.vip_spend, 100000)
        self.assertEqual(self.customer.vip_purchase_count, 2)
        self.assertEqual(self.customer.vip_tier_id, self.tier_a)

    def test_fully_reversed_invoice_is_no_purchase(self):
        move = self._invoice(self.customer, 60000, days_ago=10)
        move._reverse_moves(cancel=True)
        self.assertEqual(move.payment_state, "reversed")
        self.recompute()
        self.assertEqual(self.customer.vip_spend, 0)
        self.assertEqual(self.customer.vip_purchase_count, 0)
        self.assertFalse(self.customer.vip_tier_id)

    def test_draft_and_cancelled_invoices_do_not_count(self):
        self._invoice(self.customer, 60000, days_ago=10, post=False)
        cancelled = self._invoice(self.customer, 60000, days_ago=10)
        cancelled.button_draft()
        cancelled.button_cancel()
        self.recompute()
        self.assertFalse(self.customer.vip_tier_id)

    def test_contacts_roll_up_to_their_company(self):
        buyer = self.env["res.partner"].create({"name": "Mr. Wang", "parent_id": self.customer.id})
        self._invoice(buyer, 60000, days_ago=15)
        self.recompute()
        self.assertEqual(self.customer.vip_tier_id, self.tier_b)
        self.assertEqual(self.customer.vip_spend, 60000)
        self.assertEqual(buyer.vip_tier_id, self.tier_b, "contacts show their company's tier")
        self.assertFalse(buyer.vip_spend, "metrics live on the company")
        newcomer = self.env["res.partner"].create({"name": "Ms. Li", "parent_id": self.customer.id})
        self.assertEqual(newcomer.vip_tier_id, self.tier_b)

    def test_foreign_currency_counts_in_company_currency(self):
        eur = self.setup_other_currency("EUR")  # 2 EUR for 1 company currency unit
        self._invoice(self.customer, 120000, days_ago=10, currency=eur)
        self.recompute()
        self.assertEqual(self.customer.vip_spend, 60000)
        self.assertEqual(self.customer.vip_tier_id, self.tier_b)

    def test_total_basis_counts_taxes(self):
        tax = self.env["account.tax"].create(
            {"name": "VAT 25", "amount": 25, "type_tax_use": "sale"}
        )
        move = self._invoice(self.customer, 45000, days_ago=3, post=False)
        move.invoice_line_ids.tax_ids = [Command.set(tax.ids)]
        move.action_post()
        self.recompute()
        self.assertEqual(self.customer.vip_tier_id, self.tier_c)
        self.company.vip_spend_basis = "total"
        self.recompute()
        self.assertEqual(self.customer.vip_spend, 56250)
        self.assertEqual(self.customer.vip_tier_id, self.tier_b)

    # ------------------------------------------------------------------
    # Idempotence, pricelists, account managers
    # ------------------------------------------------------------------
    def test_second_run_changes_nothing(self):
        partners = self.env["res.partner"].create([{"name": f"Customer {i}"} for i in range(5)])
        for i, partner in enumerate(partners):
            self._invoice(partner, 30000 * (i + 1), days_ago=10 + i)
        first = self.recompute()
        self.assertEqual(first["changed"], 5)
        history_count = self.env["vip.tier.history"].search_count([])
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT id, write_date FROM res_partner WHERE id = ANY(%s)", [partners.ids]
        )
        before = dict(self.env.cr.fetchall())
        second = self.recompute()
        self.assertEqual(second["changed"], 0)
        self.assertEqual(self.env["vip.tier.history"].search_count([]), history_count)
        self.env.cr.execute(
            "SELECT id, write_date FROM res_partner WHERE id = ANY(%s)", [partners.ids]
        )
        self.assertEqual(
            dict(self.env.cr.fetchall()), before, "unchanged customers are not written"
        )

    def test_batches(self):
        partners = self.env["res.partner"].create([{"name": f"Batch {i}"} for i in range(7)])
        for partner in partners:
            self._invoice(partner, 60000, days_ago=3)
        result = self.recompute(batch_size=3)
        self.assertEqual(result["changed"], 7)
        self.assertEqual(set(partners.mapped("vip_tier_id")), {self.tier_b})

    def test_tier_pricelist_follows_the_tier(self):
        gold_prices = self.env["product.pricelist"].create({"name": "Gold prices"})
        self.tier_b.pricelist_id = gold_prices
        self._invoice(self.customer, 60000, days_ago=3)
        self.recompute()
        customer = self.customer.with_company(self.company)
        self.assertEqual(customer.specific_property_product_pricelist, gold_prices)
        self.assertEqual(customer.property_product_pricelist, gold_prices)
        self.tier_b.grace_days = 0
        self._invoice(self.customer, 59500, days_ago=1, move_type="out_refund")
        self.recompute()
        self.assertEqual(self.customer.vip_tier_id, self.tier_c)
        self.assertFalse(
            customer.specific_property_product_pricelist,
            "leaving the tier gives the default pricelist back",
        )

    def test_required_account_manager_defaults_to_salesperson(self):
        self.customer.user_id = self.vip_manager
        self.customer.vip_account_manager_id = False
        self._invoice(self.customer, 60000, days_ago=30)
        self._invoice(self.customer, 60000, days_ago=3)
        self.recompute()
        self.assertEqual(self.customer.vip_tier_id, self.tier_a)
        self.assertEqual(self.customer.vip_account_manager_id, self.vip_manager)

    def test_required_account_manager_needs_vip_access(self):
        """A salesperson without VIP access cannot be account manager: the
        nightly run leaves the customer under "Needs Account Manager"."""
        self.customer.user_id = self.salesman
        self.customer.vip_account_manager_id = False
        self._invoice(self.customer, 60000, days_ago=30)
        self._invoice(self.customer, 60000, days_ago=3)
        self.recompute()
        self.assertEqual(self.customer.vip_tier_id, self.tier_a)
        self.assertFalse(self.customer.vip_account_manager_id)

    # ------------------------------------------------------------------
    # Churn risk
    # ------------------------------------------------------------------
    def test_churn_components_and_one_activity_per_episode(self):
        # bought every month in the previous window, once in this one, ten months ago
        for month in range(13, 25):
            self._invoice(self.customer, 5000, days_ago=month * 30 - 10)
        self._invoice(self.customer, 5000, days_ago=300)
        self.recompute()
        customer = self.customer
        self.assertEqual(customer.vip_churn_recency_score, 100)
        self.assertGreater(customer.vip_churn_frequency_score, 50)
        self.assertGreater(customer.vip_churn_spend_score, 50)
        self.assertEqual(customer.vip_churn_level, "high")
        self.assertEqual(customer.vip_churn_high_since, self.today)
        retention = self.env.ref("vip_customer.mail_activity_type_vip_retention")
        activities = customer.activity_ids.filtered(lambda a: a.activity_type_id == retention)
        self.assertEqual(len(activities), 1)
        self.assertEqual(activities.user_id, self.vip_user, "for the account manager")
        self.recompute()
        activities = customer.activity_ids.filtered(lambda a: a.activity_type_id == retention)
        self.assertEqual(len(activities), 1, "one activity per episode")

    def test_regular_customer_is_low_risk(self):
        for month in range(0, 24):
            self._invoice(self.customer, 5000, days_ago=month * 30 + 2)
        self.recompute()
        self.assertEqual(self.customer.vip_churn_level, "low")
        self.assertEqual(self.customer.vip_churn_recency_score, 0)
        self.assertEqual(self.customer.vip_churn_frequency_score, 0)
