from unittest.mock import patch

from odoo.tests import tagged

from .common import VipCustomerCommon


@tagged("post_install", "-at_install")
class TestMomentEngineBatches(VipCustomerCommon):
    """The nightly key-moment run in batches: what it reports left, and the work a
    batch does once rather than once per customer (bench/key_moments.py)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Rule = cls.env["vip.moment.rule"]
        cls.MomentEngine = cls.env["vip.moment.engine"]
        # every company's rules (the demo and built-in ones of the main company too)
        cls.Rule.sudo().search([]).write({"active": False})
        cls.rule = cls.Rule.create(
            {"name": "Churn call", "company_id": cls.company.id, "trigger_type": "churn_high"}
        )
        cls.customers = cls.env["res.partner"].create(
            [
                {
                    "name": f"Batch Customer {n}",
                    "is_company": True,
                    "vip_tier_id": cls.tier_b.id,
                    "vip_account_manager_id": cls.vip_user.id,
                }
                for n in range(3)
            ]
        )
        cls.customers.sudo().with_context(vip_engine=True).write(
            {"vip_churn_level": "high", "vip_churn_high_since": cls.today}
        )

    def _cron(self, batch_size, seconds=None):
        """One call; ``seconds``: the time budget of a call by Odoo's runner."""
        progress = {}

        def notify(_cron, *, done, remaining, deactivate=False):
            progress.update(done=done, remaining=remaining)

        Cron = type(self.env["ir.cron"])
        with (
            patch.object(Cron, "_notify_progress", notify),
            patch.object(Cron, "_vip_call_seconds", lambda cron: seconds),
            patch("odoo.addons.vip_customer.models.vip_moment_engine.FIRST_BATCH_SIZE", 1),
        ):
            self.MomentEngine._cron_run_key_moments(batch_size=batch_size)
        return progress

    def test_a_call_works_by_its_time_budget(self):
        """Production mode: with hardly any time left a call of the runner records its
        first batch (one moment) and reports the rest; with time to spare it
        goes on, batch after batch, until none is left."""
        second = self.rule.copy({"name": "Churn visit"})
        self.assertEqual(self._cron(2, seconds=1e-9), {"done": 1, "remaining": 5})
        self.assertEqual(self._cron(2, seconds=600.0), {"done": 5, "remaining": 0})
        moments = self.env["vip.moment.occurrence"].search(
            [("rule_id", "in", (self.rule | second).ids)]
        )
        self.assertEqual(len(moments), 6, "each (rule, customer) once")
        self.assertEqual(len(moments.activity_id), 6)

    def test_a_rule_done_in_a_call_is_not_selected_again_by_it(self):
        """Within a call, a rule whose selection came back whole (nobody left)
        is not selected again by the next batches: only the rules with
        customers left are."""
        second = self.rule.copy({"name": "Churn visit"})
        third = self.rule.copy({"name": "Churn letter"})
        engine_cls = type(self.MomentEngine)
        select = engine_cls._select_with_total
        selected = []

        def spy(engine, rule, *args, **kwargs):
            selected.append(rule.id)
            return select(engine, rule, *args, **kwargs)

        with patch.object(engine_cls, "_select_with_total", spy):
            # first batch: 1 moment (the first rule, 2 left), then batches of 4
            self.assertEqual(self._cron(4, seconds=600.0), {"done": 9, "remaining": 0})
        self.assertEqual(
            selected,
            [
                self.rule.id,  # 1 of 3
                self.rule.id, second.id,  # 2, then 2 of 3
                second.id, third.id,  # 1, then all 3
                # the last batch (4 asked, none left): every rule done, none selected
            ],
        )
        moments = self.env["vip.moment.occurrence"].search(
            [("rule_id", "in", (self.rule | second | third).ids)]
        )
        self.assertEqual(len(moments), 9, "each (rule, customer) once")

    def test_cron_reports_what_is_left_until_done(self):
        second = self.rule.copy({"name": "Churn visit"})
        # six moments (two rules, three customers), two per call
        self.assertEqual(self._cron(2), {"done": 2, "remaining": 4})
        self.assertEqual(self._cron(2), {"done": 2, "remaining": 2})
        self.assertEqual(self._cron(2), {"done": 2, "remaining": 0})
        self.assertEqual(self._cron(2), {"done": 0, "remaining": 0})
        moments = self.env["vip.moment.occurrence"].search(
            [("rule_id", "in", (self.rule | second).ids)]
        )
        self.assertEqual(len(moments), 6)
        self.assertEqual(len(moments.activity_id), 6)

    def test_run_counts_what_a_rule_leaves(self):
        left = {}
        created = self.MomentEngine._run(self.today, rules=self.rule, limit=1, remaining=left)
        self.assertEqual(len(created), 1)
        self.assertEqual(left, {self.rule.id: 2})

    def test_activity_type_looked_up_once_per_batch(self):
        rule_cls = type(self.Rule)
        lookup = rule_cls._get_activity_type
        calls = []

        def counting(rule):
            calls.append(rule.id)
            return lookup(rule)

        with patch.object(rule_cls, "_get_activity_type", counting):
            moments = self.MomentEngine._run(self.today, rules=self.rule)
        self.assertEqual(len(moments.activity_id), 3)
        self.assertEqual(
            moments.activity_id.activity_type_id,
            self.env.ref("vip_customer.mail_activity_type_vip_followup"),
        )
        self.assertEqual(calls, [self.rule.id])
