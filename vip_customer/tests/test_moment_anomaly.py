from datetime import timedelta
from unittest.mock import patch

from odoo import Command
from odoo.tests import tagged
from odoo.tools import SQL

from .common import VipCustomerCommon


@tagged("post_install", "-at_install")
class TestMomentAnomaly(VipCustomerCommon):
    """Anomaly moments (spend drop, frequency drop, long silence): the
    customers they fire on, at the thresholds' boundaries, once per episode."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Rule = cls.env["vip.moment.rule"]
        cls.MomentEngine = cls.env["vip.moment.engine"]
        # every company's rules (the demo and built-in ones of the main company too)
        cls.Rule.sudo().search([]).write({"active": False})
        cls.customers = cls.env["res.partner"].create(
            [
                {
                    "name": f"Anomaly {index}",
                    "is_company": True,
                    "user_id": cls.vip_user.id,
                }
                for index in range(4)
            ]
        )
        cls.customers.write({"vip_tier_id": cls.tier_b.id})

    def _rule(self, trigger_type, **vals):
        return self.Rule.create(
            {
                "name": trigger_type,
                "company_id": self.company.id,
                "trigger_type": trigger_type,
                "window_days": 30,
                "threshold_percent": 50.0,
                **vals,
            }
        )

    def _fired(self, rule, today=None):
        return self.MomentEngine._run(today or self.today, rules=rule).partner_id

    # ------------------------------------------------------------------
    # Spend drop
    # ------------------------------------------------------------------
    def test_spend_drop_at_the_threshold_fires_just_below_does_not(self):
        at, below, above, gone = self.customers
        # previous window: 30-59 days ago; last window: 0-29 days ago (today included)
        for customer in self.customers:
            self._invoice(customer, 1000, days_ago=30)
        self._invoice(at, 500, days_ago=29)  # exactly 50 % less: fires (>=)
        self._invoice(below, 501, days_ago=0)  # 49.9 % less: does not
        self._invoice(above, 499, days_ago=10)  # 50.1 % less: fires
        # gone: nothing bought since: a 100 % drop
        rule = self._rule("spend_drop")
        moments = self.MomentEngine._run(self.today, rules=rule)
        self.assertEqual(moments.partner_id, at | above | gone)
        start = self.today - timedelta(days=29)
        self.assertEqual(set(moments.mapped("occasion_key")), {f"spend_drop:{start}"})
        self.assertEqual(set(moments.mapped("trigger_kind")), {"anomaly"})
        self.assertEqual(moments.activity_id.user_id, self.vip_user)

    def test_spend_drop_needs_spend_in_the_previous_window(self):
        new, old = self.customers[:2]
        self._invoice(new, 1000, days_ago=5)  # nothing before: no drop
        self._invoice(old, 1000, days_ago=60)  # before both windows: no drop either
        self.assertFalse(self._fired(self._rule("spend_drop")))

    def test_spend_drop_counts_refunds_as_the_tier_engine(self):
        refunded, kept = self.customers[:2]
        for customer in (refunded, kept):
            self._invoice(customer, 1000, days_ago=40)
            self._invoice(customer, 800, days_ago=3)
        self._invoice(refunded, 300, days_ago=1, move_type="out_refund")  # 500: -50 %
        self._invoice(kept, 299, days_ago=1, move_type="out_refund")  # 501: -49.9 %
        # a refund in the previous window lowers its spend too: 1000 - 600 = 400 < 2 x 201
        self._invoice(self.customers[2], 1000, days_ago=40)
        self._invoice(self.customers[2], 600, days_ago=35, move_type="out_refund")
        self._invoice(self.customers[2], 201, days_ago=2)
        self.assertEqual(self._fired(self._rule("spend_drop")), refunded)

    def test_spend_drop_once_per_episode_and_cooldown(self):
        customer = self.customers[0]
        start = self.today - timedelta(days=100)  # the first run
        self._invoice(customer, 1000, days_ago=140)
        rule = self._rule("spend_drop")
        self.assertEqual(self._fired(rule, start), customer)
        self.assertFalse(self._fired(rule, start))
        # the next days, the drop lasts: the same episode while the window overlaps
        self.assertFalse(self._fired(rule, start + timedelta(days=1)))
        self.assertFalse(self._fired(rule, start + timedelta(days=9)))
        # bought again, then lost again: a new episode once the windows moved on
        self._invoice(customer, 900, days_ago=80)
        self.assertFalse(self._fired(rule, start + timedelta(days=29)))
        self.assertEqual(self._fired(rule, start + timedelta(days=50)), customer)
        # with a cool-down of 90 days, the new episode waits
        other = self._rule("spend_drop", cooldown_days=90)
        self.assertEqual(self._fired(other, start), customer)
        self.assertFalse(self._fired(other, start + timedelta(days=50)))

    def test_spend_drop_tier_filter(self):
        tier_a_customer, tier_b_customer = self.customers[:2]
        tier_a_customer.vip_tier_id = self.tier_a
        for customer in (tier_a_customer, tier_b_customer):
            self._invoice(customer, 1000, days_ago=40)
        rule = self._rule("spend_drop", tier_ids=[Command.set(self.tier_a.ids)])
        self.assertEqual(self._fired(rule), tier_a_customer)

    def test_spend_drop_other_purchase_sources_count(self):
        """A purchase source added by another add-on (POS orders...) counts."""
        customer = self.customers[0]
        self._invoice(customer, 1000, days_ago=40)
        engine_class = type(self.env["vip.tier.engine"])
        original = engine_class._get_purchase_sources

        def sources(engine, company, date_from):
            return [
                *original(engine, company, date_from),
                SQL(
                    "SELECT %s AS partner_id, %s::date AS date, 600.0 AS amount, "
                    "1 AS purchase_count",
                    customer.id,
                    self.today - timedelta(days=2),
                ),
            ]

        with patch.object(engine_class, "_get_purchase_sources", sources):
            self.assertFalse(self._fired(self._rule("spend_drop")))
        self.assertEqual(self._fired(self._rule("spend_drop")), customer)

    # ------------------------------------------------------------------
    # Frequency drop
    # ------------------------------------------------------------------
    def test_frequency_drop_boundaries(self):
        at, below, none_before = self.customers[:3]
        for customer in (at, below):
            for days_ago in (31, 35, 40, 45):
                self._invoice(customer, 100, days_ago=days_ago)
        self._invoice(at, 5000, days_ago=1)
        self._invoice(at, 5000, days_ago=2)  # 2 against 4: exactly 50 % fewer, fires
        for days_ago in (1, 2, 3):
            self._invoice(below, 10, days_ago=days_ago)  # 3 against 4: 25 %, does not
        self._invoice(none_before, 100, days_ago=1)
        rule = self._rule("frequency_drop")
        moments = self.MomentEngine._run(self.today, rules=rule)
        self.assertEqual(moments.partner_id, at)
        self.assertTrue(moments.occasion_key.startswith("frequency_drop:"))
        # more spend does not hide fewer purchases; a 25 % threshold catches "below" too
        self.assertEqual(
            self._fired(self._rule("frequency_drop", threshold_percent=25.0)), at | below
        )

    def test_frequency_drop_refund_is_no_purchase(self):
        customer = self.customers[0]
        self._invoice(customer, 100, days_ago=40)
        self._invoice(customer, 100, days_ago=45)
        self._invoice(customer, 100, days_ago=3)
        # a refund is no purchase: still 1 against 2
        self._invoice(customer, 50, days_ago=2, move_type="out_refund")
        self.assertEqual(self._fired(self._rule("frequency_drop")), customer)

    # ------------------------------------------------------------------
    # Silence
    # ------------------------------------------------------------------
    def test_silence_at_the_factor_fires_just_below_does_not(self):
        at, below, once, same_day = self.customers
        # usual interval 10 days (purchases 50 and 40 days ago... and the last one)
        for days_ago in (50, 40, 30):
            self._invoice(at, 100, days_ago=days_ago)  # mean 10, silent 30 = 3 x: fires
        for days_ago in (49, 39, 29):
            self._invoice(below, 100, days_ago=days_ago)  # silent 29 < 30: not yet
        self._invoice(once, 100, days_ago=200)  # one purchase: no usual interval
        self._invoice(same_day, 100, days_ago=90)
        self._invoice(same_day, 100, days_ago=90)  # one purchase day: no interval
        rule = self._rule("silence", silence_factor=3.0)
        moments = self.MomentEngine._run(self.today, rules=rule)
        self.assertEqual(moments.partner_id, at)
        last = self.today - timedelta(days=30)
        self.assertEqual(moments.occasion_key, f"silence:{last}")
        self.assertEqual(moments.occasion_date, self.today)
        # "below" reaches 3 x its interval the next day
        self.assertEqual(self._fired(rule, self.today + timedelta(days=1)), below)

    def test_silence_once_per_episode_refunds_are_no_purchase(self):
        customer = self.customers[0]
        start = self.today - timedelta(days=200)  # the first run
        for days_ago in (240, 230, 220):
            self._invoice(customer, 100, days_ago=days_ago)
        # a refund is no purchase: the silence goes on
        self._invoice(customer, 50, days_ago=201, move_type="out_refund")
        rule = self._rule("silence", silence_factor=2.0)
        self.assertEqual(self._fired(rule, start), customer)
        self.assertFalse(self._fired(rule, start + timedelta(days=30)))
        # a purchase ends the episode (usual interval now 80 / 3 days); the next long
        # silence is a new one
        self._invoice(customer, 100, days_ago=160)
        self.assertFalse(self._fired(rule, start + timedelta(days=50)))
        self.assertFalse(self._fired(rule, self.today - timedelta(days=107)))
        moment = self.MomentEngine._run(self.today - timedelta(days=106), rules=rule)
        self.assertEqual(moment.partner_id, customer)
        self.assertEqual(moment.occasion_key, f"silence:{self.today - timedelta(days=160)}")
