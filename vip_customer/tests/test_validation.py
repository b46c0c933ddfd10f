"""Values that cannot be right are refused by the model, with an error naming
the field: impossible birthdays and numbers too large for their column (which
used to surface as psycopg2's "integer out of range")."""

from datetime import date

from freezegun import freeze_time

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import VipCustomerCommon

HUGE = 10**12


@tagged("post_install", "-at_install")
class TestValidation(VipCustomerCommon):
    @freeze_time("2026-06-15")
    def test_birthday_in_the_future_or_before_1900_refused(self):
        partner = self.customer.with_user(self.vip_user)
        for birthday in (date(2026, 6, 16), date(2090, 1, 1), date(1899, 12, 31), date(1, 1, 1)):
            with (
                self.subTest(birthday=birthday),
                self.assertRaisesRegex(ValidationError, "birthday"),
            ):
                partner.write({"vip_birthday": birthday})
        with self.assertRaisesRegex(ValidationError, "Future Baby"):
            self.env["res.partner"].create({"name": "Future Baby", "vip_birthday": "2030-01-01"})
        partner.write({"vip_birthday": date(2026, 6, 15)})  # born today
        partner.write({"vip_birthday": date(1900, 1, 1)})
        self.assertEqual(self.customer.vip_birthday, date(1900, 1, 1))

    def _assert_refused(self, record_or_model, vals, label):
        """``vals`` refused with a ValidationError naming the field ``label``,
        in ``write`` on a record, in ``create`` on an empty recordset."""
        method = record_or_model.write if record_or_model else record_or_model.create
        with self.assertRaisesRegex(ValidationError, label):
            method(vals)

    def test_huge_numbers_in_tier_rules_refused(self):
        cases = {
            "window_months": "Window",
            "min_purchase_count": "Minimum Purchases",
            "retention_purchase_count": "Retention Purchases",
            "grace_days": "Grace Period",
            "level": "Level",
            "sequence": "Sequence",
            "color": "Color",
        }
        for fname, label in cases.items():
            with self.subTest(field=fname):
                self._assert_refused(self.tier_a, {fname: HUGE}, label)
                self._assert_refused(
                    self.Tier, {"name": "Huge", "code": "H", "level": 9, fname: HUGE}, label
                )
        # business bounds below the column's
        self._assert_refused(self.tier_a, {"window_months": 1200}, "Window")
        self._assert_refused(self.tier_a, {"grace_days": 36500}, "Grace Period")
        self._assert_refused(self.tier_a, {"min_spend": 1e15}, "Minimum Spend")
        self._assert_refused(self.tier_a, {"grace_days": "ten"}, "not a number")
        self.tier_a.write({"window_months": 24, "grace_days": 60})
        self.assertEqual(self.tier_a.window_months, 24)

    def test_huge_numbers_in_settings_refused(self):
        cases = {
            "vip_window_months": "Metrics Window",
            "vip_churn_medium_threshold": "Medium From",
            "vip_churn_high_threshold": "High From",
        }
        for fname, label in cases.items():
            with self.subTest(field=fname):
                self._assert_refused(self.company, {fname: HUGE}, label)
        settings = self.env["res.config.settings"].create({})
        with self.assertRaisesRegex(ValidationError, "Metrics Window"):
            settings.write({"vip_window_months": HUGE})
            settings.execute()
        self.assertEqual(self.company.vip_window_months, 12)

    def test_huge_numbers_in_care_moments_and_interests_refused(self):
        Rule = self.env["vip.moment.rule"]
        for fname, label in (("lead_days", "Days Ahead"), ("month", "Month"), ("day", "Day")):
            with self.subTest(field=fname):
                self._assert_refused(
                    Rule,
                    {"name": "Huge", "trigger_type": "fixed_date", "month": 1, "day": 1}
                    | {fname: HUGE},
                    label,
                )
        tag = self.env["vip.interest.tag"].create({"name": "Kites"})
        self._assert_refused(tag, {"color": HUGE}, "Color")

    def test_huge_numbers_on_customers_refused(self):
        for fname, label in (
            ("vip_purchase_count", "Purchases"),
            ("vip_churn_score", "Churn Risk"),
            ("vip_prev_purchase_count", "Purchases"),
        ):
            with self.subTest(field=fname):
                self._assert_refused(self.customer, {fname: HUGE}, label)
