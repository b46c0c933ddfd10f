from dateutil.relativedelta import relativedelta

from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from .common import VipLoyaltyCommon


@tagged("post_install", "-at_install")
class TestEarning(VipLoyaltyCommon):
    def test_earn_with_tier_multiplier(self):
        gold = self._partner("Gold Customer", tier=self.tier_a)
        invoice = self._invoice(gold, 1000)
        self.assertEqual(self.balance(gold), 2000)
        move = invoice.vip_loyalty_move_ids
        self.assertEqual(move.move_type, "earn")
        self.assertEqual(move.tier_id, self.tier_a)
        self.assertEqual(move.multiplier, 2.0)
        self.assertEqual(move.base_amount, 1000)
        self.assertEqual(move.expiry_date, self.program._expiry_date(invoice.invoice_date))
        self.assertEqual(self._invoice(self.customer, 1000).vip_loyalty_points, 1000)
        self.assertLedger()

    def test_tier_change_keeps_earned_multiplier(self):
        partner = self._partner("Climber", tier=self.tier_b)
        invoice = self._invoice(partner, 1000)
        self.assertEqual(self.balance(partner), 1500)
        partner.vip_tier_id = self.tier_a
        self.Engine._sync_invoices(invoice)
        self.assertEqual(self.balance(partner), 1500, "points keep the tier they were earned in")
        self.assertEqual(len(invoice.vip_loyalty_move_ids), 1)

    def test_rounding_and_rate(self):
        self.program.write({"points_per_unit": 0.1, "rounding": "down"})
        self._invoice(self.customer, 1239)
        self.assertEqual(self.balance(self.customer), 123)
        self.program.rounding = "half"
        other = self._partner("Half Up")
        self._invoice(other, 1235)
        self.assertEqual(self.balance(other), 124)

    def test_no_double_earning_on_repost(self):
        invoice = self._invoice(self.customer, 500)
        self.Engine._sync_invoices(invoice)
        invoice.button_draft()
        self.assertEqual(self.balance(self.customer), 0)
        invoice.action_post()
        self.assertEqual(self.balance(self.customer), 500)
        # re-post with a new amount: the invoice is worth its new amount, once
        invoice.button_draft()
        with Form(invoice) as form:
            with form.invoice_line_ids.edit(0) as line:
                line.price_unit = 800
        invoice.action_post()
        self.assertEqual(self.balance(self.customer), 800)
        self.assertEqual(invoice.vip_loyalty_points, 800)
        self.assertLedger(self.customer)

    def test_credit_note_reverses_from_the_same_lot(self):
        older = self._invoice(self.customer, 300, days_ago=10)
        invoice = self._invoice(self.customer, 1000)
        refund = invoice._reverse_moves([{"invoice_date": self.today}])
        refund.action_post()
        self.assertEqual(self.balance(self.customer), 300)
        lot = invoice.vip_loyalty_move_ids.filtered("is_lot")
        self.assertEqual(lot.remaining_points, 0, "the refund takes the invoice's own lot")
        self.assertEqual(older.vip_loyalty_move_ids.remaining_points, 300)
        self.assertEqual(refund.vip_loyalty_move_ids.move_type, "reversal")
        self.assertLedger(self.customer)

    def test_partial_credit_note_and_standalone_refund(self):
        invoice = self._invoice(self.customer, 1000)
        refund = invoice._reverse_moves([{"invoice_date": self.today}])
        refund.invoice_line_ids.price_unit = 400
        refund.action_post()
        self.assertEqual(self.balance(self.customer), 600)
        self._invoice(self.customer, 100, move_type="out_refund")
        self.assertEqual(self.balance(self.customer), 500)
        self.assertLedger(self.customer)

    def test_cancel_reverses(self):
        invoice = self._invoice(self.customer, 700)
        invoice.button_draft()
        invoice.button_cancel()
        self.assertEqual(self.balance(self.customer), 0)
        self.assertEqual(
            sorted(invoice.vip_loyalty_move_ids.mapped("move_type")), ["earn", "reversal"]
        )
        self.assertLedger(self.customer)

    def test_foreign_currency_converted(self):
        currency = self.setup_other_currency("EUR", rates=[("2000-01-01", 2.0)])
        invoice = self._invoice(self.customer, 1000, currency=currency)
        self.assertEqual(invoice.amount_untaxed_signed, 500)
        self.assertEqual(self.balance(self.customer), 500)

    def test_earn_when_paid(self):
        self.program.earn_on = "paid"
        invoice = self._invoice(self.customer, 1000)
        self.assertEqual(self.balance(self.customer), 0, "not paid yet")
        payment = self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(self.balance(self.customer), 1000)
        # the payment is undone: the points go
        payment.move_id.line_ids.remove_move_reconcile()
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertEqual(self.balance(self.customer), 0)
        self.assertLedger(self.customer)

    def test_refund_of_unpaid_invoice_takes_nothing(self):
        self.program.earn_on = "paid"
        invoice = self._invoice(self.customer, 1000)
        refund = invoice._reverse_moves([{"invoice_date": self.today}], cancel=True)
        self.assertEqual(refund.state, "posted")
        self.assertEqual(self.balance(self.customer), 0, "nothing earned, nothing taken")

    def test_no_program_no_points(self):
        self.program.active = False
        self._invoice(self.customer, 1000)
        self.program.active = True
        self.assertEqual(self.balance(self.customer), 0)

    def test_cancel_after_spending_leaves_debt_covered_by_next_earning(self):
        invoice = self._invoice(self.customer, 1000)
        reward = self.env["vip.loyalty.reward"].create({"name": "Gift", "points_cost": 800})
        self._redemption(self.customer, reward).action_confirm()
        invoice.button_draft()
        invoice.button_cancel()
        self.assertEqual(self.balance(self.customer), -800)
        self.assertLedger(self.customer)
        self._invoice(self.customer, 1000)
        self.assertEqual(self.balance(self.customer), 200)
        lots = self.Move.search([("partner_id", "=", self.customer.id), ("is_lot", "=", True)])
        self.assertEqual(sum(lots.mapped("remaining_points")), 200)
        self.assertLedger(self.customer)

    def test_ledger_is_append_only(self):
        self._invoice(self.customer, 100)
        move = self.Move.search([("partner_id", "=", self.customer.id)])
        with self.assertRaisesRegex(UserError, "append-only"):
            move.write({"points": 1000})
        with self.assertRaisesRegex(UserError, "append-only"):
            move.sudo().write({"remaining_points": 0})
        with self.assertRaisesRegex(UserError, "append-only"):
            move.sudo().unlink()
        with self.assertRaises(UserError):
            self.Move.create({
                "name": "Free points", "partner_id": self.customer.id,
                "company_id": self.company.id, "move_type": "adjust", "points": 10,
                "account_id": move.account_id.id,
            })

    def test_adjust_wizard(self):
        self._invoice(self.customer, 100)
        wizard = self.env["vip.loyalty.adjust"].create({
            "partner_id": self.customer.id, "points": -30, "reason": "Typo",
        })
        self.assertEqual(wizard.balance, 100)
        wizard.action_apply()
        self.assertEqual(self.balance(self.customer), 70)
        with self.assertRaisesRegex(UserError, "below zero"):
            self.env["vip.loyalty.adjust"].create({
                "partner_id": self.customer.id, "points": -71, "reason": "Too much",
            }).action_apply()
        self.assertLedger(self.customer)

    def test_adjust_expiry_and_whole_points(self):
        """An adjustment born expired (2000), expiring in 2200 or of 1.5 points was applied."""
        Adjust = self.env["vip.loyalty.adjust"].with_user(self.loyalty_manager)
        vals = {"partner_id": self.customer.id, "points": 100, "reason": "Goodwill"}
        for expiry in ("2000-01-01", "2200-01-01", self.today):
            with self.subTest(expiry=expiry), self.assertRaisesRegex(ValidationError, "Expires On"):
                Adjust.create(dict(vals, expiry_date=expiry))
        with self.assertRaisesRegex(ValidationError, "Points: 1.5 is not a whole number"):
            Adjust.create(dict(vals, points=1.5))
        adjustments = [("partner_id", "=", self.customer.id), ("move_type", "=", "adjust")]
        self.assertFalse(self.Move.search(adjustments))
        expiry = self.today + relativedelta(years=2)
        Adjust.create(dict(vals, points=2.0, expiry_date=expiry)).action_apply()
        move = self.Move.search(adjustments)
        self.assertEqual((move.points, move.expiry_date), (2, expiry))

    def test_contact_invoice_earns_for_company(self):
        contact = self.env["res.partner"].create(
            {"name": "Buyer", "parent_id": self.customer.id}
        )
        self._invoice(contact, 250)
        self.assertEqual(self.balance(self.customer), 250)
        self.assertEqual(self.balance(contact), 250, "contacts show their company's points")
        self.assertEqual(
            self.Move.search([("invoice_id.partner_id", "=", contact.id)]).partner_id,
            self.customer,
        )
