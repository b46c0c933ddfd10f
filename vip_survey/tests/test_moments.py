import importlib.util
import os
from datetime import datetime, time, timedelta

from odoo import Command
from odoo.tests import tagged

from .common import VipSurveyCommon


def _load_migration(version, name):
    path = os.path.join(
        os.path.dirname(os.path.dirname(__file__)), "migrations", version, f"{name}.py"
    )
    spec = importlib.util.spec_from_file_location(f"vip_survey_{name}_{version}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestNpsMoments(VipSurveyCommon):
    """The key moments "Passive answer" and "Detractor answer": the built-in
    rules of every company, signalled when the answer is submitted."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.MomentEngine = cls.env["vip.moment.engine"]
        cls.Occurrence = cls.env["vip.moment.occurrence"]
        cls.followup_type = cls.env.ref("vip_survey.mail_activity_type_vip_nps_followup")
        cls.passive_rule = cls.company._vip_get_builtin_moment_rules("nps_passive")
        cls.detractor_rule = cls.company._vip_get_builtin_moment_rules("nps_detractor")

    def _tasks(self, partners):
        return self.env["mail.activity"].search(
            [("res_model", "=", "res.partner"), ("res_id", "in", partners.ids)]
        )

    def _moments(self, rule):
        return self.Occurrence.search([("rule_id", "=", rule.id)])

    def _completed_days_ago(self, answers, days):
        # sudo: the survey's own date of completion, as if submitted that day
        answers.sudo().write(
            {"end_datetime": datetime.combine(self.today - timedelta(days=days), time(12))}
        )

    def test_builtin_rules(self):
        self.assertTrue(self.passive_rule.builtin and self.passive_rule.active)
        self.assertEqual(self.passive_rule.activity_type_id, self.followup_type)
        self.assertEqual(self.passive_rule.trigger_kind, "event")
        self.assertTrue(self.detractor_rule.builtin)
        self.assertFalse(self.detractor_rule.active, "the recovery ticket is the call")

    def test_passive_answer_gives_a_task_at_once(self):
        answer = self._answer(self.customer, 8)
        task = self._tasks(self.customer)
        self.assertEqual(len(task), 1)
        self.assertEqual(task.activity_type_id, self.followup_type)
        self.assertEqual(task.user_id, self.account_manager)
        self.assertEqual(task.date_deadline, self.today + timedelta(days=7))
        self.assertEqual(task.summary, "Passive customer: ask what would make them recommend us")
        self.assertIn("NPS answer: 8/10 (campaign Half-yearly satisfaction)", str(task.note))
        moment = self._moments(self.passive_rule)
        self.assertEqual(moment.occasion_key, f"answer:{answer.id}")
        self.assertEqual(moment.activity_id, task)
        # submitted again, then the nightly run: still one
        answer._mark_done()
        self.MomentEngine._run(self.today)
        self.assertEqual(len(self._tasks(self.customer)), 1)
        # the task done processes the moment
        task.with_user(self.account_manager).action_feedback(feedback="Wants faster delivery")
        self.assertEqual(moment.state, "done")
        self.assertEqual(moment.feedback, "Wants faster delivery")

    def test_each_answer_is_its_own_occasion(self):
        first = self._answer(self.customer, 7)
        second = self._answer(self.customer, 8)
        self.assertEqual(
            sorted(self._moments(self.passive_rule).mapped("occasion_key")),
            sorted([f"answer:{first.id}", f"answer:{second.id}"]),
        )
        self.assertEqual(len(self._tasks(self.customer)), 2)

    def test_classes_fire_their_own_rule_only(self):
        promoter = self._customer("Promoter Co", vip_account_manager_id=self.account_manager.id)
        detractor = self._customer("Detractor Co", vip_account_manager_id=self.account_manager.id)
        self._answer(promoter, 9)
        self._answer(detractor, 6)
        self.assertFalse(self._tasks(promoter))
        self.assertFalse(self._moments(self.detractor_rule), "archived by default")
        self.assertFalse(self._moments(self.passive_rule))

    def test_detractor_rule_adds_a_task_to_the_ticket(self):
        self.detractor_rule.active = True
        answer = self._answer(self.customer, 6)
        self.assertEqual(len(answer.vip_recovery_ticket_ids), 1, "the ticket stays")
        task = self._tasks(self.customer)
        self.assertEqual(len(task), 1)
        self.assertEqual(task.user_id, self.account_manager)
        self.assertEqual(task.date_deadline, self.today + timedelta(days=2))
        self.assertEqual(self._moments(self.detractor_rule).occasion_key, f"answer:{answer.id}")
        self.assertFalse(self._moments(self.passive_rule))

    def test_lookback_boundary(self):
        """The nightly run takes the answers of the last 7 days: 7 days old yes,
        8 not (a new rule does not dig up the past)."""
        self.passive_rule.active = False
        recent = self._customer("Recent Co", vip_account_manager_id=self.account_manager.id)
        old = self._customer("Old Co", vip_account_manager_id=self.account_manager.id)
        self._completed_days_ago(self._answer(recent, 7), 7)
        self._completed_days_ago(self._answer(old, 8), 8)
        self.assertFalse(self._moments(self.passive_rule))
        self.passive_rule.active = True
        moments = self.MomentEngine._run(self.today, rules=self.passive_rule)
        self.assertEqual(moments.partner_id, recent)

    def test_tier_filter(self):
        self.passive_rule.tier_ids = [Command.set(self.tier_b.ids)]
        silver = self._customer("Silver Co", vip_account_manager_id=self.account_manager.id)
        self._answer(self.customer, 8)  # tier A
        self._answer(silver, 8)  # tier B
        self.assertEqual(self._moments(self.passive_rule).partner_id, silver)
        self.assertFalse(self._tasks(self.customer))

    def test_campaign_without_passive_follow_up(self):
        self.campaign.create_passive_activity = False
        self._answer(self.customer, 8)
        self.assertFalse(self._tasks(self.customer))
        self.assertFalse(self.MomentEngine._run(self.today, rules=self.passive_rule))

    def test_contact_answers_for_the_company(self):
        contact = self.env["res.partner"].create(
            {"name": "Mei Contact", "parent_id": self.customer.id, "email": "mei@example.com"}
        )
        self._answer(contact, 7)
        self.assertEqual(self._moments(self.passive_rule).partner_id, self.customer)
        self.assertEqual(self._tasks(self.customer).user_id, self.account_manager)

    def test_other_company_rule_does_not_fire(self):
        other = self.env["res.company"].create({"name": "Other Survey Co"})
        self._answer(self.customer, 8)
        self.assertFalse(
            self.Occurrence.search([("rule_id", "in", other._vip_get_builtin_moment_rules().ids)])
        )


@tagged("post_install", "-at_install")
class TestMigrationPassiveFollowups(VipSurveyCommon):
    """18.0.1.1.0: passive answers already followed up become processed moments;
    no second follow-up across the upgrade."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.migration = _load_migration("18.0.1.1.0", "post-migrate")
        cls.rule = cls.company._vip_get_builtin_moment_rules("nps_passive")
        # the former column, as a database before the upgrade has it
        cls.env.cr.execute(
            "ALTER TABLE survey_user_input ADD COLUMN IF NOT EXISTS vip_followup_scheduled boolean"
        )

    def test_followed_up_answers_are_not_followed_up_again(self):
        self.rule.active = False  # the answers are made before the upgrade
        followed = self._answer(self.customer, 8)
        other = self._customer("Not Followed", vip_account_manager_id=self.account_manager.id)
        pending = self._answer(other, 7)
        followed.flush_recordset()
        self.env.cr.execute(
            "UPDATE survey_user_input SET vip_followup_scheduled = true WHERE id = %s",
            [followed.id],
        )
        self.rule.active = True
        done = self.migration.migrate_passive_followups(self.env)
        self.assertEqual(done.partner_id, self.customer)
        self.assertEqual(done.occasion_key, f"answer:{followed.id}")
        self.assertEqual(done.state, "done")
        self.assertFalse(self.migration.migrate_passive_followups(self.env), "idempotent")
        moments = self.env["vip.moment.engine"]._run(self.today, rules=self.rule)
        self.assertEqual(moments.occasion_key, f"answer:{pending.id}")
        tasks = self.env["mail.activity"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", self.customer.id)]
        )
        self.assertFalse(tasks, "no second follow-up")
