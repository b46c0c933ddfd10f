from odoo.tests import tagged, warmup

from .common import VipLoyaltyCommon


@tagged("post_install", "-at_install")
class TestPerformance(VipLoyaltyCommon):
    def _queries(self, func):
        self.env.flush_all()
        before = self.env.cr.sql_log_count
        func()
        self.env.flush_all()
        return self.env.cr.sql_log_count - before

    def test_posting_adds_bounded_queries(self):
        """Posting an invoice with the program costs a fixed handful of queries more
        than without it, however long the customer's history."""
        partner = self._partner("Busy Customer", tier=self.tier_b)
        for _i in range(3):
            self._invoice(partner, 10)  # warm caches and give the customer a history
        self.program.active = False
        without = self._queries(self._invoice(partner, 100, post=False).action_post)
        self.program.active = True
        with_program = self._queries(self._invoice(partner, 100, post=False).action_post)
        self.assertLessEqual(with_program - without, 16, "queries added by earning points")
        for _i in range(20):
            self._invoice(partner, 10)
        again = self._queries(self._invoice(partner, 100, post=False).action_post)
        self.assertLessEqual(again, with_program + 2, "independent of the history length")

    @warmup
    def test_resync_is_cheap(self):
        invoice = self._invoice(self.customer, 100)
        self.env.invalidate_all()
        # program, the invoice's moves, invoice and customer fields: nothing recorded
        with self.assertQueryCount(6):
            moves = self.env["vip.loyalty.engine"]._sync_invoices(invoice)
        self.assertFalse(moves)

    @warmup
    def test_balance_read_does_not_scan_ledger(self):
        self.Engine._post_moves([
            {"name": "Bulk", "partner_id": self.customer.id, "company_id": self.company.id,
             "move_type": "adjust", "points": 1}
            for _i in range(200)
        ])
        self.env.invalidate_all()
        with self.assertQueryCount(3):
            self.assertEqual(self.customer.vip_loyalty_balance, 200)
        self.assertLedger(self.customer)
