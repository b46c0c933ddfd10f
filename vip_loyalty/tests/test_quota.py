from dateutil.relativedelta import relativedelta

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import VipLoyaltyCommon


@tagged("post_install", "-at_install")
class TestQuota(VipLoyaltyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.parking = cls.env["vip.benefit"].create({
            "name": "Free Parking", "period": "year",
            "quota_ids": [(0, 0, {"tier_id": cls.tier_a.id, "quota": 20}),
                          (0, 0, {"tier_id": cls.tier_c.id, "quota": 2})],
        })
        cls.wash = cls.env["vip.benefit"].create({
            "name": "Car Wash", "period": "month",
            "quota_ids": [(0, 0, {"tier_id": cls.tier_c.id, "quota": 1})],
        })
        cls.Usage = cls.env["vip.benefit.usage"]

    def _use(self, benefit, quantity=1, date=None, partner=None):
        return self.Usage.create({
            "partner_id": (partner or self.customer).id, "benefit_id": benefit.id,
            "quantity": quantity, "date": date or self.today,
        })

    def test_quota_per_year(self):
        usage = self._use(self.parking)
        self.assertEqual(usage.tier_id, self.tier_c)
        self._use(self.parking)
        with self.assertRaisesRegex(
            UserError,
            r"Golden Dragon Trading has already used Free Parking 2 times .* quota of 2 of tier C",
        ):
            self._use(self.parking)
        # last year's period has its own quota (a manager's correction)
        self._use(self.parking, date=self.today - relativedelta(years=1))

    def test_quota_per_month_and_summary(self):
        self._use(self.wash, date=self.today.replace(day=1))
        with self.assertRaises(UserError):
            self._use(self.wash, date=self.today.replace(day=1))
        self._use(self.wash, date=self.today.replace(day=1) - relativedelta(months=1))
        self._use(self.parking, date=self.today)
        summary = self.customer.vip_benefit_summary
        self.assertIn("Free Parking", summary)
        self.assertIn("1 / 2", summary)

    def test_far_dates_do_not_escape_the_quota(self):
        """Dated 1990 or 2090, a use was counted in an empty period: the quota was bypassed."""
        Usage = self.Usage.with_user(self.loyalty_user)
        vals = {"partner_id": self.customer.id, "benefit_id": self.wash.id, "quantity": 1}
        Usage.create(dict(vals, date=self.today))
        with self.assertRaisesRegex(UserError, "already used Car Wash"), self.env.cr.savepoint():
            Usage.create(dict(vals, date=self.today))
        for date in ("1990-01-01", "2090-01-01", self.today + relativedelta(days=1),
                     self.today - relativedelta(months=2)):
            with (
                self.subTest(date=date),
                self.assertRaisesRegex(UserError, "Date of use"),
                self.env.cr.savepoint(),
            ):
                Usage.create(dict(vals, date=date))
        self.assertEqual(self.Usage.search_count([("benefit_id", "=", self.wash.id)]), 1)
        # a manager may correct up to a year back, not further
        Manager = self.Usage.with_user(self.loyalty_manager)
        Manager.create(dict(vals, date=self.today - relativedelta(months=2)))
        with self.assertRaisesRegex(UserError, "Date of use"):
            Manager.create(dict(vals, date="1990-01-01"))

    def test_benefit_outside_tier(self):
        gold_only = self.env["vip.benefit"].create({
            "name": "Trip", "quota_ids": [(0, 0, {"tier_id": self.tier_a.id, "quota": 1})],
        })
        with self.assertRaisesRegex(UserError, "Trip is not included in the tier of Golden"):
            self._use(gold_only)

    def test_quantity_over_quota_at_once(self):
        with self.assertRaises(UserError) as raised:
            self._use(self.parking, quantity=3)
        self.assertIn("3 more would exceed", str(raised.exception))
        self.assertFalse(self.Usage.search([("partner_id", "=", self.customer.id)]))
