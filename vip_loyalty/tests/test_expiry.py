from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo.tests import tagged

from .common import VipLoyaltyCommon


@tagged("post_install", "-at_install")
class TestExpiry(VipLoyaltyCommon):
    def test_lapsed_lots_expire_what_remains(self):
        invoice = self._invoice(self.customer, 1000, days_ago=400)
        lot = invoice.vip_loyalty_move_ids
        self.assertEqual(lot.expiry_date, invoice.invoice_date + relativedelta(months=12))
        fresh = self._invoice(self.customer, 500).vip_loyalty_move_ids
        self._give(self.customer, -300)  # consumed from the old lot first (FIFO)
        self.assertEqual(lot.remaining_points, 700)
        self.assertGreaterEqual(self.Engine._expire_lots(batch_size=1), 1)
        self.assertEqual(lot.remaining_points, 0)
        self.assertTrue(lot.expired)
        self.assertEqual(fresh.remaining_points, 500, "a valid lot is untouched")
        expiry = self.Move.search(
            [("move_type", "=", "expire"), ("partner_id", "=", self.customer.id)]
        )
        self.assertEqual(expiry.points, -700)
        self.assertEqual(expiry.reversed_move_id, lot)
        self.assertEqual(expiry.allocation_ids.lot_id, lot)
        self.assertEqual(self.balance(self.customer), 500)
        # nothing left to expire: a second run changes nothing
        self.Engine._expire_lots()
        self.assertEqual(self.balance(self.customer), 500)
        self.assertLedger(self.customer)

    def test_expiry_on_the_expiry_date_in_batches(self):
        partners = [self._partner(f"Batch {i}") for i in range(3)]
        for partner in partners:
            self._invoice(partner, 100)
        self.Engine._expire_lots()
        for partner in partners:
            self.assertEqual(self.balance(partner), 100, "not lapsed yet")
        with freeze_time(self.today + relativedelta(months=12)):
            self.assertGreaterEqual(self.Engine._expire_lots(batch_size=2), 3)
        for partner in partners:
            self.assertEqual(self.balance(partner), 0)
        self.assertLedger()

    def test_expiring_soon_on_customer(self):
        self._give(self.customer, 100, expiry_date=self.today + relativedelta(days=10))
        self._give(self.customer, 200, expiry_date=self.today + relativedelta(days=90))
        self.assertEqual(self.customer.vip_loyalty_expiring_points, 100)
        self.assertEqual(
            self.customer.vip_loyalty_next_expiry_date, self.today + relativedelta(days=10)
        )

    def test_warning_sent_once_per_lot(self):
        lot = self._give(self.customer, 120, expiry_date=self.today + relativedelta(days=10))
        later = self._give(self.customer, 80, expiry_date=self.today + relativedelta(days=200))
        Mail = self.env["mail.mail"]

        def mails():
            return Mail.search([("recipient_ids", "in", self.customer.ids)])

        self.Engine._send_expiry_warnings()
        self.assertEqual(len(mails()), 1)
        self.assertIn("120", mails().body_html)
        self.assertIn(self.customer.email, mails().email_to or mails().recipient_ids.email)
        self.assertTrue(lot.warning_sent)
        self.assertFalse(later.warning_sent)
        self.Engine._send_expiry_warnings()
        self.assertEqual(len(mails()), 1, "once per lot")
        # later, the other lot enters the warning window: one new mail, for it only
        with freeze_time(self.today + relativedelta(days=180)):
            self.Engine._send_expiry_warnings()
        self.assertEqual(len(mails()), 2)
        self.assertTrue(later.warning_sent)

    def test_cron_entry_points(self):
        self._invoice(self.customer, 100, days_ago=800)
        self.Engine._cron_expire_points()
        self.Engine._cron_send_expiry_warnings()
        self.assertEqual(self.balance(self.customer), 0)
        self.assertLedger(self.customer)
