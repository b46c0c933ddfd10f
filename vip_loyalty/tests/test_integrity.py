"""Rules the model keeps whatever the client sends (issue 8: items 3, 7, 8)."""

import re
import xmlrpc.client

from dateutil.relativedelta import relativedelta

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import VipLoyaltyCommon


@tagged("post_install", "-at_install")
class TestRedemptionCost(VipLoyaltyCommon):
    """The points of a redemption are the server's, not the client's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Reward = cls.env["vip.loyalty.reward"]
        cls.service = cls.Reward.create(
            {"name": "Maintenance", "reward_type": "service", "points_cost": 5000}
        )
        cls.cash = cls.Reward.create(
            {"name": "Cash", "reward_type": "cash", "cash_points_rate": 100}
        )
        cls._give(cls.customer, 20000)

    def test_user_cannot_write_points_of_a_non_cash_redemption(self):
        redemption = self._redemption(self.customer, self.service).with_user(self.loyalty_user)
        self.assertEqual(redemption.points, 5000)
        with self.assertRaisesRegex(UserError, "costs 5000 points"):
            redemption.write({"points": 100})
        with self.assertRaisesRegex(UserError, "costs 5000 points"):
            self.env["vip.loyalty.redemption"].with_user(self.loyalty_user).create({
                "partner_id": self.customer.id, "reward_id": self.service.id, "points": 100,
            })
        redemption.write({"quantity": 2})
        self.assertEqual(redemption.points, 10000, "derived from cost x quantity")

    def test_confirmation_rechecks_the_cost(self):
        redemption = self._redemption(self.customer, self.service)
        # points tampered with in the database (or a cost changed since the draft)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE vip_loyalty_redemption SET points = 100 WHERE id = %s", [redemption.id]
        )
        redemption.invalidate_recordset()
        redemption.with_user(self.loyalty_manager).action_confirm()
        self.assertEqual(redemption.move_id.points, -5000)
        self.assertEqual(redemption.points, 5000)
        self.assertEqual(self.balance(self.customer), 15000)

    def test_confirmed_points_do_not_follow_a_new_cost(self):
        redemption = self._redemption(self.customer, self.service)
        redemption.action_confirm()
        self.service.points_cost = 7000
        self.assertEqual(redemption.points, 5000)
        draft = self._redemption(self.customer, self.service)
        self.assertEqual(draft.points, 7000)

    def test_cash_deduction_amount_is_derived(self):
        redemption = self._redemption(self.customer, self.cash, points=3000)
        self.assertEqual(redemption.amount, 30.0)
        self.assertEqual(redemption.quantity, 1)
        with self.assertRaisesRegex(UserError, "Cash Value"):
            redemption.with_user(self.loyalty_user).write({"amount": 100000})
        redemption.with_user(self.loyalty_user).write({"quantity": 5})
        self.assertEqual(redemption.quantity, 1, "a cash deduction is one credit note")
        redemption.action_confirm()
        self.assertEqual(redemption.credit_note_id.amount_untaxed, 30.0)

    def test_workflow_fields_are_not_writable(self):
        redemption = self._redemption(self.customer, self.service).with_user(self.loyalty_user)
        for vals in ({"state": "done"}, {"confirm_uid": self.loyalty_user.id},
                     {"move_id": self.Move.search([], limit=1).id}):
            with self.assertRaises(UserError, msg=str(vals)):
                redemption.write(vals)
        with self.assertRaises(UserError):
            redemption.with_context(vip_loyalty_redemption_workflow=True).write({"state": "done"})
        with self.assertRaises(UserError):
            self.env["vip.loyalty.redemption"].with_user(self.loyalty_user).create({
                "partner_id": self.customer.id, "reward_id": self.service.id, "state": "done",
            })
        self.assertEqual(redemption.state, "draft")

    def test_reference_comes_from_the_sequence(self):
        redemption = self.env["vip.loyalty.redemption"].with_user(self.loyalty_user).create({
            "partner_id": self.customer.id, "reward_id": self.service.id, "name": "RDM/FAKE",
        })
        self.assertNotEqual(redemption.name, "RDM/FAKE")


@tagged("post_install", "-at_install")
class TestLargeNumbers(VipLoyaltyCommon):
    """Very large numbers: an error naming the field, never psycopg2's
    "integer out of range"."""

    HUGE = 10**12

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gift = cls.env["vip.loyalty.reward"].create({"name": "Gift", "points_cost": 10})

    def test_redemption_quantity(self):
        with self.assertRaisesRegex(ValidationError, "Quantity"):
            self._redemption(self.customer, self.gift, quantity=self.HUGE)
        redemption = self._redemption(self.customer, self.gift)
        with self.assertRaisesRegex(ValidationError, "Quantity"):
            redemption.write({"quantity": 3_000_000_000})
        big = self.env["vip.loyalty.reward"].create({"name": "Big", "points_cost": 90_000_000})
        with self.assertRaisesRegex(ValidationError, "more than 100,000,000 points"):
            self._redemption(self.customer, big, quantity=500)

    def test_redemption_dated_decades_away(self):
        for date in (self.today - relativedelta(years=30), self.today + relativedelta(years=30)):
            with self.assertRaisesRegex(ValidationError, "too far from today"):
                self._redemption(self.customer, self.gift, date=date)
                self.env.flush_all()
        redemption = self._redemption(self.customer, self.gift,
                                      date=self.today - relativedelta(days=20))
        self.assertTrue(redemption)

    def test_manual_adjustment(self):
        with self.assertRaisesRegex(ValidationError, "Points"):
            self.env["vip.loyalty.adjust"].create(
                {"partner_id": self.customer.id, "points": self.HUGE, "reason": "x"}
            )
        with self.assertRaisesRegex(ValidationError, "Points"):
            self.env["vip.loyalty.adjust"].create(
                {"partner_id": self.customer.id, "points": -self.HUGE, "reason": "x"}
            )

    def test_reward_cost_and_program_rates(self):
        with self.assertRaisesRegex(ValidationError, "Points"):
            self.env["vip.loyalty.reward"].create({"name": "X", "points_cost": self.HUGE})
        with self.assertRaisesRegex(ValidationError, "Points"):
            self.gift.write({"points_cost": 2**31})
        for fname in ("points_per_unit", "validity_months", "warning_days",
                      "min_redeem_points", "referrer_points", "referee_points"):
            label = re.escape(self.program._fields[fname].string)
            with self.assertRaisesRegex(ValidationError, label, msg=fname):
                self.program.write({fname: self.HUGE})
        with self.assertRaisesRegex(ValidationError, "Points Multiplier"):
            self.tier_a.write({"loyalty_multiplier": 1e9})

    def test_benefit_quota_and_usage(self):
        benefit = self.env["vip.benefit"].create({"name": "Parking"})
        with self.assertRaisesRegex(ValidationError, "Quota"):
            self.env["vip.benefit.quota"].create(
                {"benefit_id": benefit.id, "tier_id": self.tier_c.id, "quota": self.HUGE}
            )

    def test_engine_refuses_an_overflowing_balance(self):
        self._give(self.customer, 2_000_000_000)
        with self.assertRaisesRegex(UserError, "more than an account can hold"):
            self._give(self.customer, 500_000_000)
        self.assertEqual(self.balance(self.customer), 2_000_000_000)

    def test_invoice_earning_too_many_points(self):
        self.program.points_per_unit = 10_000
        self.tier_a.loyalty_multiplier = 100
        partner = self._partner("Whale", tier=self.tier_a)
        invoice = self._invoice(partner, 10_000_000, post=False)
        with self.assertRaisesRegex(UserError, "more than a points move can hold"):
            invoice.action_post()


@tagged("post_install", "-at_install")
class TestButtonsReturnValues(VipLoyaltyCommon):
    """Invoice buttons overridden by the add-on return a value XML-RPC can marshal."""

    def test_button_draft_and_cancel_return_a_value(self):
        invoice = self._invoice(self.customer, 100)
        self.assertEqual(self.balance(self.customer), 100)
        result = invoice.button_draft()
        self.assertIsNotNone(result)
        self.assertEqual(self.balance(self.customer), 0)
        result = invoice.button_cancel()
        self.assertIsNotNone(result)
        self.assertEqual(invoice.state, "cancel")
        # what XML-RPC would send back
        xmlrpc.client.dumps((result,), methodresponse=True, allow_none=False)

    def test_backfill_and_redemption_buttons_return_values(self):
        run = self.env["vip.loyalty.backfill"].create(
            {"date_from": self.today - relativedelta(days=10)}
        )
        self.assertIsNotNone(run.action_start())
        reward = self.env["vip.loyalty.reward"].create({"name": "Gift", "points_cost": 10})
        self._give(self.customer, 100)
        redemption = self._redemption(self.customer, reward)
        for method in ("action_confirm", "action_done"):
            self.assertIsNotNone(getattr(redemption, method)(), method)
