import importlib.util
import json
from datetime import date

from freezegun import freeze_time

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools.misc import file_path

from .common import VipCustomerCommon


def _load_care_migration():
    path = file_path("vip_customer/migrations/18.0.1.2.0/post-20-care.py")
    spec = importlib.util.spec_from_file_location("vip_customer_post_20_care", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestCare(VipCustomerCommon):
    """Care moments as key-moment rules: birthday greetings and gifts,
    customer anniversaries and holidays, once a year per customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Rule = cls.env["vip.moment.rule"]
        cls.Occurrence = cls.env["vip.moment.occurrence"]
        cls.MomentEngine = cls.env["vip.moment.engine"]
        # only the rules of this test run
        cls.Rule.sudo().with_context(active_test=False).search([]).write({"active": False})
        cls.gift_type = cls.env.ref("vip_customer.mail_activity_type_vip_gift")
        cls.birthday_template = cls.env.ref("vip_customer.mail_template_vip_birthday")
        cls.greeting_template = cls.env.ref("vip_customer.mail_template_vip_greeting")
        cls.greeting = cls.Rule.create(
            {
                "name": "Birthday greeting",
                "company_id": cls.company.id,
                "trigger_type": "birthday",
                "create_activity": False,
                "mail_template_id": cls.birthday_template.id,
            }
        )
        cls.gift = cls.Rule.create(
            {
                "name": "Birthday gift",
                "company_id": cls.company.id,
                "trigger_type": "birthday",
                "tier_ids": [Command.set(cls.tier_a.ids)],
                "activity_type_id": cls.gift_type.id,
                "activity_summary": "Gift: Birthday",
            }
        )
        # a company has no birthday: its contacts have
        cls.customer.write({"vip_tier_id": cls.tier_a.id, "vip_birthday": date(1975, 5, 10)})
        cls.ann = cls._person("Ann Wong", cls.tier_a, date(1975, 5, 10))
        cls.bob = cls._person("Bob Li", cls.tier_b, date(1990, 5, 10))
        cls.cid = cls._person("Cid Zhao", cls.tier_c, date(1980, 5, 10))
        cls.eve = cls._person("Eve Sun", cls.tier_a, date(1970, 5, 11))
        cls.nobody = cls._person("No Tier", None, date(1985, 5, 10))
        cls.contact = cls.env["res.partner"].create(
            {
                "name": "Mrs. Li",
                "parent_id": cls.customer.id,
                "vip_birthday": date(1970, 5, 10),
                "email": "li@example.com",
            }
        )

    @classmethod
    def _person(cls, name, tier, birthday, **vals):
        partner = cls.env["res.partner"].create(
            {
                "name": name,
                "user_id": cls.vip_user.id,
                "vip_birthday": birthday,
                "email": "{}@example.com".format(name.lower().replace(" ", ".")),
                **vals,
            }
        )
        if tier:
            partner.write({"vip_tier_id": tier.id})
        return partner

    def _run(self, day, rules=None):
        with freeze_time(day):
            return self.MomentEngine._run(date.fromisoformat(day), rules=rules)

    def _moments(self, rule, partner=None):
        domain = [("rule_id", "=", rule.id)]
        if partner:
            domain.append(("partner_id", "=", partner.id))
        return self.Occurrence.search(domain, order="occasion_date, id")

    def _mails(self, partner):
        return self.env["mail.mail"].search(
            [("model", "=", "res.partner"), ("res_id", "=", partner.id)]
        )

    def _gifts(self, partner):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "=", partner.id),
                ("activity_type_id", "=", self.gift_type.id),
            ]
        )

    # ------------------------------------------------------------------
    # Birthday
    # ------------------------------------------------------------------
    def test_birthday_greeting_and_gift(self):
        self._run("2025-05-10")
        greeted = self._moments(self.greeting)
        self.assertEqual(
            greeted.partner_id,
            self.ann | self.bob | self.cid | self.contact,
            "the VIP people whose birthday it is: not the company, nor a customer "
            "without tier, nor tomorrow's birthday",
        )
        mail = self._mails(self.ann)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.subject, "Happy birthday, Ann Wong!")
        self.assertEqual(mail.recipient_ids, self.ann)
        self.assertIn("happy birthday", mail.body_html)
        # the greeting shows in the customer's chatter
        self.assertIn(mail.mail_message_id, self.ann.message_ids)
        self.assertRecordValues(
            self._moments(self.greeting, self.ann),
            [
                {
                    "occasion_key": "birthday:2025",
                    "occasion_date": date(2025, 5, 10),
                    "date": date(2025, 5, 10),
                    "state": "done",
                    "mail_sent": True,
                    "skipped_reason": False,
                    "activity_id": False,
                }
            ],
        )
        # the gift: tier A only, a task for the account manager due on the day
        self.assertEqual(self._moments(self.gift).partner_id, self.ann | self.contact)
        gift = self._gifts(self.ann)
        self.assertEqual(len(gift), 1)
        self.assertEqual(gift.user_id, self.vip_user)
        self.assertEqual(gift.date_deadline, date(2025, 5, 10))
        self.assertEqual(gift.summary, "Gift: Birthday")
        self.assertFalse(self._gifts(self.bob), "no gift for tier B")
        self.assertEqual(len(self._mails(self.bob)), 1, "but a greeting")
        self.assertFalse(self._mails(self.customer) | self._mails(self.nobody))
        gift_moment = self._moments(self.gift, self.ann)
        self.assertRecordValues(
            gift_moment,
            [{"state": "open", "board_state": "due", "activity_id": gift.id, "mail_sent": False}],
        )
        # the gift prepared: the moment is processed
        gift.with_user(self.vip_user).action_feedback(feedback="Tea set sent")
        self.assertEqual(gift_moment.state, "done")

    def test_days_ahead_from_the_lead_day_on(self):
        (self.greeting | self.gift).lead_days = 3
        self._run("2025-05-06")
        self.assertFalse(self._moments(self.greeting) | self._moments(self.gift), "too early")
        self._run("2025-05-07")
        self.assertEqual(len(self._mails(self.ann)), 1)
        self.assertEqual(self._gifts(self.ann).date_deadline, date(2025, 5, 10))
        self.assertEqual(self._moments(self.greeting, self.ann).occasion_date, date(2025, 5, 10))
        self.assertNotIn(self.eve, self._moments(self.greeting).partner_id)
        # Eve's birthday enters the window the next night; the others are not repeated
        self._run("2025-05-08")
        self.assertEqual(self._moments(self.greeting).partner_id.ids[-1:], self.eve.ids)
        self.assertEqual(len(self._mails(self.ann)), 1)

    def test_nothing_on_other_days(self):
        self._run("2025-05-09")
        self.assertFalse(self._moments(self.greeting))
        self._run("2025-05-12")
        self.assertFalse(self._moments(self.greeting))
        self.assertFalse(self._mails(self.ann))

    def test_once_a_year_then_again_next_year(self):
        self._run("2025-05-10")
        self._run("2025-05-10")
        self.assertEqual(len(self._mails(self.ann)), 1)
        self.assertEqual(len(self._gifts(self.ann)), 1)
        self._run("2026-05-10")
        self.assertEqual(len(self._mails(self.ann)), 2)
        self.assertEqual(len(self._gifts(self.ann)), 2)
        self.assertEqual(
            self._moments(self.greeting, self.ann).mapped("occasion_key"),
            ["birthday:2025", "birthday:2026"],
        )

    def test_leap_day_birthday(self):
        leap = self._person("Leap Day", self.tier_a, date(1992, 2, 29))
        twenty_eighth = self._person("Feb Eight", self.tier_a, date(1991, 2, 28))
        # common year: celebrated on 28 February, with the 28th's birthdays
        self._run("2025-02-27")
        self.assertFalse(self._mails(leap))
        self._run("2025-02-28")
        self.assertEqual(len(self._mails(leap)), 1)
        self.assertEqual(self._moments(self.greeting, leap).occasion_date, date(2025, 2, 28))
        self.assertEqual(self._gifts(leap).date_deadline, date(2025, 2, 28))
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
            self._moments(self.greeting, leap).mapped("occasion_date"),
            [date(2025, 2, 28), date(2028, 2, 29)],
        )

    def test_monthly_cycle_plans_the_whole_month(self):
        """On the first night of the month, the tasks of all the month's
        birthdays, each due on its day; later nights add nothing."""
        self.gift.write({"cycle": "monthly", "tier_ids": [Command.clear()]})
        last = self._person("Last Of May", self.tier_b, date(1966, 5, 31))
        june = self._person("First Of June", self.tier_b, date(1966, 6, 1))
        self._run("2025-05-01", rules=self.gift)
        moments = self._moments(self.gift)
        self.assertEqual(
            moments.partner_id,
            self.ann | self.bob | self.cid | self.eve | self.contact | last,
        )
        self.assertEqual(self._gifts(last).date_deadline, date(2025, 5, 31))
        self.assertEqual(self._gifts(self.eve).date_deadline, date(2025, 5, 11))
        self.assertEqual(set(moments.mapped("board_state")), {"not_due"})
        self.assertFalse(self._run("2025-05-20", rules=self.gift))
        self.assertEqual(self._run("2025-06-01", rules=self.gift).partner_id, june)

    def test_horizon_across_new_year(self):
        """A monthly rule planning 31 days ahead on 1 December sees January's
        birthdays, keyed with the next year; January does not repeat them."""
        self.gift.write({"cycle": "monthly", "lead_days": 31})
        january = self._person("January Born", self.tier_a, date(1980, 1, 15))
        december = self._person("December Born", self.tier_a, date(1980, 12, 20))
        february = self._person("February Born", self.tier_a, date(1980, 2, 2))
        moments = self._run("2025-12-01", rules=self.gift)
        self.assertEqual(moments.partner_id, january | december)
        self.assertRecordValues(
            moments.sorted("occasion_date"),
            [
                {"occasion_key": "birthday:2025", "occasion_date": date(2025, 12, 20)},
                {"occasion_key": "birthday:2026", "occasion_date": date(2026, 1, 15)},
            ],
        )
        # 1 January: February's birthdays come in, January's are not repeated
        self.assertEqual(self._run("2026-01-01", rules=self.gift).partner_id, february)
        self.assertEqual(len(self._gifts(january)), 1)

    def test_tier_filter(self):
        self.greeting.tier_ids = self.tier_b
        self._run("2025-05-10")
        self.assertEqual(self._moments(self.greeting).partner_id, self.bob)
        self.assertFalse(self._mails(self.ann))

    def test_contacts_of_vip_companies_are_greeted(self):
        """Birthdays are people's: the contact of a VIP company is greeted and
        the company's account manager prepares the gift."""
        self.assertEqual(self.contact.vip_tier_id, self.tier_a)
        self.customer.vip_account_manager_id = self.vip_manager
        self._run("2025-05-10")
        self.assertEqual(self._moments(self.greeting, self.contact).tier_id, self.tier_a)
        self.assertEqual(self._mails(self.contact).recipient_ids, self.contact)
        self.assertEqual(self._gifts(self.contact).user_id, self.vip_manager)

    def test_gift_task_in_the_account_managers_language(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        manager_zh = new_test_user(
            self.env,
            login="vip-care-zh",
            groups="base.group_user,vip_customer.group_vip_user",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
            lang="zh_CN",
        )
        self.gift.update_field_translations("name", {"zh_CN": "生日礼物"})
        self.gift.update_field_translations("activity_summary", {"zh_CN": "礼品：生日"})
        self.ann.write({"vip_account_manager_id": manager_zh.id, "vip_gift_preference": "Oolong"})
        self._run("2025-05-10")
        gift = self._gifts(self.ann)
        self.assertEqual(gift.user_id, manager_zh)
        self.assertEqual(gift.summary, "礼品：生日")
        self.assertIn("生日礼物", gift.note)
        self.assertIn("Oolong", gift.note, "the gift preferences are on the task")
        # the other account manager reads English
        self.assertEqual(self._gifts(self.contact).summary, "Gift: Birthday")

    def test_opt_out_and_unreachable_customers(self):
        """No greeting to who opted out (or whose company did), is blacklisted
        or has no valid e-mail; the reason shows on the key moment, the gift (an
        internal task) is prepared all the same and the batch goes on."""
        self.ann.vip_care_opt_out = True
        self.customer.vip_care_opt_out = True
        self.bob.email = False
        self.cid.email = "not an address"
        blacklisted = self._person("Black Listed", self.tier_b, date(1977, 5, 10))
        self.env["mail.blacklist"].sudo()._add(blacklisted.email)
        reached = self._person("Reached", self.tier_b, date(1977, 5, 10))
        self._run("2025-05-10")
        expected = {
            self.ann: "opted out",
            self.contact: "opted out",
            blacklisted: "e-mail blacklisted",
            self.bob: "no valid e-mail",
            self.cid: "no valid e-mail",
        }
        for partner, reason in expected.items():
            with self.subTest(partner=partner.name):
                moment = self._moments(self.greeting, partner)
                self.assertRecordValues(moment, [{"mail_sent": False, "skipped_reason": reason}])
                self.assertFalse(self._mails(partner))
                self.assertEqual(Form(moment).skipped_reason, reason, "shown on the moment")
        self.assertTrue(self._moments(self.greeting, reached).mail_sent)
        self.assertEqual(len(self._mails(reached)), 1)
        self.assertEqual(len(self._gifts(self.ann)), 1, "the gift is internal")

    def test_no_account_manager_recorded(self):
        self.ann.write({"user_id": False, "vip_account_manager_id": False})
        self._run("2025-05-10")
        self.assertFalse(self._gifts(self.ann))
        self.assertRecordValues(
            self._moments(self.gift, self.ann),
            [{"activity_id": False, "skipped_reason": "nobody to assign the task to"}],
        )
        self.assertEqual(len(self._mails(self.ann)), 1, "greeted all the same")

    def test_no_tier_no_care_and_archived_rule_does_nothing(self):
        self.bob.write({"vip_tier_id": False})
        self.gift.active = False
        self._run("2025-05-10")
        self.assertNotIn(self.bob, self._moments(self.greeting).partner_id)
        self.assertFalse(self._moments(self.gift))
        self.assertFalse(self._gifts(self.ann))

    # ------------------------------------------------------------------
    # Anniversary and fixed dates
    # ------------------------------------------------------------------
    def test_customer_anniversary(self):
        rule = self.Rule.create(
            {
                "name": "Anniversary",
                "company_id": self.company.id,
                "trigger_type": "anniversary",
                "create_activity": False,
                "mail_template_id": self.greeting_template.id,
            }
        )
        self.customer.vip_anniversary_date = date(2020, 6, 15)
        self.ann.vip_anniversary_date = date(2024, 6, 15)
        self.bob.vip_anniversary_date = date(2025, 6, 15)  # started this year
        self.contact.vip_anniversary_date = date(2019, 6, 15)  # the company's counts
        self.cid.vip_anniversary_date = date(2020, 6, 16)
        self._run("2025-06-14", rules=rule)
        self.assertFalse(self._moments(rule))
        self._run("2025-06-15", rules=rule)
        self.assertEqual(self._moments(rule).partner_id, self.customer | self.ann)
        self.assertEqual(self._moments(rule, self.customer).occasion_key, "anniversary:2025")
        mail = self._mails(self.customer)
        self.assertEqual(len(mail), 1)
        self.assertIn("Season's greetings", mail.subject)
        self._run("2026-06-15", rules=rule)
        self.assertIn(self.bob, self._moments(rule).partner_id, "a year after it started")

    def test_fixed_date(self):
        rule = self.Rule.create(
            {
                "name": "Mid-Autumn Festival",
                "company_id": self.company.id,
                "trigger_type": "fixed_date",
                "month": 10,
                "day": 6,
                "lead_days": 3,
                "tier_ids": [Command.set((self.tier_a | self.tier_b).ids)],
                "activity_type_id": self.gift_type.id,
                "mail_template_id": self.greeting_template.id,
            }
        )
        self._run("2025-10-02", rules=rule)
        self.assertFalse(self._moments(rule))
        self._run("2025-10-03", rules=rule)
        moments = self._moments(rule)
        self.assertEqual(
            moments.partner_id,
            self.customer | self.ann | self.bob | self.eve,
            "the VIP customers of tiers A and B (not their contacts, not tier C)",
        )
        self.assertEqual(set(moments.mapped("occasion_key")), {"fixed_date:2025"})
        self.assertEqual(set(moments.mapped("occasion_date")), {date(2025, 10, 6)})
        self.assertEqual(self._gifts(self.bob).date_deadline, date(2025, 10, 6))
        self.assertIn("Season's greetings", self._mails(self.bob).subject)
        self._run("2025-10-06", rules=rule)
        self.assertEqual(len(self._mails(self.bob)), 1)

    def test_fixed_date_across_new_year(self):
        rule = self.Rule.create(
            {
                "name": "New Year",
                "company_id": self.company.id,
                "trigger_type": "fixed_date",
                "month": 1,
                "day": 2,
                "lead_days": 5,
                "create_activity": False,
                "mail_template_id": self.greeting_template.id,
            }
        )
        self.assertFalse(self._run("2025-12-27", rules=rule))
        moments = self._run("2025-12-28", rules=rule)
        self.assertIn(self.ann, moments.partner_id)
        self.assertEqual(set(moments.mapped("occasion_key")), {"fixed_date:2026"})
        self.assertEqual(set(moments.mapped("occasion_date")), {date(2026, 1, 2)})
        self.assertFalse(self._run("2026-01-02", rules=rule), "not twice for the same new year")

    def test_fixed_leap_day(self):
        rule = self.Rule.create(
            {
                "name": "Leap party",
                "company_id": self.company.id,
                "trigger_type": "fixed_date",
                "month": 2,
                "day": 29,
                "activity_type_id": self.gift_type.id,
            }
        )
        self._run("2025-02-28", rules=rule)
        self.assertEqual(len(self._gifts(self.customer)), 1)
        self.assertEqual(self._moments(rule, self.customer).occasion_date, date(2025, 2, 28))

    # ------------------------------------------------------------------
    # Running and configuring
    # ------------------------------------------------------------------
    def test_run_now_by_manager(self):
        """ "Run Now" hands the work to the key-moment cron instead of running
        every customer inside the request; the cron's calls then do it."""
        cron = self.env.ref("vip_customer.ir_cron_vip_key_moments")
        Trigger = self.env["ir.cron.trigger"].sudo()
        before = Trigger.search_count([("cron_id", "=", cron.id)])
        with freeze_time("2025-05-10"):
            action = self.greeting.with_user(self.vip_manager).action_run_now()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), before + 1)
        self.assertFalse(self._mails(self.ann), "nothing done in the request")
        with self.assertRaises(AccessError):
            self.greeting.with_user(self.vip_user).action_run_now()

    def test_run_now_refuses_an_archived_rule(self):
        """Hostile check: "Run Now" on an archived occasion said "started" and
        the cron then did nothing for it."""
        self.greeting.active = False
        with self.assertRaisesRegex(UserError, "archived"):
            self.greeting.with_user(self.vip_manager).action_run_now()

    def test_cron_in_batches(self):
        """One bounded batch per call, the right remaining count each time,
        every customer cared for once."""
        with freeze_time("2025-05-10"):
            progress = self.run_cron(self.MomentEngine._cron_run_key_moments, batch_size=1)
        self.assertEqual(len(progress), 6, "4 greetings and 2 gifts")
        self.assertTrue(all(done == 1 for done, _remaining in progress))
        for (_done, remaining), (done, next_remaining) in zip(progress, progress[1:], strict=False):
            self.assertEqual(next_remaining, remaining - done)
        self.assertEqual(progress[-1][1], 0)
        self.assertEqual(self.greeting.occurrence_count, 4)
        self.assertEqual(len(self._mails(self.ann)), 1)

    def test_care_rules_read_by_vip_users_configured_by_managers(self):
        self.assertEqual(self.greeting.with_user(self.vip_user).name, "Birthday greeting")
        with self.assertRaises(AccessError):
            self.greeting.with_user(self.vip_user).write({"lead_days": 3})
        with self.assertRaises(AccessError):
            self.Rule.with_user(self.vip_user).create(
                {"name": "Mine", "trigger_type": "birthday", "company_id": self.company.id}
            )
        with self.assertRaises(AccessError):
            self.greeting.with_user(self.vip_user).unlink()
        with self.assertRaises(AccessError):
            self.greeting.with_user(self.salesman).read(["name"])
        self.greeting.with_user(self.vip_manager).write({"name": "Birthday card"})
        foreign = self.Rule.create(
            {
                "name": "Elsewhere",
                "trigger_type": "birthday",
                "company_id": self.env["res.company"].create({"name": "VIP Care Co 2"}).id,
            }
        )
        with self.assertRaises(AccessError):
            foreign.with_user(self.vip_manager).read(["name"])

    def test_fixed_date_constraints(self):
        vals = {"name": "Holiday", "company_id": self.company.id, "trigger_type": "fixed_date"}
        self.Rule.create({**vals, "month": 2, "day": 29})
        for month, day in ((2, 30), (13, 1), (0, 1), (4, 31), (1, 0)):
            with self.subTest(month=month, day=day), self.assertRaises(ValidationError):
                self.Rule.create({**vals, "month": month, "day": day})
        for lead_days in (-1, 366):
            with self.subTest(lead_days=lead_days), self.assertRaises(ValidationError):
                self.Rule.create({**vals, "month": 1, "day": 1, "lead_days": lead_days})

    # ------------------------------------------------------------------
    # Upgrade from the care occasions (18.0.1.2.0)
    # ------------------------------------------------------------------
    def _old_care_tables(self):
        """The tables of vip.care.occasion / vip.care.log as 18.0.1.1.0 left them."""
        self.env.cr.execute(
            """
            CREATE TABLE IF NOT EXISTS vip_care_occasion (
                id serial PRIMARY KEY, name jsonb NOT NULL, sequence integer,
                active boolean, company_id integer NOT NULL, occasion_type varchar NOT NULL,
                month integer, day integer, days_before integer, send_mail boolean,
                mail_template_id integer, create_activity boolean);
            CREATE TABLE IF NOT EXISTS vip_care_occasion_vip_tier_rel (
                vip_care_occasion_id integer NOT NULL, vip_tier_id integer NOT NULL);
            CREATE TABLE IF NOT EXISTS vip_care_occasion_activity_tier_rel (
                occasion_id integer NOT NULL, tier_id integer NOT NULL);
            CREATE TABLE IF NOT EXISTS vip_care_log (
                id serial PRIMARY KEY, occasion_id integer NOT NULL, partner_id integer NOT NULL,
                company_id integer, year integer NOT NULL, date date NOT NULL,
                occasion_date date, mail_sent boolean, activity_created boolean,
                skipped_reason varchar);
            """
        )

    def _old_occasion(self, name, occasion_type, tiers=(), gift_tiers=(), **vals):
        values = {
            "name": json.dumps(name),
            "sequence": 10,
            "active": True,
            "company_id": self.company.id,
            "occasion_type": occasion_type,
            "month": 0,
            "day": 0,
            "days_before": 0,
            "send_mail": True,
            "mail_template_id": self.greeting_template.id,
            "create_activity": False,
            **vals,
        }
        columns = ", ".join(values)
        placeholders = ", ".join(["%s"] * len(values))
        self.env.cr.execute(
            f"INSERT INTO vip_care_occasion ({columns}) VALUES ({placeholders}) RETURNING id",  # noqa: S608
            list(values.values()),
        )
        occasion_id = self.env.cr.fetchone()[0]
        for tier in tiers:
            self.env.cr.execute(
                "INSERT INTO vip_care_occasion_vip_tier_rel VALUES (%s, %s)", (occasion_id, tier.id)
            )
        for tier in gift_tiers:
            self.env.cr.execute(
                "INSERT INTO vip_care_occasion_activity_tier_rel VALUES (%s, %s)",
                (occasion_id, tier.id),
            )
        return occasion_id

    def _old_log(self, occasion_id, partner, day, occasion_day, **vals):
        self.env.cr.execute(
            """
            INSERT INTO vip_care_log (occasion_id, partner_id, company_id, year, date,
                                      occasion_date, mail_sent, activity_created, skipped_reason)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
            """,
            (
                occasion_id,
                partner.id,
                self.company.id,
                occasion_day.year,
                day,
                occasion_day,
                vals.get("mail_sent", True),
                vals.get("activity_created", False),
                vals.get("skipped_reason"),
            ),
        )

    def test_migration_of_care_occasions_and_log(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.Rule.search([("company_id", "=", self.company.id)]).active = False
        self._old_care_tables()
        birthday = self._old_occasion(
            {"en_US": "Birthday", "zh_CN": "生日"},
            "birthday",
            gift_tiers=self.tier_a,
            days_before=2,
            create_activity=True,
            mail_template_id=self.birthday_template.id,
        )
        anniversary = self._old_occasion(
            {"en_US": "Anniversary"}, "anniversary", tiers=self.tier_a | self.tier_b, sequence=20
        )
        mid_autumn = self._old_occasion(
            {"en_US": "Mid-Autumn"},
            "fixed",
            tiers=self.tier_a | self.tier_b,
            month=10,
            day=6,
            days_before=3,
            send_mail=False,
            create_activity=True,
        )
        archived = self._old_occasion(
            {"en_US": "Old holiday"}, "fixed", month=3, day=8, active=False
        )
        # a demo database: the demo occasion is replaced by the demo rule, not twinned
        demo_anniversary = self._old_occasion({"en_US": "Customer anniversary"}, "anniversary")
        self.env["ir.model.data"].sudo().create(
            {
                "module": "vip_customer",
                "name": "vip_care_occasion_demo_anniversary",
                "model": "vip.care.occasion",
                "res_id": demo_anniversary,
            }
        )
        self._old_log(demo_anniversary, self.customer, date(2025, 6, 15), date(2025, 6, 15))
        # cared for before the upgrade (two days ahead of 10 May)
        self._old_log(
            birthday, self.ann, date(2025, 5, 8), date(2025, 5, 10), activity_created=True
        )
        self._old_log(
            birthday,
            self.bob,
            date(2025, 5, 8),
            date(2025, 5, 10),
            mail_sent=False,
            skipped_reason="opted out",
        )
        self._old_log(
            birthday, self.ann, date(2024, 5, 8), date(2024, 5, 10), activity_created=True
        )
        self._old_log(
            mid_autumn,
            self.ann,
            date(2024, 10, 3),
            date(2024, 10, 6),
            mail_sent=False,
            activity_created=True,
        )
        # the old care cron goes with the upgrade
        cron = (
            self.env["ir.cron"]
            .sudo()
            .create(
                {
                    "name": "VIP: care moments",
                    "model_id": self.env["ir.model"]._get_id("res.partner"),
                    "state": "code",
                    "code": "model",
                }
            )
        )
        self.env["ir.model.data"].sudo().create(
            {
                "module": "vip_customer",
                "name": "ir_cron_vip_care_moments",
                "model": "ir.cron",
                "res_id": cron.id,
            }
        )

        # the upgrade runs as the superuser
        rules = _load_care_migration().migrate_care(api.Environment(self.env.cr, SUPERUSER_ID, {}))
        rules = {key: self.Rule.browse(rule.id for rule in value) for key, value in rules.items()}

        self.assertFalse(cron.exists())
        greeting, gift = rules[birthday]
        self.assertRecordValues(
            greeting | gift,
            [
                {
                    "name": "Birthday",
                    "trigger_type": "birthday",
                    "lead_days": 2,
                    "tier_ids": [],
                    "create_activity": False,
                    "mail_template_id": self.birthday_template.id,
                    "builtin": False,
                    "active": True,
                    "company_id": self.company.id,
                },
                {
                    "name": "Gift: Birthday",
                    "trigger_type": "birthday",
                    "lead_days": 2,
                    "tier_ids": self.tier_a.ids,
                    "create_activity": True,
                    "mail_template_id": False,
                    "builtin": False,
                    "active": True,
                    "company_id": self.company.id,
                },
            ],
        )
        self.assertEqual(gift.activity_type_id, self.gift_type)
        self.assertEqual(greeting.with_context(lang="zh_CN").name, "生日")
        self.assertEqual(gift.with_context(lang="zh_CN").name, "礼品：生日")
        (anniversary_rule,) = rules[anniversary]
        self.assertRecordValues(
            anniversary_rule,
            [
                {
                    "trigger_type": "anniversary",
                    "tier_ids": (self.tier_a | self.tier_b).ids,
                    "create_activity": False,
                    "mail_template_id": self.greeting_template.id,
                    "sequence": 20,
                }
            ],
        )
        (mid_autumn_rule,) = rules[mid_autumn]
        self.assertRecordValues(
            mid_autumn_rule,
            [
                {
                    "trigger_type": "fixed_date",
                    "month": 10,
                    "day": 6,
                    "lead_days": 3,
                    "create_activity": True,
                    "activity_type_id": self.gift_type.id,
                    "activity_summary": "Gift: Mid-Autumn",
                    "mail_template_id": False,
                }
            ],
        )
        self.assertFalse(rules[archived][0].active)
        demo_rule = self.env.ref(
            "vip_customer.vip_moment_rule_demo_anniversary", raise_if_not_found=False
        )
        if demo_rule:  # installed with demo data
            self.assertEqual(rules[demo_anniversary], demo_rule)
            # the demo rule is the main company's: read it whatever the test company
            moment = self.Occurrence.sudo().search(
                [("rule_id", "=", demo_rule.id), ("partner_id", "=", self.customer.id)]
            )
            self.assertEqual(moment.occasion_key, "anniversary:2025")
        else:
            self.assertEqual(rules[demo_anniversary].trigger_type, "anniversary")

        # the log: processed key moments, keyed as the engine keys them
        self.assertRecordValues(
            self._moments(greeting),
            [
                {
                    "partner_id": self.ann.id,
                    "occasion_key": "birthday:2024",
                    "state": "done",
                    "date": date(2024, 5, 8),
                    "mail_sent": True,
                    "skipped_reason": False,
                },
                {
                    "partner_id": self.ann.id,
                    "occasion_key": "birthday:2025",
                    "state": "done",
                    "date": date(2025, 5, 8),
                    "mail_sent": True,
                    "skipped_reason": False,
                },
                {
                    "partner_id": self.bob.id,
                    "occasion_key": "birthday:2025",
                    "state": "done",
                    "date": date(2025, 5, 8),
                    "mail_sent": False,
                    "skipped_reason": "opted out",
                },
            ],
        )
        self.assertEqual(
            self._moments(gift).mapped("occasion_key"), ["birthday:2024", "birthday:2025"]
        )
        self.assertEqual(self._moments(gift).partner_id, self.ann)
        self.assertEqual(self._moments(mid_autumn_rule).mapped("occasion_key"), ["fixed_date:2024"])

        # the next night: nobody greeted twice, the others greeted as before
        self._run("2025-05-09")
        self.assertFalse(self._mails(self.ann), "Ann was greeted before the upgrade")
        self.assertFalse(self._mails(self.bob))
        self.assertEqual(len(self._mails(self.cid)), 1)
        self.assertFalse(self._gifts(self.ann), "Ann's gift was planned before the upgrade")
        self.assertEqual(len(self._gifts(self.contact)), 1)
        self.assertEqual(len(self._moments(greeting, self.ann)), 2)
