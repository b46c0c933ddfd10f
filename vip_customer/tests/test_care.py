from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged

from .common import VipCustomerCommon


@tagged("post_install", "-at_install")
class TestCare(VipCustomerCommon):
    """Care moments: greetings and gift activities on birthdays, customer
    anniversaries and fixed dates, once a year per customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Occasion = cls.env["vip.care.occasion"]
        cls.gift_type = cls.env.ref("vip_customer.mail_activity_type_vip_gift")
        cls.birthday = cls.Occasion.create({
            "name": "Birthday",
            "company_id": cls.company.id,
            "occasion_type": "birthday",
            "send_mail": True,
            "create_activity": True,
            "activity_tier_ids": [Command.set(cls.tier_a.ids)],
        })
        cls.customer.write({"vip_tier_id": cls.tier_a.id, "vip_birthday": date(1975, 5, 10)})
        cls.opted_out = cls._vip_partner(
            "Silent Jade Co.", cls.tier_a, vip_birthday=date(1980, 5, 10), vip_care_opt_out=True,
            email="jade@example.com",
        )
        cls.no_email = cls._vip_partner(
            "Paper Only Ltd", cls.tier_b, vip_birthday=date(1988, 5, 10),
        )
        cls.tier_b_partner = cls._vip_partner(
            "Bamboo Partners", cls.tier_b, vip_birthday=date(1990, 5, 10),
            email="bamboo@example.com",
        )
        cls.birthday_template = cls.env.ref("vip_customer.mail_template_vip_birthday")
        cls.greeting_template = cls.env.ref("vip_customer.mail_template_vip_greeting")

    @classmethod
    def _vip_partner(cls, name, tier, **vals):
        partner = cls.env["res.partner"].create({
            "name": name, "is_company": True, "user_id": cls.vip_user.id, **vals,
        })
        partner.write({"vip_tier_id": tier.id})
        return partner

    def _run(self, day):
        with freeze_time(day):
            return self.run_cron(self.env["vip.care.occasion"]._cron_vip_care_moments)

    def _mails(self, partner):
        return self.env["mail.mail"].search([
            ("model", "=", "res.partner"), ("res_id", "=", partner.id),
        ])

    def _gifts(self, partner):
        return self.env["mail.activity"].search([
            ("res_model", "=", "res.partner"),
            ("res_id", "=", partner.id),
            ("activity_type_id", "=", self.gift_type.id),
        ])

    def _logs(self, partner, occasion=None):
        return self.env["vip.care.log"].search([
            ("partner_id", "=", partner.id), ("occasion_id", "=", (occasion or self.birthday).id),
        ])

    # ------------------------------------------------------------------
    # Birthday
    # ------------------------------------------------------------------
    def test_birthday_greeting_and_gift(self):
        self._run("2025-05-10")
        mail = self._mails(self.customer)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.subject, "Happy birthday, Golden Dragon Trading!")
        self.assertEqual(mail.recipient_ids, self.customer)
        self.assertEqual(mail.state, "outgoing")
        self.assertIn("happy birthday", mail.body_html)
        # the greeting shows in the customer's chatter
        self.assertIn(mail.mail_message_id, self.customer.message_ids)

        gift = self._gifts(self.customer)
        self.assertEqual(len(gift), 1)
        self.assertEqual(gift.user_id, self.vip_user)
        self.assertEqual(gift.date_deadline, date(2025, 5, 10))
        self.assertEqual(gift.summary, "Gift: Birthday")

        log = self._logs(self.customer)
        self.assertRecordValues(log, [{
            "year": 2025, "occasion_date": date(2025, 5, 10), "date": date(2025, 5, 10),
            "mail_sent": True, "activity_created": True, "skipped_reason": False,
        }])

    def test_other_days_nothing(self):
        self._run("2025-05-09")
        self._run("2025-05-11")
        self.assertFalse(self._mails(self.customer))
        self.assertFalse(self._logs(self.customer))

    def test_days_ahead(self):
        self.birthday.days_before = 3
        self._run("2025-05-07")
        self.assertEqual(len(self._mails(self.customer)), 1)
        self.assertEqual(self._gifts(self.customer).date_deadline, date(2025, 5, 10))
        self.assertEqual(self._logs(self.customer).occasion_date, date(2025, 5, 10))

    def test_opt_out_no_mail_but_gift(self):
        self._run("2025-05-10")
        self.assertFalse(self._mails(self.opted_out))
        self.assertEqual(len(self._gifts(self.opted_out)), 1, "the gift is internal")
        self.assertRecordValues(self._logs(self.opted_out), [{
            "mail_sent": False, "activity_created": True, "skipped_reason": "opted out",
        }])

    def test_missing_email_does_not_break_the_batch(self):
        self.tier_b_partner.email = "not an address"
        self._run("2025-05-10")
        self.assertFalse(self._mails(self.no_email))
        self.assertEqual(self._logs(self.no_email).skipped_reason, "no email")
        self.assertEqual(self._logs(self.tier_b_partner).skipped_reason, "invalid email")
        self.assertEqual(len(self._mails(self.customer)), 1)

    def test_gift_only_for_gift_tiers(self):
        self._run("2025-05-10")
        self.assertEqual(len(self._mails(self.tier_b_partner)), 1)
        self.assertFalse(self._gifts(self.tier_b_partner))
        self.assertRecordValues(self._logs(self.tier_b_partner), [{
            "mail_sent": True, "activity_created": False,
        }])

    def test_gift_for_all_tiers_when_empty(self):
        self.birthday.activity_tier_ids = False
        self._run("2025-05-10")
        self.assertEqual(len(self._gifts(self.tier_b_partner)), 1)

    def test_occasion_tier_filter(self):
        self.birthday.tier_ids = self.tier_a
        self._run("2025-05-10")
        self.assertEqual(len(self._mails(self.customer)), 1)
        self.assertFalse(self._mails(self.tier_b_partner))
        self.assertFalse(self._logs(self.tier_b_partner))

    def test_no_tier_no_care(self):
        self.tier_b_partner.write({"vip_tier_id": False})
        self._run("2025-05-10")
        self.assertFalse(self._logs(self.tier_b_partner))

    def test_once_a_year_then_again_next_year(self):
        self._run("2025-05-10")
        self._run("2025-05-10")
        self.assertEqual(len(self._mails(self.customer)), 1)
        self.assertEqual(len(self._gifts(self.customer)), 1)
        self.assertEqual(len(self._logs(self.customer)), 1)

        self._run("2026-05-10")
        self.assertEqual(len(self._mails(self.customer)), 2)
        self.assertEqual(len(self._gifts(self.customer)), 2)
        self.assertEqual(self._logs(self.customer).mapped("year"), [2026, 2025])

    def test_leap_day_birthday(self):
        leap = self._vip_partner(
            "Leap Day Trading", self.tier_a, vip_birthday=date(1992, 2, 29),
            email="leap@example.com",
        )
        twenty_eighth = self._vip_partner(
            "Feb 28 Ltd", self.tier_a, vip_birthday=date(1991, 2, 28), email="feb28@example.com",
        )
        # common year: celebrated on 28 February, with the 28th's birthdays
        self._run("2025-02-28")
        self.assertEqual(len(self._mails(leap)), 1)
        self.assertEqual(self._logs(leap).occasion_date, date(2025, 2, 28))
        self.assertEqual(len(self._mails(twenty_eighth)), 1)
        self._run("2025-03-01")
        self.assertEqual(len(self._mails(leap)), 1)
        # leap year: on the day itself
        self._run("2028-02-28")
        self.assertEqual(len(self._mails(leap)), 1)
        self.assertEqual(len(self._mails(twenty_eighth)), 2)
        self._run("2028-02-29")
        self.assertEqual(len(self._mails(leap)), 2)
        self.assertEqual(
            self._logs(leap).mapped("occasion_date"), [date(2028, 2, 29), date(2025, 2, 28)]
        )

    def test_contacts_of_vip_companies_are_greeted(self):
        """Birthdays are people's: the contact of a VIP company is greeted and
        the company's account manager prepares the gift (issue 10)."""
        contact = self.env["res.partner"].create({
            "name": "Mrs. Li", "parent_id": self.customer.id, "vip_birthday": date(1970, 5, 10),
            "email": "li@example.com",
        })
        self.assertEqual(contact.vip_tier_id, self.tier_a)
        self._run("2025-05-10")
        self.assertTrue(self._logs(contact))
        self.assertTrue(self._mails(contact))
        self.assertEqual(self._gifts(contact).user_id, self.customer.vip_account_manager_id)

    def test_no_account_manager_logged(self):
        self.customer.write({"user_id": False, "vip_account_manager_id": False})
        self._run("2025-05-10")
        self.assertFalse(self._gifts(self.customer))
        self.assertRecordValues(self._logs(self.customer), [{
            "mail_sent": True, "activity_created": False,
            "skipped_reason": "no account manager for the gift",
        }])

    def test_archived_occasion_does_nothing(self):
        self.birthday.active = False
        self._run("2025-05-10")
        self.assertFalse(self._logs(self.customer))

    # ------------------------------------------------------------------
    # Anniversary and fixed dates
    # ------------------------------------------------------------------
    def test_customer_anniversary(self):
        occasion = self.Occasion.create({
            "name": "Anniversary", "company_id": self.company.id, "occasion_type": "anniversary",
        })
        self.assertEqual(occasion.mail_template_id, self.greeting_template)
        self.customer.vip_anniversary_date = date(2020, 6, 15)
        self.tier_b_partner.vip_anniversary_date = date(2025, 6, 15)  # started this year
        self._run("2025-06-15")
        self.assertEqual(self._logs(self.customer, occasion).mail_sent, True)
        mail = self._mails(self.customer)
        self.assertEqual(len(mail), 1)
        self.assertIn("Season's greetings", mail.subject)
        self.assertFalse(self._logs(self.tier_b_partner, occasion))

    def test_fixed_date_occasion(self):
        occasion = self.Occasion.create({
            "name": "Mid-Autumn Festival", "company_id": self.company.id, "occasion_type": "fixed",
            "month": 10, "day": 6, "days_before": 3,
            "tier_ids": [Command.set((self.tier_a | self.tier_b).ids)],
            "send_mail": True, "create_activity": True,
        })
        plain_c = self._vip_partner("Tier C Shop", self.tier_c, email="c@example.com")
        self._run("2025-10-02")
        self.assertFalse(self._logs(self.customer, occasion))
        self._run("2025-10-03")
        logs = self.env["vip.care.log"].search([("occasion_id", "=", occasion.id)])
        self.assertEqual(
            logs.partner_id, self.customer | self.opted_out | self.no_email | self.tier_b_partner
        )
        self.assertNotIn(plain_c, logs.partner_id)
        self.assertEqual(set(logs.mapped("occasion_date")), {date(2025, 10, 6)})
        self.assertEqual(self._gifts(self.tier_b_partner).date_deadline, date(2025, 10, 6))
        self.assertIn("Season's greetings", self._mails(self.tier_b_partner).subject)

    def test_fixed_leap_day_occasion(self):
        occasion = self.Occasion.create({
            "name": "Leap party", "company_id": self.company.id, "occasion_type": "fixed",
            "month": 2, "day": 29, "send_mail": False, "create_activity": True,
        })
        self._run("2025-02-28")
        self.assertEqual(len(self._gifts(self.customer)), 1)
        self.assertEqual(self._logs(self.customer, occasion).year, 2025)

    def test_run_now_by_manager(self):
        """"Run Now" hands the work to the care cron instead of running every
        customer inside the request; the cron's calls then do it."""
        cron = self.env.ref("vip_customer.ir_cron_vip_care_moments")
        Trigger = self.env["ir.cron.trigger"].sudo()
        before = Trigger.search_count([("cron_id", "=", cron.id)])
        with freeze_time("2025-05-10"):
            action = self.birthday.with_user(self.vip_manager).action_run_now()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), before + 1)
        self.assertFalse(self._mails(self.customer), "nothing done in the request")
        self._run("2025-05-10")
        self.assertEqual(len(self._mails(self.customer)), 1)
        self.assertEqual(self.birthday.log_count, 4)

    def test_cron_cares_in_batches(self):
        """One bounded batch per call, the right remaining count each time,
        every customer cared for once."""
        with freeze_time("2025-05-10"):
            progress = self.run_cron(
                self.env["vip.care.occasion"]._cron_vip_care_moments, batch_size=1
            )
        self.assertGreaterEqual(len(progress), 4)
        self.assertTrue(all(done == 1 for done, _remaining in progress))
        for (_done, remaining), (done, next_remaining) in zip(progress, progress[1:], strict=False):
            self.assertEqual(next_remaining, remaining - done)
        self.assertEqual(progress[-1][1], 0)
        logs = self.env["vip.care.log"].search([("date", "=", date(2025, 5, 10))])
        self.assertEqual(len(logs), sum(done for done, _r in progress))
        self.assertEqual(len(logs), len({(log.occasion_id, log.partner_id) for log in logs}))
        self.assertEqual(self.birthday.log_count, 4)
        self.assertEqual(len(self._mails(self.customer)), 1)

    def test_run_now_refuses_an_archived_occasion(self):
        """Hostile check: "Run Now" on an archived occasion said "started" and
        the cron then did nothing for it."""
        self.birthday.active = False
        with self.assertRaisesRegex(UserError, "archived"):
            self.birthday.with_user(self.vip_manager).action_run_now()

    def test_run_now_managers_only(self):
        with freeze_time("2025-05-10"), self.assertRaises(AccessError):
            self.birthday.with_user(self.vip_user).action_run_now()
        self.assertFalse(self._logs(self.customer))

    # ------------------------------------------------------------------
    # Form and constraints
    # ------------------------------------------------------------------
    def test_form_default_template_follows_type(self):
        form = Form(self.Occasion.with_user(self.vip_manager))
        form.name = "Spring Festival"
        self.assertEqual(form.mail_template_id, self.birthday_template)
        form.occasion_type = "fixed"
        self.assertEqual(form.mail_template_id, self.greeting_template)
        form.month = 1
        form.day = 29
        occasion = form.save()
        self.assertEqual((occasion.month, occasion.day, occasion.company_id), (1, 29, self.company))

    def test_constraints(self):
        vals = {"name": "Holiday", "company_id": self.company.id, "occasion_type": "fixed"}
        self.Occasion.create({**vals, "month": 2, "day": 29})
        for month, day in ((2, 30), (13, 1), (0, 1), (4, 31), (1, 0)):
            with self.subTest(month=month, day=day), self.assertRaises(ValidationError):
                self.Occasion.create({**vals, "month": month, "day": day})
        with self.assertRaises(ValidationError):
            self.Occasion.create({**vals, "month": 1, "day": 1, "days_before": -1})
        with self.assertRaises(ValidationError):
            self.Occasion.create({**vals, "month": 1, "day": 1, "mail_template_id": False})
        # no template is fine when no greeting is sent
        self.Occasion.create({
            **vals, "month": 1, "day": 1, "send_mail": False, "mail_template_id": False,
        })
