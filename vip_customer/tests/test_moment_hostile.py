"""Key moments attacked as an integrator's XML-RPC script would (issue #12):
what a VIP manager or a colleague may not do to rules and tasks."""

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import VipCustomerCommon


@tagged("post_install", "-at_install")
class TestMomentHostile(VipCustomerCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["vip.moment.rule"].sudo().search([]).write({"active": False})
        cls.Rule = cls.env["vip.moment.rule"].with_user(cls.vip_manager)
        cls.rule = cls.env["vip.moment.rule"].create(
            {"name": "Churn call", "company_id": cls.company.id, "trigger_type": "churn_high"}
        )
        cls.customer.write(
            {"vip_tier_id": cls.tier_a.id, "vip_account_manager_id": cls.vip_user.id}
        )
        cls.colleague = new_test_user(
            cls.env,
            login="hostile-colleague",
            groups="base.group_user,vip_customer.group_vip_user",
            company_id=cls.company.id,
        )

    def _moment(self):
        self.customer.sudo().with_context(vip_engine=True).write(
            {"vip_churn_level": "high", "vip_churn_high_since": self.today}
        )
        moment = self.env["vip.moment.engine"]._run(self.today)
        self.assertEqual(moment.user_id, self.vip_user)
        return moment

    def test_builtin_flag_is_the_addons(self):
        """``builtin`` finds a company's built-in rule (settings, new companies):
        a VIP manager may not forge or drop it over RPC."""
        with self.assertRaises(AccessError):
            self.Rule.create({"name": "Forged", "trigger_type": "churn_high", "builtin": True})
        builtin = self.env["vip.moment.rule"].create(
            {"name": "Shipped", "trigger_type": "churn_high"}
        )
        builtin.sudo().builtin = True
        with self.assertRaises(AccessError):
            builtin.with_user(self.vip_manager).write({"builtin": False})
        self.assertTrue(builtin.builtin)
        # a copy is the manager's own rule, not a second built-in one
        self.assertFalse(builtin.with_user(self.vip_manager).copy().builtin)

    def test_assignee_is_an_active_employee(self):
        portal = new_test_user(self.env, login="hostile-portal", groups="base.group_portal")
        public = self.env.ref("base.public_user")
        for user in (portal, public):
            with self.assertRaisesRegex(ValidationError, "User"):
                self.Rule.create(
                    {
                        "name": "To a customer",
                        "trigger_type": "churn_high",
                        "assign_to": "user",
                        "assign_user_id": user.id,
                    }
                )

    def test_task_type_of_another_model(self):
        other_type = self.env["mail.activity.type"].create(
            {"name": "Invoice check", "res_model": "account.move"}
        )
        with self.assertRaisesRegex(ValidationError, "Task Type"):
            self.Rule.create(
                {
                    "name": "Wrong type",
                    "trigger_type": "churn_high",
                    "activity_type_id": other_type.id,
                }
            )

    def test_rule_with_moments_keeps_its_company(self):
        """Moving a rule moves its moments (their company is the rule's): the
        customers of one company would show on another's board."""
        other_company = self.env["res.company"].create({"name": "Hostile Co 2"})
        self.env.user.company_ids = [Command.link(other_company.id)]
        self._moment()
        with self.assertRaisesRegex(ValidationError, "Company"):
            self.rule.write({"company_id": other_company.id})
        # a rule without moments may still move
        spare = self.env["vip.moment.rule"].create({"name": "Spare", "trigger_type": "silence"})
        spare.write({"company_id": other_company.id})
        self.assertEqual(spare.company_id, other_company)

    def test_colleague_cannot_process_or_cancel_a_moment(self):
        moment = self._moment()
        task = moment.activity_id
        with self.assertRaises(UserError):
            task.with_user(self.colleague).action_feedback(feedback="done by someone else")
        with self.assertRaises(UserError):
            task.with_user(self.colleague).unlink()
        self.assertEqual(moment.state, "open")
        # the assignee does
        task.with_user(self.vip_user).action_feedback(feedback="Called")
        self.assertEqual(moment.state, "done")
