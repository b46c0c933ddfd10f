from datetime import timedelta

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged

from .common import VipCustomerCommon


@tagged("post_install", "-at_install")
class TestPartnerProfile(VipCustomerCommon):
    def test_manual_tier_is_logged_as_manual(self):
        self.customer.with_user(self.vip_manager).vip_tier_id = self.tier_a
        history = self.env["vip.tier.history"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(len(history), 1)
        self.assertEqual(history.reason, "manual")
        self.assertEqual(history.direction, "new")
        self.assertEqual(history.user_id, self.vip_manager)
        self.assertEqual(self.customer.vip_tier_since, self.today)
        self.assertEqual(self.customer.vip_company_id, self.company)

    def test_tier_change_wizard_locks(self):
        wizard = Form(
            self.env["vip.tier.change"]
            .with_user(self.vip_manager)
            .with_context(default_partner_ids=self.customer.ids)
        )
        wizard.tier_id = self.tier_a
        wizard.reason = "Strategic partner"
        wizard.lock_until = self.today + timedelta(days=90)
        wizard.save().action_apply()
        self.assertEqual(self.customer.vip_tier_id, self.tier_a)
        self.assertTrue(self.customer.vip_locked)
        self.assertEqual(self.customer.vip_lock_reason, "Strategic partner")
        history = self.customer.vip_tier_history_ids
        self.assertEqual(history.note, "Strategic partner")
        # the rules leave it alone while locked
        self.recompute()
        self.assertEqual(self.customer.vip_tier_id, self.tier_a)
        self.customer.with_user(self.vip_manager).action_vip_unlock()
        self.assertFalse(self.customer.vip_locked)
        self.recompute()
        self.assertEqual(
            self.customer.vip_tier_id, self.tier_a, "unlocked: the grace period starts"
        )
        self.assertEqual(self.customer.vip_downgrade_date, self.today + timedelta(days=30))
        self.assertFalse(self.customer.vip_pending_tier_id, "no purchase: no tier at the end")

    def test_wizard_refuses_past_lock_date(self):
        with self.assertRaises(UserError):
            self.env["vip.tier.change"].with_user(self.vip_manager).create(
                {
                    "partner_ids": self.customer.ids,
                    "tier_id": self.tier_a.id,
                    "reason": "x",
                    "lock": True,
                    "lock_until": self.today - timedelta(days=1),
                }
            )

    def test_only_managers_set_tiers_or_locks(self):
        for user in (self.vip_user, self.salesman):
            with self.assertRaises(AccessError):
                self.customer.with_user(user).write({"vip_tier_id": self.tier_a.id})
            with self.assertRaises(AccessError):
                self.customer.with_user(user).write({"vip_locked": True})
            with self.assertRaises(AccessError):
                self.env["res.partner"].with_user(user).create(
                    {"name": "Sneaky", "vip_tier_id": self.tier_a.id}
                )
        # the context flag of the engine grants nothing to an RPC caller
        with self.assertRaises(AccessError):
            self.customer.with_user(self.vip_user).with_context(vip_engine=True).write(
                {"vip_tier_id": self.tier_a.id}
            )
        self.assertFalse(self.customer.vip_tier_id)

    def test_anyone_adds_contacts_to_a_vip_company(self):
        self.customer.with_user(self.vip_manager).vip_tier_id = self.tier_b
        contact = (
            self.env["res.partner"]
            .with_user(self.salesman)
            .create({"name": "Assistant", "parent_id": self.customer.id})
        )
        self.assertEqual(contact.vip_tier_id, self.tier_b)

    def test_account_manager_defaults_to_salesperson(self):
        partner = self.env["res.partner"].create({"name": "New", "user_id": self.vip_manager.id})
        self.assertEqual(partner.vip_account_manager_id, self.vip_manager)
        # only a salesperson with VIP access becomes account manager by default
        other = self.env["res.partner"].create({"name": "Other", "user_id": self.salesman.id})
        self.assertFalse(other.vip_account_manager_id)
        partner.vip_account_manager_id = self.vip_user
        partner.user_id = self.vip_manager
        self.assertEqual(partner.vip_account_manager_id, self.vip_user, "a chosen manager stays")

    def test_sensitive_notes_for_vip_users_only(self):
        self.customer.vip_sensitive_note = "Prefers discreet deliveries"
        self.assertEqual(
            self.customer.with_user(self.vip_user).vip_sensitive_note, "Prefers discreet deliveries"
        )
        with self.assertRaises(AccessError):
            self.customer.with_user(self.salesman).read(["vip_sensitive_note"])
        # the profile page is not even in the salesman's form
        arch = self.env["res.partner"].with_user(self.salesman).get_views([(False, "form")])
        self.assertNotIn("vip_sensitive_note", arch["views"]["form"]["arch"])

    def test_birthday_month_filter(self):
        self.customer.vip_birthday = self.today.replace(year=1980, day=1)
        found = self.env["res.partner"].search([("vip_birthday_month", "=", self.today.month)])
        self.assertIn(self.customer, found)

    def test_next_followup_follows_tier_cadence(self):
        self._create_cadences()
        self.customer.with_user(self.vip_manager).vip_tier_id = self.tier_a
        self.assertEqual(self.customer.vip_next_followup_date, self.today + timedelta(days=90))
        # the last contact counts from the latest of the tier start and the last follow-up
        self.customer.vip_last_followup_date = self.today - timedelta(days=10)
        self.assertEqual(self.customer.vip_next_followup_date, self.today + timedelta(days=90))
        self.customer.with_user(self.vip_manager).vip_tier_since = self.today - timedelta(days=30)
        self.assertEqual(self.customer.vip_next_followup_date, self.today + timedelta(days=80))

    def test_tier_rules_are_validated(self):
        with self.assertRaises(ValidationError):
            self.tier_a.retention_spend = 150000
        with self.assertRaises(ValidationError):
            self.Tier.create(
                {"name": "D", "code": "D", "level": 9, "min_spend": 10, "retention_spend": 20}
            )

    def test_tier_in_use_cannot_be_deleted(self):
        self.customer.with_user(self.vip_manager).vip_tier_id = self.tier_b
        with self.assertRaises(ValidationError):
            self.tier_b.unlink()
        self.assertEqual(self.tier_b.partner_count, 1)

    def test_history_is_append_only(self):
        self.customer.with_user(self.vip_manager).vip_tier_id = self.tier_b
        history = self.customer.vip_tier_history_ids
        with self.assertRaises(UserError):
            history.write({"note": "rewritten"})
        with self.assertRaises(AccessError):
            history.unlink()
        with self.assertRaises(UserError):
            history.sudo().unlink()

    def test_settings_are_validated(self):
        with self.assertRaises(ValidationError):
            self.env["res.config.settings"].create(
                {"vip_churn_medium_threshold": 80, "vip_churn_high_threshold": 60}
            ).execute()
        with self.assertRaises(ValidationError):
            self.company.vip_window_months = 0

    def test_pareto_share_of_spend(self):
        spenders = self.env["res.partner"].create([{"name": f"P{i}"} for i in range(5)])
        for partner, amount in zip(spenders, (80000, 5000, 5000, 5000, 5000), strict=True):
            self._invoice(partner, amount, days_ago=3)
        self.recompute()
        rows = self.env["vip.pareto.report"].search([("partner_id", "in", spenders.ids)])
        top = rows.filtered(lambda r: r.segment == "1_top")
        self.assertEqual(top.partner_id, spenders[0], "the top 20% of five customers is one")
        self.assertAlmostEqual(top.spend_share, 80.0)
        self.assertAlmostEqual(sum(rows.mapped("spend_share")), 100.0)
