import importlib.util
import os

from dateutil.relativedelta import relativedelta

from odoo import Command
from odoo.tests import tagged

from .common import VipLoyaltyCommon


def _load_migration(version, name):
    path = os.path.join(
        os.path.dirname(os.path.dirname(__file__)), "migrations", version, f"{name}.py"
    )
    spec = importlib.util.spec_from_file_location(f"vip_loyalty_{name}_{version}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestMomentPointsExpiring(VipLoyaltyCommon):
    """The key moment "Points expiring", built in for every company: the e-mail
    the expiry-warning cron used to send, once per lot, through the engine."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.MomentEngine = cls.env["vip.moment.engine"]
        cls.rule = cls.company._vip_get_builtin_moment_rules("points_expiring")
        cls.rule.within_days = 10
        cls.template = cls.env.ref("vip_loyalty.mail_template_points_expiry_warning")
        cls.customer.write({"vip_tier_id": cls.tier_c.id})

    def _customer(self, name, tier=None, **vals):
        return self._partner(
            name,
            tier=tier or self.tier_c,
            email=f"{name.lower().replace(' ', '.')}@vip-test.example.com",
            **vals,
        )

    def _mails(self, partners):
        return self.env["mail.mail"].search([("recipient_ids", "in", partners.ids)])

    def _run(self, days=0):
        return self.MomentEngine._run(self.today + relativedelta(days=days), rules=self.rule)

    def test_builtin_rule_replaces_the_cron(self):
        self.assertTrue(self.rule.builtin and self.rule.active)
        self.assertEqual(self.rule.trigger_type, "points_expiring")
        self.assertEqual(self.rule.trigger_kind, "anomaly")
        self.assertEqual(self.rule.mail_template_id, self.template)
        self.assertFalse(self.rule.create_activity, "an e-mail, as before: no task")
        self.assertEqual(self.template.model, "res.partner")
        self.assertFalse(
            self.env.ref("vip_loyalty.ir_cron_vip_loyalty_expiry_warning", raise_if_not_found=False)
        )
        # a new company gets its own
        company = self.env["res.company"].create({"name": "Points Two Ltd"})
        self.assertEqual(
            company._vip_get_builtin_moment_rules("points_expiring").mail_template_id,
            self.template,
        )

    def test_fires_within_days_boundary(self):
        """Points expiring on day N (the rule's "within") fire, on day N+1 not; points
        expiring today are already lapsing (the expiry cron takes them)."""
        at_limit = self._customer("At Limit")
        beyond = self._customer("Beyond Limit")
        lapsing = self._customer("Lapsing Today")
        self._give(at_limit, 120, expiry_date=self.today + relativedelta(days=10))
        self._give(beyond, 130, expiry_date=self.today + relativedelta(days=11))
        self._give(lapsing, 140, expiry_date=self.today)
        moments = self._run()
        self.assertEqual(moments.partner_id, at_limit)
        self.assertEqual(moments.state, "done", "no task: processed by its e-mail")
        self.assertTrue(moments.mail_sent)
        mail = self._mails(at_limit | beyond | lapsing)
        self.assertEqual(mail.recipient_ids, at_limit)
        self.assertIn("120", mail.body_html)
        self.assertIn(self.company.name, mail.subject)
        # the day after, the other customer's points are within 10 days
        self.assertEqual(self._run(days=1).partner_id, beyond)

    def test_once_per_lot_and_later_lots_announced_alone(self):
        """Port of the cron's "once per lot": a second run sends nothing; a lot that
        enters the window later gets one new e-mail, listing only what then expires."""
        lot = self._give(self.customer, 120, expiry_date=self.today + relativedelta(days=10))
        self._give(self.customer, 80, expiry_date=self.today + relativedelta(days=200))
        self.assertTrue(self._run())
        self.assertEqual(len(self._mails(self.customer)), 1)
        self.assertIn("120", self._mails(self.customer).body_html)
        self.assertNotIn(">80<", self._mails(self.customer).body_html)
        self.assertFalse(self._run(), "once per lot")
        self.assertFalse(self._run(days=5), "once per lot, whatever the day")
        self.assertEqual(len(self._mails(self.customer)), 1)
        self.Engine._expire_lots(today=lot.expiry_date)
        again = self._run(days=195)
        self.assertEqual(again.partner_id, self.customer)
        mails = self._mails(self.customer)
        self.assertEqual(len(mails), 2)
        last = mails.sorted("id")[-1]
        self.assertIn("80", last.body_html)
        self.assertNotIn("120", last.body_html)
        self.assertFalse(self._run(days=196))

    def test_second_mail_lists_only_the_new_lots(self):
        """A lot entering the window while an announced one is still open: the new
        e-mail is about the new lot only (never twice about the same points)."""
        self._give(self.customer, 120, expiry_date=self.today + relativedelta(days=10))
        self._give(self.customer, 80, expiry_date=self.today + relativedelta(days=15))
        self.assertTrue(self._run())
        self.assertNotIn(">80<", self._mails(self.customer).body_html)
        second = self._run(days=5)
        self.assertEqual(second.occasion_key, f"expiry:{self.today + relativedelta(days=15)}")
        last = self._mails(self.customer).sorted("id")[-1]
        self.assertIn(">80<", last.body_html)
        self.assertNotIn(">120<", last.body_html)

    def test_lots_of_the_window_in_one_mail(self):
        """Port of the cron's batches: one e-mail per customer with every lot of the
        window; a customer without e-mail gets none (the moment says why)."""
        customers = self.env["res.partner"]
        soon = self.today + relativedelta(days=3)
        for i in range(3):
            customers |= self._customer(f"Warned {i}")
            self._give(customers[-1], 41, expiry_date=soon)
            self._give(customers[-1], 67, expiry_date=soon + relativedelta(days=5))
        no_mail = self._partner("No Mail", tier=self.tier_c)
        self._give(no_mail, 40, expiry_date=soon)
        moments = self._run()
        self.assertEqual(moments.partner_id, customers | no_mail)
        mails = self._mails(customers | no_mail)
        self.assertEqual(mails.recipient_ids, customers, "one mail per customer")
        self.assertEqual(len(mails), 3)
        for mail in mails:
            self.assertIn("41", mail.body_html)
            self.assertIn("67", mail.body_html, "both lots in one mail")
        blocked = moments.filtered(lambda m: m.partner_id == no_mail)
        self.assertFalse(blocked.mail_sent)
        self.assertEqual(blocked.skipped_reason, "no valid e-mail")
        self.assertFalse(self._run())
        self.assertEqual(len(self._mails(customers)), 3, "not sent twice")

    def test_tier_filter(self):
        gold = self._customer("Gold Points", tier=self.tier_a)
        self._give(gold, 50, expiry_date=self.today + relativedelta(days=5))
        self._give(self.customer, 60, expiry_date=self.today + relativedelta(days=5))
        self.rule.tier_ids = [Command.set(self.tier_a.ids)]
        self.assertEqual(self._run().partner_id, gold)

    def test_members_without_a_tier_are_warned_too(self):
        """The former warning cron warned every member of the program: the built-in
        rule does too; a rule for VIPs only leaves them out."""
        member = self._partner("Plain Member", email="plain.member@vip-test.example.com")
        self.assertFalse(member.vip_tier_id)
        self._give(member, 70, expiry_date=self.today + relativedelta(days=5))
        self.assertTrue(self.rule.include_non_vip)
        moment = self._run()
        self.assertEqual(moment.partner_id, member)
        self.assertTrue(self._mails(member))
        other_rule = self.rule.copy({"include_non_vip": False})
        self._give(member, 80, expiry_date=self.today + relativedelta(days=6))
        self.assertFalse(
            self.MomentEngine._run(self.today, rules=other_rule),
            "a rule for VIP customers only",
        )

    def test_other_company_points_do_not_fire(self):
        other = self.env["res.company"].create({"name": "Other Points Co"})
        self.env["vip.loyalty.program"].create({"company_id": other.id, "validity_months": 12})
        self._give(self.customer, 60, expiry_date=self.today + relativedelta(days=5), company=other)
        self.assertFalse(self._run())

    def test_task_due_before_the_points_lapse(self):
        self.rule.write({"create_activity": True, "deadline_days": 7})
        self.customer.vip_account_manager_id = self.vip_user
        self._give(self.customer, 60, expiry_date=self.today + relativedelta(days=4))
        moment = self._run()
        self.assertEqual(moment.state, "open")
        self.assertEqual(moment.activity_id.user_id, self.vip_user)
        self.assertEqual(moment.activity_id.date_deadline, self.today + relativedelta(days=3))
        self.assertEqual(moment.occasion_date, self.today + relativedelta(days=4))

    def test_expiring_lots_field_follows_the_program(self):
        lot = self._give(self.customer, 70, expiry_date=self.today + relativedelta(days=20))
        self._give(self.customer, 90, expiry_date=self.today + relativedelta(days=40))
        self.assertEqual(self.customer.vip_loyalty_expiring_lot_ids, lot)


@tagged("post_install", "-at_install")
class TestMigrationExpiryWarnings(VipLoyaltyCommon):
    """18.0.1.1.0: the lots already warned by the old cron become processed
    moments; nobody is warned twice across the upgrade."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.migration = _load_migration("18.0.1.1.0", "post-migrate")
        cls.rule = cls.company._vip_get_builtin_moment_rules("points_expiring")
        # the former column, as a database before the upgrade has it
        cls.env.cr.execute(
            "ALTER TABLE vip_loyalty_move ADD COLUMN IF NOT EXISTS warning_sent boolean"
        )

    def _warned(self, lots):
        lots.flush_recordset()
        self.env.cr.execute(
            "UPDATE vip_loyalty_move SET warning_sent = true WHERE id = ANY(%s)", [lots.ids]
        )

    def test_warned_lots_are_not_warned_again(self):
        self.customer.vip_tier_id = self.tier_c
        fresh = self._partner("Never Warned", tier=self.tier_c, email="never@vip-test.example.com")
        warned = self._give(self.customer, 120, expiry_date=self.today + relativedelta(days=10))
        self._give(self.customer, 80, expiry_date=self.today + relativedelta(days=20))
        self._warned(warned)
        self._give(fresh, 50, expiry_date=self.today + relativedelta(days=10))
        done = self.migration.migrate_expiry_warnings(self.env, self.today)
        moment = done.filtered(lambda o: o.partner_id == self.customer)
        self.assertEqual(moment.rule_id, self.rule)
        self.assertEqual(moment.state, "done")
        self.assertEqual(moment.board_state, "done")
        self.assertTrue(moment.mail_sent)
        self.assertEqual(self.rule.within_days, 30, "the program's warning delay")
        # idempotent
        self.assertFalse(self.migration.migrate_expiry_warnings(self.env, self.today))
        Mail = self.env["mail.mail"]
        moments = self.env["vip.moment.engine"]._run(self.today, rules=self.rule)
        # the warned lot is not announced again; the unwarned lot expiring later is,
        # and the customer never warned gets theirs
        self.assertEqual(moments.partner_id, self.customer | fresh)
        mail = Mail.search([("recipient_ids", "in", self.customer.ids)])
        self.assertEqual(len(mail), 1)
        self.assertIn(">80<", mail.body_html)
        self.assertNotIn(">120<", mail.body_html, "the warned lot is not announced again")

    def test_only_warned_lots_hold_the_moment_back(self):
        self.customer.vip_tier_id = self.tier_c
        warned = self._give(self.customer, 120, expiry_date=self.today + relativedelta(days=10))
        self._warned(warned)
        self.migration.migrate_expiry_warnings(self.env, self.today)
        self.assertFalse(self.env["vip.moment.engine"]._run(self.today, rules=self.rule))
        self.assertFalse(self.env["mail.mail"].search([("recipient_ids", "in", self.customer.ids)]))

    def test_program_without_warning_archives_the_rule(self):
        self.program.warning_days = 0
        self.migration.migrate_expiry_warnings(self.env, self.today)
        self.assertFalse(self.rule.active)
