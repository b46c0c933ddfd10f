import importlib.util
from datetime import date, timedelta
from pathlib import Path
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import Form, tagged

from ..models import vip_moment_rule_cadence
from .common import VipCustomerCommon

MIGRATION = Path(__file__).parents[1] / "migrations" / "18.0.1.2.0" / "post-migrate.py"


@tagged("post_install", "-at_install")
class TestMomentCadence(VipCustomerCommon):
    """Follow-up cadences as key moments: due day, days ahead, several
    cadences per tier, tier filter, cycles, once per occasion, the quarterly
    minimum, and the tier engine's signals (churn, tier up / down)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Rule = cls.env["vip.moment.rule"]
        cls.MomentEngine = cls.env["vip.moment.engine"]
        cls.followup_type = cls.env.ref("vip_customer.mail_activity_type_vip_followup")
        # the built-in rules of the test company, switched off: each test turns on its own
        cls.builtin = cls.Rule.with_context(active_test=False).search(
            [("company_id", "=", cls.company.id), ("builtin", "=", True)]
        )
        cls.Rule.sudo().search([]).write({"active": False})
        cls.customer.write(
            {"vip_tier_id": cls.tier_a.id, "vip_account_manager_id": cls.vip_user.id}
        )
        cls.customer.write({"vip_tier_since": date(2025, 1, 1)})
        cls.other = cls.env["res.partner"].create(
            {"name": "Quiet Pine Ltd", "is_company": True, "user_id": cls.vip_user.id}
        )
        cls.other.write({"vip_tier_id": cls.tier_c.id})
        cls.other.write({"vip_tier_since": date(2025, 1, 1)})

    def _cadence(self, days, tiers=None, **vals):
        return self.Rule.create(
            {
                "name": vals.pop("name", f"Every {days} days"),
                "company_id": self.company.id,
                "trigger_type": "cadence",
                "interval_days": days,
                "tier_ids": [Command.set(tiers.ids)] if tiers else [],
                **vals,
            }
        )

    def _run(self, day, rules=None):
        return self.MomentEngine._run(day, rules=rules)

    # ------------------------------------------------------------------
    # When
    # ------------------------------------------------------------------
    def test_fires_on_the_due_day_exactly(self):
        rule = self._cadence(30, self.tier_a)  # 1 Jan + 30 = 31 Jan
        self.assertFalse(self._run(date(2025, 1, 30)))
        moment = self._run(date(2025, 1, 31))
        self.assertEqual(moment.partner_id, self.customer)
        self.assertEqual(moment.rule_id, rule)
        self.assertEqual(moment.occasion_key, "cadence:2025-01-31")
        self.assertEqual(moment.date_deadline, date(2025, 1, 31))
        self.assertEqual(moment.activity_id.activity_type_id, self.followup_type)

    def test_days_ahead(self):
        self._cadence(30, self.tier_a, lead_days=5)
        self.assertFalse(self._run(date(2025, 1, 25)))
        with freeze_time("2025-01-26"):
            moment = self._run(date(2025, 1, 26))
        self.assertEqual(moment.date_deadline, date(2025, 1, 31), "due on its date")
        self.assertEqual(moment.board_state, "not_due")

    def test_overdue_contact_still_fires(self):
        self._cadence(30, self.tier_a)
        moment = self._run(date(2025, 3, 15))
        self.assertEqual(moment.occasion_date, date(2025, 1, 31))
        self.assertEqual(moment.date_deadline, date(2025, 3, 15), "due today, not in the past")

    def test_weekly_and_monthly_cycles(self):
        # 1 Jan + 33 = 3 Feb 2025 (a Monday); + 45 = 15 Feb (a Saturday)
        weekly = self._cadence(45, self.tier_a, cycle="weekly")
        monthly = self._cadence(33, self.tier_c, cycle="monthly")
        # Monday 10 Feb: the week ends Sunday 16 Feb, the 15th is in it
        self.assertFalse(self._run(date(2025, 2, 9), weekly))
        self.assertEqual(self._run(date(2025, 2, 10), weekly).partner_id, self.customer)
        # 31 January: the month ends that day, 3 Feb is next month's
        self.assertFalse(self._run(date(2025, 1, 31), monthly))
        self.assertEqual(self._run(date(2025, 2, 1), monthly).partner_id, self.other)

    def test_once_per_occasion_and_done_moves_the_next(self):
        self._cadence(30, self.tier_a)
        moment = self._run(date(2025, 1, 31))
        self.assertFalse(self._run(date(2025, 1, 31)))
        self.assertFalse(self._run(date(2025, 2, 20)), "open: no second task")
        moment.activity_id.with_user(self.vip_user)._action_done()
        self.assertEqual(moment.state, "done")
        done_on = moment.date_done
        nxt = done_on + timedelta(days=30)
        self.assertEqual(self.customer.vip_next_followup_date, nxt)
        self.assertFalse(self._run(nxt - timedelta(days=1)))
        again = self._run(nxt)
        self.assertEqual(again.occasion_key, f"cadence:{fields.Date.to_string(nxt)}")

    def test_several_cadences_per_tier_and_tier_filter(self):
        call = self._cadence(90, self.tier_a, name="Quarterly call")
        visit = self._cadence(90, self.tier_a, name="Quarterly visit", lead_days=10)
        yearly = self._cadence(365, self.tier_c, name="Yearly e-mail")
        moments = self._run(date(2025, 4, 1))
        self.assertEqual(moments.rule_id, call | visit)
        self.assertEqual(moments.partner_id, self.customer)
        self.assertEqual(len(self.customer.activity_ids), 2)
        self.assertEqual(self.customer.vip_next_followup_date, date(2025, 4, 1))
        self.assertEqual(self.other.vip_next_followup_date, date(2026, 1, 1))
        self.assertEqual(self._run(date(2026, 1, 1), yearly).partner_id, self.other)

    # ------------------------------------------------------------------
    # The quarterly minimum (settings)
    # ------------------------------------------------------------------
    def test_quarterly_minimum_setting(self):
        minimum = self.builtin.filtered(lambda r: r.builtin_code == "cadence_minimum")
        self.assertEqual(len(minimum), 1)
        self.assertFalse(self.company.vip_followup_minimum)
        self._cadence(90, self.tier_a)  # A is contacted quarterly already
        self._cadence(365, self.tier_c)
        settings = self.env["res.config.settings"].create({})
        self.assertFalse(settings.vip_followup_minimum)
        settings.vip_followup_minimum = True
        settings.execute()
        self.assertTrue(minimum.active)
        self.assertTrue(self.company.vip_followup_minimum)
        # C gets the minimum (1 Jan + 90 = 1 April), A its own cadence only
        self.assertEqual(self.other.vip_next_followup_date, date(2025, 4, 1))
        moments = self._run(date(2025, 4, 1))
        by_partner = {m.partner_id: m.rule_id for m in moments}
        self.assertEqual(by_partner[self.other], minimum)
        self.assertNotEqual(by_partner[self.customer], minimum)
        # switched off: no more minimum tasks
        self.env["res.config.settings"].create({"vip_followup_minimum": False}).execute()
        self.assertFalse(minimum.active)

    def test_quarterly_minimum_created_when_missing(self):
        self.builtin.filtered(lambda r: r.builtin_code == "cadence_minimum").unlink()
        self.company.vip_followup_minimum = True
        minimum = self.Rule.search(
            [("company_id", "=", self.company.id), ("builtin_code", "=", "cadence_minimum")]
        )
        self.assertEqual(minimum.interval_days, 90)
        self.assertFalse(minimum.tier_ids, "every tier")
        self.assertEqual(self._run(date(2025, 4, 1)).partner_id, self.customer | self.other)

    def test_rule_change_recomputes_next_followups_in_batches(self):
        """A cadence rule created (or changed) computes the next follow-up of its
        company's customers a bounded batch at a time (keyset pagination): batches
        of 2 store what one batch stores, and no computation reads more than 2."""
        Partner = self.env["res.partner"]
        extra = Partner.create(
            [
                {"name": f"Cadence Batch {n}", "is_company": True, "user_id": self.vip_user.id}
                for n in range(3)
            ]
        )
        for n, partner in enumerate(extra):
            partner.write({"vip_tier_id": (self.tier_a | self.tier_b | self.tier_c)[n].id})
            partner.write({"vip_tier_since": date(2025, 2, 1 + n)})
        self.env.flush_all()
        customers = Partner.with_context(active_test=False).search(
            [("vip_company_id", "=", self.company.id), ("vip_tier_id", "!=", False)]
        )
        self.assertGreaterEqual(len(customers), 5)
        engine_cls = type(self.MomentEngine)
        next_dates = engine_cls._cadence_next_dates
        sizes = []

        def counting(engine, partners):
            sizes.append(len(partners))
            return next_dates(engine, partners)

        with (
            patch.object(vip_moment_rule_cadence, "CADENCE_RECOMPUTE_BATCH_SIZE", 2),
            patch.object(engine_cls, "_cadence_next_dates", counting),
        ):
            rule = self._cadence(30)  # every tier
        self.assertTrue(sizes)
        self.assertLessEqual(max(sizes), 2)
        small = {partner.id: partner.vip_next_followup_date for partner in customers}
        self.assertEqual(small[self.customer.id], date(2025, 1, 31))
        self.assertEqual(small[extra[2].id], date(2025, 3, 5))
        # the same customers again in one batch, from stale values
        self.env.cr.execute(
            "UPDATE res_partner SET vip_next_followup_date = NULL WHERE id = ANY(%s)",
            [customers.ids],
        )
        self.env.invalidate_all()
        sizes.clear()
        with patch.object(engine_cls, "_cadence_next_dates", counting):
            rule._recompute_cadence_partners(batch_size=10000)
        self.assertEqual(sizes, [len(customers.filtered(lambda p: p == p.commercial_partner_id))])
        self.assertEqual(
            {partner.id: partner.vip_next_followup_date for partner in customers}, small
        )

    def test_builtin_rules_once_per_company(self):
        company = self.env["res.company"].create({"name": "Second Branch"})
        rules = self.Rule.with_context(active_test=False).search(
            [("company_id", "=", company.id), ("builtin", "=", True)]
        )
        codes = rules.mapped("builtin_code")
        self.assertIn("churn_retention", codes)
        self.assertIn("cadence_minimum", codes)
        self.assertEqual(len(codes), len(set(codes)))
        self.assertFalse(company._vip_create_builtin_moment_rules(), "idempotent")
        with self.assertRaises(AccessError):
            self.builtin[0].with_user(self.vip_manager).write({"builtin_code": "other"})
        with self.assertRaises(AccessError):
            self.Rule.with_user(self.vip_manager).create(
                {"name": "Fake", "company_id": self.company.id, "builtin_code": "churn_retention"}
            )

    def test_settings_form_shows_the_minimum(self):
        form = Form(self.env["res.config.settings"])
        form.vip_followup_minimum = True
        form.save().execute()
        self.assertTrue(self.company.vip_followup_minimum)

    # ------------------------------------------------------------------
    # The tier engine's signals
    # ------------------------------------------------------------------
    def test_churn_high_retention_call_through_the_tier_engine(self):
        retention = self.builtin.filtered(lambda r: r.builtin_code == "churn_retention")
        retention.active = True
        for month in range(13, 25):
            self._invoice(self.customer, 9000, days_ago=month * 30)
        self.recompute(self.customer)
        self.assertEqual(self.customer.vip_churn_level, "high")
        moment = self.env["vip.moment.occurrence"].search([("rule_id", "=", retention.id)])
        self.assertEqual(moment.partner_id, self.customer)
        self.assertEqual(
            moment.activity_id.activity_type_id,
            self.env.ref("vip_customer.mail_activity_type_vip_retention"),
        )
        self.assertEqual(moment.activity_id.summary, "Churn risk is high: call the customer")
        self.assertEqual(moment.user_id, self.vip_user)
        # the same episode: nothing more
        self.recompute(self.customer)
        self.assertEqual(
            self.env["vip.moment.occurrence"].search_count([("rule_id", "=", retention.id)]), 1
        )

    def test_tier_up_and_down_signals(self):
        up = self.Rule.create(
            {"name": "Welcome", "company_id": self.company.id, "trigger_type": "tier_up"}
        )
        down = self.Rule.create(
            {"name": "Why down", "company_id": self.company.id, "trigger_type": "tier_down"}
        )
        newcomer = self.env["res.partner"].create(
            {"name": "Rising Star", "is_company": True, "user_id": self.vip_user.id}
        )
        self._invoice(newcomer, 60000, days_ago=3)
        self.recompute(newcomer)
        self.assertEqual(newcomer.vip_tier_id, self.tier_b)
        moments = self.env["vip.moment.occurrence"].search([("partner_id", "=", newcomer.id)])
        self.assertEqual(moments.rule_id, up, "signalled at once, no nightly run")
        self.assertFalse(moments.rule_id & down)


@tagged("post_install", "-at_install")
class TestCadenceMigration(VipCustomerCommon):
    """18.0.1.2.0: a tier's follow-up plan becomes its cadence rule, open
    follow-up activities and retention calls become open occurrences: nothing
    planned twice across the upgrade."""

    def _migration(self):
        spec = importlib.util.spec_from_file_location("vip_customer_migration_1_2", MIGRATION)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def test_migration(self):
        cr = self.env.cr
        self.env["vip.moment.rule"].search([("trigger_type", "=", "cadence")]).unlink()
        # the old columns (Odoo keeps them after the fields are gone)
        cr.execute(
            "ALTER TABLE vip_tier ADD COLUMN IF NOT EXISTS followup_interval_days integer, "
            "ADD COLUMN IF NOT EXISTS followup_channel varchar"
        )
        cr.execute(
            "ALTER TABLE res_company ADD COLUMN IF NOT EXISTS vip_followup_lead_days integer"
        )
        cr.execute(
            "ALTER TABLE res_partner ADD COLUMN IF NOT EXISTS vip_followup_activity_date date"
        )
        cr.execute(
            "UPDATE vip_tier SET followup_interval_days = CASE id WHEN %s THEN 90 WHEN %s THEN 180 "
            "ELSE 0 END, followup_channel = 'visit' WHERE id IN %s",
            (self.tier_a.id, self.tier_b.id, tuple((self.tier_a | self.tier_b | self.tier_c).ids)),
        )
        cr.execute(
            "UPDATE res_company SET vip_followup_lead_days = 5 WHERE id = %s", (self.company.id,)
        )
        self.customer.write(
            {"vip_tier_id": self.tier_a.id, "vip_account_manager_id": self.vip_user.id}
        )
        since = self.today - timedelta(days=85)
        self.customer.write({"vip_tier_since": since})
        due = since + timedelta(days=90)
        activity = self.customer.activity_schedule(
            activity_type_id=self.env.ref("vip_customer.mail_activity_type_vip_followup").id,
            date_deadline=due,
            user_id=self.vip_user.id,
        )
        # a churn episode whose retention call is open, one whose call was made
        at_risk = self.env["res.partner"].create(
            {"name": "Fading Ltd", "is_company": True, "user_id": self.vip_user.id}
        )
        at_risk.write({"vip_tier_id": self.tier_b.id})
        called = at_risk.copy({"name": "Called Ltd"})
        called.write({"vip_tier_id": self.tier_b.id})
        (at_risk | called).sudo().with_context(vip_engine=True).write(
            {"vip_churn_level": "high", "vip_churn_high_since": self.today - timedelta(days=3)}
        )
        call = at_risk.activity_schedule(
            activity_type_id=self.env.ref("vip_customer.mail_activity_type_vip_retention").id,
            user_id=self.vip_user.id,
        )
        retention = self.env["vip.moment.rule"].search(
            [("company_id", "=", self.company.id), ("builtin_code", "=", "churn_retention")]
        )
        self.env.flush_all()

        result = self._migration().migrate_key_moments(self.env)

        rule_a = result["rules"][self.tier_a.id]
        self.assertEqual((rule_a.interval_days, rule_a.lead_days), (90, 5))
        self.assertEqual(rule_a.tier_ids, self.tier_a)
        self.assertEqual(rule_a.activity_summary, "Follow-up visit")
        self.assertEqual(result["rules"][self.tier_b.id].interval_days, 180)
        self.assertNotIn(self.tier_c.id, result["rules"])
        moment = self.env["vip.moment.occurrence"].search([("rule_id", "=", rule_a.id)])
        self.assertEqual(moment.activity_id, activity)
        self.assertEqual(moment.state, "open")
        self.assertEqual(self.customer.vip_next_followup_date, due)
        # the engine plans nothing twice
        engine = self.env["vip.moment.engine"]
        self.assertFalse(engine._run(due, rules=rule_a))
        churn = self.env["vip.moment.occurrence"].search([("rule_id", "=", retention.id)])
        self.assertEqual(churn.filtered(lambda o: o.state == "open").activity_id, call)
        self.assertEqual(churn.filtered(lambda o: o.state == "done").partner_id, called)
        self.assertFalse(engine._run(self.today, rules=retention))
        # a second run changes nothing
        again = self._migration().migrate_key_moments(self.env)
        self.assertEqual((again["followups"], again["episodes"]), (0, 0))
        self.assertEqual(again["rules"][self.tier_a.id], rule_a)
