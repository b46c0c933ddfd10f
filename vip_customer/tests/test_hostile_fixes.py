import datetime
import re

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import VipCustomerCommon


@tagged("post_install", "-at_install")
class TestHostileFixes(VipCustomerCommon):
    """Holes a hostile tester found over RPC (report sections A, B, E), each
    tried as the user who found it, on the model."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        # a Platinum-like company (tier A) and a person with her own tier C
        cls.platinum = Partner.create({"name": "Golden Dragon Co.", "is_company": True})
        cls.platinum.write({"vip_tier_id": cls.tier_a.id})
        cls.person = Partner.create({"name": "Lin Mei", "email": "lin@example.com"})
        cls._invoice(cls.person, 1000, days_ago=10)
        cls.Engine._recompute_partners(cls.person)

    def test_fixture(self):
        self.assertEqual(self.platinum.vip_tier_id, self.tier_a)
        self.assertEqual(self.person.vip_tier_id, self.tier_c)
        self.assertFalse(self.salesman.has_group("vip_customer.group_vip_user"))

    # A1 ------------------------------------------------------------------
    def test_attach_then_detach_gives_back_the_own_tier(self):
        person = self.person.with_user(self.salesman)
        since = self.person.vip_tier_since
        history = self.person.vip_tier_history_ids
        person.write({"parent_id": self.platinum.id})
        self.assertEqual(self.person.vip_tier_id, self.tier_a, "a contact shows its company's")
        person.write({"parent_id": False})
        self.assertEqual(self.person.vip_tier_id, self.tier_c)
        self.assertEqual(self.person.vip_tier_since, since)
        self.assertEqual(self.person.vip_company_id, self.company)
        self.assertFalse(self.person.vip_pending_tier_id)
        self.assertEqual(self.person.vip_tier_history_ids, history)

    def test_detaching_several_contacts_in_one_write(self):
        """The reset reads every contact's history at once: each still gets its own
        tier back (the person her C, a contact without history none)."""
        Partner = self.env["res.partner"].with_user(self.salesman)
        newcomer = Partner.create({"name": "Mr. Zhao", "parent_id": self.platinum.id})
        person = self.person.with_user(self.salesman)
        person.write({"parent_id": self.platinum.id})
        (person | newcomer).write({"parent_id": False})
        self.assertEqual(self.person.vip_tier_id, self.tier_c)
        self.assertFalse(newcomer.vip_tier_id)
        self.assertFalse(newcomer.sudo().vip_tier_since)

    def test_new_contact_detached_has_no_tier(self):
        Partner = self.env["res.partner"].with_user(self.salesman)
        contact = Partner.create({"name": "Mr. Wang", "parent_id": self.platinum.id})
        self.assertEqual(contact.vip_tier_id, self.tier_a)
        contact.write({"parent_id": False})
        self.assertFalse(contact.vip_tier_id)
        self.assertFalse(contact.sudo().vip_tier_since)
        # made a company of its own while keeping its parent: same
        other = Partner.create({"name": "Wang Ltd", "parent_id": self.platinum.id})
        other.write({"is_company": True})
        self.assertFalse(other.vip_tier_id)
        # a full engine run does not give it back
        self.recompute()
        self.assertFalse(contact.vip_tier_id)

    def test_detach_with_tier_in_the_same_write_refused(self):
        contact = (
            self.env["res.partner"]
            .with_user(self.salesman)
            .create({"name": "Mr. Wang", "parent_id": self.platinum.id})
        )
        with self.assertRaisesRegex(AccessError, "VIP Tier"):
            contact.write({"parent_id": False, "vip_tier_id": self.tier_a.id})
        self.assertEqual(contact.parent_id, self.platinum)

    # A2 ------------------------------------------------------------------
    def test_merge_by_plain_user_keeps_the_tier_with_grace(self):
        """A non-VIP user merges a Platinum customer into a new duplicate: the
        customer kept stays Platinum, the engine's grace applies, no new VIP row."""
        Partner = self.env["res.partner"]
        gold = Partner.create({"name": "Silk Road", "is_company": True, "email": "s@example.com"})
        self._invoice(gold, 120000, days_ago=400)
        self._invoice(gold, 1000, days_ago=20)
        gold.with_context(vip_engine=True).sudo().write(
            {"vip_tier_id": self.tier_a.id, "vip_company_id": self.company.id}
        )
        since = gold.vip_tier_since
        newcomer = Partner.create({"name": "Silk Road Imports", "email": "s@example.com"})
        wizard = (
            self.env["base.partner.merge.automatic.wizard"]
            .with_user(self.salesman)
            .create(
                {
                    "partner_ids": [Command.set((newcomer | gold).ids)],
                    "dst_partner_id": newcomer.id,
                }
            )
        )
        wizard.action_merge()
        self.assertFalse(gold.exists())
        self.assertEqual(newcomer.vip_tier_id, self.tier_a)
        self.assertEqual(newcomer.vip_tier_since, since)
        self.assertEqual(newcomer.vip_company_id, self.company)
        self.assertTrue(newcomer.vip_downgrade_date, "below retention: a grace period")
        self.assertFalse(
            newcomer.vip_tier_history_ids.filtered(lambda h: h.new_tier_id == self.tier_c),
            "not re-evaluated as a new customer",
        )

    # A3 ------------------------------------------------------------------
    def test_manager_of_another_company_cannot_set_program_fields(self):
        company_2 = self.setup_other_company(name="VIP Co 2")["company"]
        manager_2 = new_test_user(
            self.env,
            login="vip_customer-manager-2",
            groups="base.group_user,vip_customer.group_vip_manager",
            company_id=company_2.id,
            company_ids=[Command.set(company_2.ids)],
        )
        self.assertEqual(self.person.vip_company_id, self.company)
        person = self.person.with_user(manager_2)
        values = {
            "vip_locked": True,
            "vip_lock_until": "2099-01-01",
            "vip_downgrade_date": "2099-01-01",
            "vip_spend": 1.0,
            "vip_churn_score": 100,
            "vip_pending_tier_id": False,
        }
        for fname, value in values.items():
            label = self.person._fields[fname]._description_string(self.env)
            with self.assertRaisesRegex(AccessError, re.escape(label)):
                person.write({fname: value})
        self.assertFalse(self.person.vip_locked)
        with self.assertRaisesRegex(AccessError, "VIP Program Company"):
            self.env["res.partner"].with_user(manager_2).create(
                {"name": "Pushed", "vip_company_id": self.company.id}
            )
        # company 1's manager still can
        self.person.with_user(self.vip_manager).write({"vip_locked": True})
        self.assertTrue(self.person.vip_locked)

    # A4 ------------------------------------------------------------------
    def test_derived_fields_not_writable(self):
        for user in (self.vip_user, self.vip_manager):
            with self.assertRaisesRegex(AccessError, "Next Follow-up"):
                self.person.with_user(user).write({"vip_next_followup_date": "2099-01-01"})
        with self.assertRaises(AccessError):
            self.person.with_user(self.vip_user).write({"vip_birthday_month": 3})
        with self.assertRaises(AccessError):
            self.env["res.partner"].with_user(self.vip_user).create(
                {"name": "X", "vip_next_followup_date": "2099-01-01"}
            )
        self.assertNotEqual(self.person.vip_next_followup_date, datetime.date(2099, 1, 1))

    # B -------------------------------------------------------------------
    def test_plain_user_duplicates_contacts(self):
        self.person.write({"vip_diet_preference": "Vegetarian", "vip_special_needs": "Wheelchair"})
        plain = self.env["res.partner"].create({"name": "Deco Addict", "is_company": True})
        for partner in (self.person, self.platinum, plain):
            copy = partner.with_user(self.salesman).copy()
            self.assertTrue(copy.name)
            self.assertFalse(copy.vip_tier_id)
            self.assertFalse(copy.sudo().vip_diet_preference)

    # E -------------------------------------------------------------------
    def test_lock_end_in_the_past_refused(self):
        with self.assertRaisesRegex(ValidationError, "Locked Until"):
            self.person.with_user(self.vip_manager).write(
                {"vip_locked": True, "vip_lock_until": "2000-01-01"}
            )
        self.assertFalse(self.person.vip_locked)
        self.person.with_user(self.vip_manager).write(
            {"vip_locked": True, "vip_lock_until": "2099-01-01"}
        )
        self.assertTrue(self.person.vip_locked)

    def test_anniversary_bounded(self):
        for date in ("2100-01-01", "1850-01-01"):
            with self.assertRaisesRegex(ValidationError, "Customer Anniversary"):
                self.person.with_user(self.vip_user).write({"vip_anniversary_date": date})
        self.person.with_user(self.vip_user).write({"vip_anniversary_date": "2010-05-01"})

    def test_tier_level_bounded(self):
        with self.assertRaisesRegex(ValidationError, "Level"):
            self.tier_c.with_user(self.vip_manager).write({"level": -1})
        self.assertEqual(self.tier_c.level, 1)
