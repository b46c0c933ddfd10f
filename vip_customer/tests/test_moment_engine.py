from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import VipCustomerCommon


@tagged("post_install", "-at_install")
class TestMomentEngine(VipCustomerCommon):
    """The key-moment engine: once per occasion, cool-down, tier filter, cycles,
    tasks and their outcome, and who may write what."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Rule = cls.env["vip.moment.rule"]
        cls.Occurrence = cls.env["vip.moment.occurrence"]
        cls.MomentEngine = cls.env["vip.moment.engine"]
        # only the rules of this test run
        # every company's rules (the demo and built-in ones of the main company too)
        cls.Rule.sudo().search([]).write({"active": False})
        cls.rule = cls.Rule.create(
            {
                "name": "Churn call",
                "company_id": cls.company.id,
                "trigger_type": "churn_high",
                "deadline_days": 2,
            }
        )
        cls.customer.write(
            {"vip_tier_id": cls.tier_a.id, "vip_account_manager_id": cls.vip_user.id}
        )
        cls.other = cls.env["res.partner"].create(
            {
                "name": "Quiet Pine Ltd",
                "is_company": True,
                "vip_tier_id": cls.tier_c.id,
                "user_id": cls.vip_user.id,
            }
        )

    def _at_risk(self, partners, since=None):
        # the tier engine's columns: written as the engine does (raw, superuser)
        since = since or self.today
        partners.sudo().with_context(vip_engine=True).write(
            {"vip_churn_level": "high", "vip_churn_high_since": since}
        )

    def test_fires_once_per_episode_with_a_task(self):
        self._at_risk(self.customer)
        moments = self.MomentEngine._run(self.today)
        self.assertEqual(moments.partner_id, self.customer)
        self.assertEqual(moments.user_id, self.vip_user)
        self.assertEqual(moments.activity_id.user_id, self.vip_user)
        self.assertEqual(moments.activity_id.date_deadline, self.today + timedelta(days=2))
        self.assertEqual(moments.activity_id.summary, "Churn call")
        self.assertEqual(moments.board_state, "not_due")
        # the same episode never twice, however often the engine runs
        self.assertFalse(self.MomentEngine._run(self.today))
        self.assertFalse(self.MomentEngine._run(self.today + timedelta(days=5)))
        # a new episode is a new occasion
        self._at_risk(self.customer, self.today + timedelta(days=10))
        again = self.MomentEngine._run(self.today + timedelta(days=10))
        self.assertEqual(again.partner_id, self.customer)

    def test_cooldown_holds_a_new_episode_back(self):
        self.rule.cooldown_days = 30
        self._at_risk(self.customer)
        self.assertTrue(self.MomentEngine._run(self.today))
        self._at_risk(self.customer, self.today + timedelta(days=10))
        self.assertFalse(self.MomentEngine._run(self.today + timedelta(days=10)))
        # the cool-down over, the pending episode fires
        self.assertTrue(self.MomentEngine._run(self.today + timedelta(days=31)))

    def test_tier_filter(self):
        self.rule.tier_ids = [Command.set(self.tier_c.ids)]
        self._at_risk(self.customer | self.other)
        self.assertEqual(self.MomentEngine._run(self.today).partner_id, self.other)

    def test_done_task_processes_the_moment_and_deleted_cancels(self):
        self._at_risk(self.customer | self.other)
        moments = self.MomentEngine._run(self.today)
        first, second = moments.sorted("partner_id")
        first.activity_id.with_user(self.vip_user).action_feedback(feedback="Called, all good")
        self.assertEqual(first.state, "done")
        self.assertEqual(first.board_state, "done")
        self.assertEqual(first.completion, 100)
        self.assertEqual(first.feedback, "Called, all good")
        second.activity_id.with_user(self.vip_manager).unlink()
        self.assertEqual(second.state, "cancelled")

    def test_board_state_turns_due(self):
        self._at_risk(self.customer)
        moment = self.MomentEngine._run(self.today)
        self.Occurrence._refresh_board_states(self.today + timedelta(days=2))
        self.assertEqual(moment.board_state, "due")

    def test_visit_record_writes_the_timeline(self):
        self._at_risk(self.customer)
        moment = self.MomentEngine._run(self.today)
        wizard = (
            self.env["vip.moment.visit"]
            .with_user(self.vip_user)
            .create(
                {
                    "occurrence_id": moment.id,
                    "outcome": "reached",
                    "feedback": "Unhappy with delivery times",
                    "needs": "Faster delivery",
                    "next_step": "Call logistics",
                }
            )
        )
        wizard.action_record()
        self.assertEqual(moment.state, "done")
        self.assertEqual(moment.outcome, "reached")
        self.assertFalse(moment.activity_id.exists() and moment.activity_id.active)
        note = self.customer.message_ids[:1]
        self.assertIn("Faster delivery", note.body)
        with self.assertRaises(UserError):
            self.env["vip.moment.visit"].with_user(self.vip_user).create(
                {"occurrence_id": moment.id, "outcome": "reached"}
            ).action_record()

    def test_security(self):
        self._at_risk(self.customer)
        moment = self.MomentEngine._run(self.today)
        as_user = moment.with_user(self.vip_user)
        for vals in (
            {"state": "done"},
            {"user_id": self.vip_manager.id},
            {"date_deadline": fields.Date.add(self.today, days=30)},
        ):
            with self.assertRaises(AccessError):
                as_user.write(vals)
        with self.assertRaises(AccessError):
            self.Occurrence.with_user(self.vip_manager).create(
                {
                    "rule_id": self.rule.id,
                    "partner_id": self.customer.id,
                    "occasion_key": "x",
                    "date_deadline": self.today,
                }
            )
        with self.assertRaises(AccessError):
            as_user.unlink()
        # the assignee records their visit; a colleague cannot
        as_user.write({"feedback": "ok"})
        colleague = self.vip_manager.copy(
            {
                "login": "vip-colleague",
                "groups_id": [
                    Command.set(
                        self.env.ref("vip_customer.group_vip_user").ids
                        + self.env.ref("base.group_user").ids
                    )
                ],
            }
        )
        with self.assertRaises(AccessError):
            moment.with_user(colleague).write({"feedback": "not mine"})
        # rules: a VIP user reads them, cannot write them
        with self.assertRaises(AccessError):
            self.rule.with_user(self.vip_user).write({"cooldown_days": 5})

    def test_signal_never_fails_the_event(self):
        """A rule an admin broke (its template cannot render) must not fail the
        request that signalled the event (a customer's survey answer, a ticket
        closed): nothing is recorded, the nightly run meets the error."""
        broken = self.env["mail.template"].create(
            {
                "name": "Broken greeting",
                "model_id": self.env["ir.model"]._get_id("res.partner"),
                "subject": "Hello",
                "body_html": '<p t-out="object.no_such_field_at_all.name"/>',
            }
        )
        self.rule.mail_template_id = broken
        self.customer.email = "gd@example.com"
        self._at_risk(self.customer)
        moments = self.MomentEngine._signal(["churn_high"], self.customer)
        self.assertFalse(moments)
        self.assertFalse(self.Occurrence.search([("rule_id", "=", self.rule.id)]))
        self.rule.mail_template_id = False
        self.assertTrue(self.MomentEngine._signal(["churn_high"], self.customer))

    def test_deleting_a_rule_removes_its_open_tasks(self):
        self._at_risk(self.customer | self.other)
        moments = self.MomentEngine._run(self.today)
        done, still_open = moments.sorted("partner_id")
        done.activity_id.with_user(self.vip_user).action_feedback(feedback="ok")
        task = still_open.activity_id
        self.assertTrue(task.exists())
        self.rule.unlink()
        self.assertFalse(task.exists(), "no task left on the list without its moment")
        self.assertFalse(moments.exists())

    def test_builtin_rules_named_in_a_language_installed_later(self):
        """Built-in rules are created from the code's texts in the languages installed
        then; a language installed later names them too (an admin's name stays)."""
        company = self.env["res.company"].create({"name": "Later Chinese Ltd"})
        churn = company._vip_get_builtin_moment_rules("churn_retention")
        quarterly = company._vip_get_builtin_moment_rules("cadence_minimum")
        quarterly.with_context(lang="en_US").name = "Our own quarterly call"
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["vip_customer"], ["zh_CN"])
        self.assertEqual(churn.with_context(lang="zh_CN").name, "流失风险：挽留电话")
        self.assertEqual(churn.with_context(lang="en_US").name, "Churn risk: retention call")
        self.assertEqual(quarterly.with_context(lang="zh_CN").name, "Our own quarterly call")
