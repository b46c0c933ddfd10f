from dateutil.relativedelta import relativedelta

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import VipLoyaltyCommon


@tagged("post_install", "-at_install")
class TestRedemption(VipLoyaltyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Reward = cls.env["vip.loyalty.reward"]
        cls.gift = cls.Reward.create({"name": "Tea Box", "reward_type": "gift", "points_cost": 150})
        cls.cash = cls.Reward.create(
            {"name": "Cash", "reward_type": "cash", "cash_points_rate": 100}
        )

    def test_fifo_consumption_and_cancel_gives_back_to_same_lots(self):
        late = self._give(self.customer, 100, expiry_date=self.today + relativedelta(days=60))
        soon = self._give(self.customer, 100, expiry_date=self.today + relativedelta(days=10))
        never = self._give(self.customer, 100, expiry_date=False)
        redemption = self._redemption(self.customer, self.gift)
        redemption.action_confirm()
        self.assertEqual(redemption.state, "confirmed")
        self.assertEqual(self.balance(self.customer), 150)
        self.assertEqual(soon.remaining_points, 0, "the lot expiring first is used first")
        self.assertEqual(late.remaining_points, 50)
        self.assertEqual(never.remaining_points, 100, "lots without expiry are used last")
        self.assertEqual(
            {(a.lot_id, a.points) for a in redemption.allocation_ids},
            {(soon, 100), (late, 50)},
        )
        # spend part of the 'late' lot elsewhere meanwhile, then cancel
        self._give(self.customer, -30)
        redemption.action_cancel()
        self.assertEqual(redemption.state, "cancelled")
        self.assertEqual(soon.remaining_points, 100)
        self.assertEqual(late.remaining_points, 70)
        self.assertEqual(self.balance(self.customer), 270)
        self.assertEqual(redemption.reversal_move_id.points, 150)
        self.assertLedger(self.customer)

    def test_cancel_listing_a_redemption_twice_gives_back_once(self):
        """Hostile check: action_cancel over RPC with [[id, id]] gave the points back
        twice (balance above what the lots hold)."""
        self._give(self.customer, 1000)
        redemption = self._redemption(self.customer, self.gift)
        redemption.action_confirm()
        self.assertEqual(self.balance(self.customer), 850)
        twice = self.env["vip.loyalty.redemption"].browse([redemption.id, redemption.id])
        twice.with_user(self.loyalty_manager).action_cancel()
        self.assertEqual(self.balance(self.customer), 1000)
        self.assertLedger(self.customer)
        # the engine refuses a second undo of the same move, whoever asks
        with self.assertRaisesRegex(UserError, "already given back"):
            self.env["vip.loyalty.engine"]._post_moves([{
                "name": "again",
                "partner_id": self.customer.id,
                "company_id": self.company.id,
                "move_type": "reversal",
                "points": 150,
                "reversed_move_id": redemption.move_id.id,
            }])
        self.assertEqual(self.balance(self.customer), 1000)

    def test_search_customers_by_points(self):
        """Hostile check: searching contacts by Points was a psycopg2 syntax error
        for everyone (the sub-query was a whole SELECT with its ORDER BY)."""
        self._give(self.customer, 500)
        Partner = self.env["res.partner"].with_user(self.loyalty_user)
        self.assertIn(self.customer, Partner.search([("vip_loyalty_balance", ">", 100)]))
        self.assertNotIn(self.customer, Partner.search([("vip_loyalty_balance", ">", 600)]))

    def test_cannot_go_below_zero(self):
        self._give(self.customer, 100)
        redemption = self._redemption(self.customer, self.gift)
        with self.assertRaisesRegex(UserError, "Golden Dragon Trading has 100 points"):
            redemption.action_confirm()
        self.assertEqual(redemption.state, "draft")
        self.assertEqual(self.balance(self.customer), 100)

    def test_minimum_redemption(self):
        self.program.min_redeem_points = 500
        self._give(self.customer, 1000)
        with self.assertRaisesRegex(UserError, "minimum is 500 points"):
            self._redemption(self.customer, self.gift).action_confirm()

    def test_reward_restrictions(self):
        self._give(self.customer, 10000)
        vip_only = self.Reward.create({
            "name": "Lounge", "reward_type": "benefit", "points_cost": 10,
            "tier_ids": [(6, 0, self.tier_a.ids)],
        })
        with self.assertRaisesRegex(UserError, "reserved for the tiers A"):
            self._redemption(self.customer, vip_only).action_confirm()
        expired = self.Reward.create({
            "name": "Old", "points_cost": 10, "date_to": self.today - relativedelta(days=1),
        })
        with self.assertRaisesRegex(UserError, "Old is not available"):
            self._redemption(self.customer, expired).action_confirm()
        limited = self.Reward.create({"name": "Rare", "points_cost": 10, "quantity_limit": 2})
        self._redemption(self.customer, limited, quantity=2).action_confirm()
        self.assertEqual(limited.quantity_left, 0)
        with self.assertRaisesRegex(UserError, "only 0 left"):
            self._redemption(self.customer, limited).action_confirm()

    def test_cash_deduction_creates_credit_note(self):
        self._give(self.customer, 5000)
        redemption = self._redemption(self.customer, self.cash, points=2500)
        self.assertEqual(redemption.amount, 25.0)
        redemption.action_confirm()
        credit_note = redemption.credit_note_id
        self.assertEqual(credit_note.move_type, "out_refund")
        self.assertEqual(credit_note.partner_id, self.customer)
        self.assertEqual(credit_note.amount_total, 25.0)
        self.assertEqual(self.balance(self.customer), 2500)
        redemption.action_done()
        self.assertEqual(credit_note.state, "posted")
        self.assertEqual(self.balance(self.customer), 2500,
                         "the credit note of a redemption takes no points back")
        with self.assertRaisesRegex(UserError, "is posted"):
            redemption.action_cancel()
        self.assertLedger(self.customer)

    def test_cancel_cash_deduction_cancels_draft_credit_note(self):
        self._give(self.customer, 1000)
        redemption = self._redemption(self.customer, self.cash, points=1000)
        redemption.action_confirm()
        redemption.action_cancel()
        self.assertEqual(redemption.credit_note_id.state, "cancel")
        self.assertEqual(self.balance(self.customer), 1000)

    def test_user_prepares_manager_confirms(self):
        self._give(self.customer, 1000)
        redemption = self._redemption(self.customer, self.gift).with_user(self.loyalty_user)
        redemption.quantity = 2
        self.assertEqual(redemption.points, 300)
        with self.assertRaises(AccessError):
            redemption.action_confirm()
        redemption.with_user(self.loyalty_manager).action_confirm()
        self.assertEqual(redemption.state, "confirmed")
        with self.assertRaisesRegex(UserError, "only draft redemptions"):
            redemption.with_user(self.loyalty_manager).quantity = 3

    def test_redemption_of_contact_is_for_company(self):
        contact = self.env["res.partner"].create({"name": "Buyer", "parent_id": self.customer.id})
        self._give(self.customer, 200)
        redemption = self._redemption(contact, self.gift)
        self.assertEqual(redemption.partner_id, self.customer)
        redemption.action_confirm()
        self.assertEqual(self.balance(self.customer), 50)

    def test_points_statement(self):
        self._invoice(self.customer, 400, days_ago=40)
        self._give(self.customer, 25)
        wizard = self.env["vip.loyalty.statement"].with_context(
            default_partner_ids=self.customer.ids
        ).create({"date_from": self.today - relativedelta(days=10), "date_to": self.today})
        self.assertTrue(wizard.action_print())  # the report, or the layout set-up first
        data = {"date_from": str(wizard.date_from), "date_to": str(wizard.date_to),
                "company_id": self.company.id}
        html, _format = self.env["ir.actions.report"]._render_qweb_html(
            "vip_loyalty.report_points_statement", self.customer.ids, data=data
        )
        html = html.decode()
        self.assertIn("Points Statement", html)
        self.assertIn("Golden Dragon Trading", html)
        self.assertIn("Opening balance", html)
        self.assertIn("425", html, "closing balance")
        self.assertNotIn("Invoice INV", html, "the invoice is before the period")
