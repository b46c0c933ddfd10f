from unittest.mock import patch

from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from .common import VipLoyaltyCommon


@tagged("post_install", "-at_install")
class TestReferral(VipLoyaltyCommon):
    def test_codes_are_generated_and_unique(self):
        partners = self.env["res.partner"].create([{"name": f"P{i}"} for i in range(20)])
        codes = partners.mapped("vip_referral_code")
        self.assertTrue(all(code and len(code) == 8 for code in codes))
        self.assertEqual(len(set(codes)), 20)
        contact = self.env["res.partner"].create({"name": "C", "parent_id": partners[0].id})
        self.assertFalse(contact.vip_referral_code, "contacts use their company's code")

    def test_codes_of_partners_created_before_the_add_on(self):
        """The install gives a code to every customer without one, set-based: the
        referred customers see it at once (nothing stale in the cache)."""
        referrer = self._partner("Before the add-on")
        referred = self._partner("Referred before", vip_referred_by_id=referrer.id)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_partner SET vip_referral_code = NULL WHERE id = %s", [referrer.id]
        )
        self.env.invalidate_all()
        self.assertFalse(referred.vip_referrer_code)
        self.assertGreaterEqual(self.env["res.partner"]._vip_assign_referral_codes(), 1)
        self.assertEqual(len(referrer.vip_referral_code), 8)
        self.assertEqual(referred.vip_referrer_code, referrer.vip_referral_code)
        # the raw write is allowed because nothing tracks or hooks the column
        field = self.env["res.partner"]._fields["vip_referral_code"]
        self.assertFalse(getattr(field, "tracking", False))
        self.assertFalse(field.compute)

    def test_codes_of_partners_created_before_the_add_on_in_batches(self):
        """The install reads the customers without a code a small batch at a time
        (keyset pagination): batches of 2 give every one of them a distinct code,
        as one batch does, and no statement handles more than 2."""
        Partner = self.env["res.partner"]
        sizes = []
        new_codes = type(Partner)._vip_new_referral_codes

        def counting(model, count):
            sizes.append(count)
            return new_codes(model, count)

        def strip(partners):
            self.env.flush_all()
            self.env.cr.execute(
                "UPDATE res_partner SET vip_referral_code = NULL WHERE id = ANY(%s)",
                [partners.ids],
            )
            self.env.invalidate_all()

        referrer = self._partner("Before the add-on, batched")
        referred = self._partner("Referred before, batched", vip_referred_by_id=referrer.id)
        partners = referrer | referred | Partner.create([{"name": f"Old {i}"} for i in range(3)])
        Partner._vip_assign_referral_codes()  # any customer of the database left without one
        results = {}
        for batch_size in (2, 10000):
            strip(partners)
            sizes.clear()
            with patch.object(type(Partner), "_vip_new_referral_codes", counting):
                assigned = Partner._vip_assign_referral_codes(batch_size=batch_size)
            codes = partners.mapped("vip_referral_code")
            self.assertEqual(assigned, 5)
            self.assertTrue(all(code and len(code) == 8 for code in codes))
            self.assertEqual(len(set(codes)), 5)
            self.assertEqual(referred.vip_referrer_code, referrer.vip_referral_code)
            self.assertFalse(Partner.search_count(
                [("parent_id", "=", False), ("vip_referral_code", "=", False)]
            ))
            results[batch_size] = sizes[:]
        self.assertEqual(results[2], [2, 2, 1])
        self.assertEqual(results[10000], [5])

    def test_both_rewarded_once_at_first_invoice(self):
        newcomer = self._partner("Newcomer")
        with Form(newcomer) as form:
            form.vip_referrer_code = self.customer.vip_referral_code.lower()
        self.assertEqual(newcomer.vip_referred_by_id, self.customer)
        self._invoice(newcomer, 1000)
        self.assertEqual(self.balance(self.customer), 100)
        self.assertEqual(self.balance(newcomer), 1000 + 50)
        self._invoice(newcomer, 1000)
        self.assertEqual(self.balance(self.customer), 100, "rewarded once")
        referral = self.Move.search([("move_type", "=", "referral")])
        self.assertEqual(len(referral), 2)
        self.assertEqual(self.customer.vip_referral_count, 1)
        self.assertLedger()

    def test_no_reward_for_an_existing_customer(self):
        regular = self._partner("Regular")
        self._invoice(regular, 100)
        regular.vip_referred_by_id = self.customer
        self._invoice(regular, 100)
        self.assertFalse(self.Move.search([("move_type", "=", "referral")]))

    def test_reward_not_repeated_after_cancel(self):
        newcomer = self._partner("Newcomer", vip_referred_by_id=self.customer.id)
        first = self._invoice(newcomer, 100)
        first.button_draft()
        first.button_cancel()
        self._invoice(newcomer, 100)
        self.assertEqual(len(self.Move.search([("move_type", "=", "referral")])), 2)

    def test_unknown_code(self):
        newcomer = self._partner("Newcomer")
        with self.assertRaisesRegex(UserError, "no customer has the referral code ZZZ"):
            newcomer.vip_referrer_code = "zzz"

    def test_rules(self):
        with self.assertRaisesRegex(ValidationError, "Golden Dragon Trading cannot refer itself"):
            self.customer.vip_referred_by_id = self.customer
        contact = self.env["res.partner"].create(
            {"name": "Employee", "parent_id": self.customer.id}
        )
        with self.assertRaisesRegex(ValidationError, "belong to the same company"):
            contact.vip_referred_by_id = self.customer
        second = self._partner("Second", vip_referred_by_id=self.customer.id)
        third = self._partner("Third", vip_referred_by_id=second.id)
        with self.assertRaisesRegex(
            ValidationError, "Golden Dragon Trading → Third → Second → Golden Dragon Trading"
        ):
            self.customer.vip_referred_by_id = third
