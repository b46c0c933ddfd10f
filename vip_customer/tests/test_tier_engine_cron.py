import logging
from datetime import timedelta
from unittest.mock import patch

from odoo.tests import tagged

from .common import VipCustomerCommon

ENGINE_LOG = "odoo.addons.vip_customer.models.vip_tier_engine_cron"


@tagged("post_install", "-at_install")
class TestTierEngineCron(VipCustomerCommon):
    """The nightly tier cron: one batch per call, the runner calls again while
    customers remain; each customer evaluated once per night."""

    def setUp(self):
        super().setUp()
        # the other companies' runs of today are done: only this company's counts
        engine = self.Engine.sudo()
        for company in self.env["res.company"].sudo().search([]) - self.company:
            engine._save_resume_point(company, 0, self.today)
        self.evaluated = []
        engine_cls = type(self.Engine)
        evaluate = engine_cls._evaluate_customer

        def spy(engine, row, context, signals):
            self.evaluated.append(row["id"])
            return evaluate(engine, row, context, signals)

        patcher = patch.object(engine_cls, "_evaluate_customer", spy)
        patcher.start()
        self.addCleanup(patcher.stop)

    def _customers(self, count, amount=60000):
        partners = self.env["res.partner"].create(
            [{"name": f"Nightly {i}"} for i in range(count)]
        )
        for partner in partners:
            self._invoice(partner, amount, days_ago=3)
        return partners

    def test_the_run_counts_its_customers_once(self):
        """Each call reports what remains; the customers are counted once per
        run (a count reads every partner after the cursor), then each batch
        lowers the count: the progress is the same as counting every call."""
        self._customers(13)
        engine_cls = type(self.Engine)
        pending = engine_cls._pending_customers
        counts = []

        def spy(engine, *args, **kwargs):
            result = pending(engine, *args, **kwargs)
            if result[1] is not None:
                counts.append(result[1])
            return result

        with patch.object(engine_cls, "_pending_customers", spy):
            progress = self.run_cron(self.Engine._cron_recompute_tiers, batch_size=3)
        self.assertEqual(
            progress, [(3, 11), (3, 8), (3, 5), (3, 2), (1, 1), (1, 0)]
        )
        self.assertEqual(counts, [10], "counted at the end of the first call only")
        self.assertFalse(self.company.vip_recompute_pending)

    def test_batches_with_progress_each_customer_once(self):
        partners = self._customers(7)
        self.assertEqual(
            self.Engine.sudo()._pending_customers(self.company, 0, self.today)[1], 7
        )
        progress = self.run_cron(self.Engine._cron_recompute_tiers, batch_size=3)
        # the last call refreshes the customer value, a call of its own
        self.assertEqual(progress, [(3, 5), (3, 2), (1, 1), (1, 0)])
        self.assertEqual(sorted(self.evaluated), sorted(partners.ids), "each customer once")
        self.assertEqual(set(partners.mapped("vip_tier_id")), {self.tier_b})
        self.assertEqual(self.company.vip_recompute_date, self.today)
        self.assertFalse(self.company.vip_recompute_cursor, "today's run is complete")
        # called again the same day: nothing more to do, and it says so
        self.evaluated.clear()
        with self.assertLogs(ENGINE_LOG, logging.INFO) as logs:
            progress = self.run_cron(self.Engine._cron_recompute_tiers, batch_size=3)
        self.assertEqual(progress, [(0, 0)])
        self.assertFalse(self.evaluated)
        self.assertIn("already evaluated today", "\n".join(logs.output))

    def _budget(self, seconds):
        """Calls as Odoo's cron runner makes them, with ``seconds`` of budget."""
        return patch.object(type(self.env["ir.cron"]), "_vip_call_seconds", lambda cron: seconds)

    def test_a_call_under_a_time_budget_runs_batches_until_it_is_spent(self):
        """Production mode: a call of the runner sizes its batches by time. With
        time to spare one call evaluates every customer in batches and refreshes
        the value in steps; with none, a call still does its first batch, and
        the run ends the same over more calls."""
        partners = self._customers(7)
        with self._budget(600.0):
            progress = self.run_cron(self.Engine._cron_recompute_tiers, batch_size=2)
        self.assertEqual(len(progress), 1, "the whole run in one call")
        self.assertEqual(progress[0][1], 0)
        self.assertEqual(sorted(self.evaluated), sorted(partners.ids))
        self.assertEqual(set(partners.mapped("vip_tier_id")), {self.tier_b})
        self.assertEqual(partners[0].vip_lifetime_spend, 60000, "the value refreshed too")
        self.assertFalse(self.company.vip_recompute_cursor, "today's run is complete")

        # a new run with hardly any time: one batch of two customers per call
        self.evaluated.clear()
        self.Engine.sudo()._request_full_run(self.company)
        with self._budget(1e-9):
            progress = self.run_cron(self.Engine._cron_recompute_tiers, batch_size=2)
        self.assertEqual([done for done, _left in progress[:4]], [2, 2, 2, 1])
        self.assertGreater(len(progress), 5, "the value refresh in steps of its own")
        self.assertEqual(progress[-1][1], 0)
        remaining = [left for _done, left in progress]
        self.assertEqual(remaining, sorted(remaining, reverse=True), "always less left")
        self.assertEqual(sorted(self.evaluated), sorted(partners.ids), "each customer once")
        self.assertEqual(partners[0].vip_lifetime_spend, 60000)
        self.assertFalse(self.company.vip_recompute_cursor)

    def test_a_call_with_no_time_left_asks_for_a_new_pass(self):
        """The pass's share of the cron limit is spent: the call evaluates
        nobody, reports nothing done (the runner stops calling it into the
        limit) and triggers the cron for the next pass."""
        self._customers(2)
        cron = self.env.ref("vip_customer.ir_cron_vip_recompute_tiers")
        Trigger = self.env["ir.cron.trigger"].sudo()
        before = Trigger.search_count([("cron_id", "=", cron.id)])
        with self._budget(0.0):
            progress = self.run_cron(
                self.Engine.with_context(cron_id=cron.id)._cron_recompute_tiers, batch_size=2
            )
        self.assertEqual(progress, [(0, 0)])
        self.assertFalse(self.evaluated)
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), before + 1)
        self.assertFalse(self.company.vip_recompute_date, "the run did not even start")

    def test_a_call_resumes_after_the_cursor(self):
        first, second = self._customers(2)
        # as if a call had evaluated the first customer's batch
        self.Engine.sudo()._save_resume_point(self.company, first.id, self.today)
        progress = self.run_cron(self.Engine._cron_recompute_tiers)
        self.assertEqual(progress, [(1, 1), (1, 0)], "the customer, then the value refresh")
        self.assertEqual(self.evaluated, [second.id])
        self.assertFalse(first.vip_tier_id, "done by the earlier call, not again")
        self.assertEqual(second.vip_tier_id, self.tier_b)

    def test_yesterdays_cursor_starts_a_new_run(self):
        first, second = self._customers(2)
        # yesterday's run stopped half-way: today's starts from the first customer
        self.Engine.sudo()._save_resume_point(
            self.company, first.id, self.today - timedelta(days=1)
        )
        self.run_cron(self.Engine._cron_recompute_tiers)
        self.assertEqual(sorted(self.evaluated), sorted((first | second).ids))

    def test_cron_and_direct_run_evaluate_the_same_customers(self):
        """The cron's selection of customers (``_pending_customers``) and the
        engine's aggregate (``_fetch_rows``) agree on who is a customer."""
        buyer = self._customers(1)
        company = self.env["res.partner"].create({"name": "Holding", "is_company": True})
        contact = self.env["res.partner"].create({"name": "Buyer", "parent_id": company.id})
        self._invoice(contact, 500, days_ago=2)
        future = self.env["res.partner"].create({"name": "Future buyer"})
        self._invoice(future, 500, days_ago=-5)
        in_program = self.env["res.partner"].create({"name": "Program member"})
        in_program.sudo().with_context(vip_engine=True).write({"vip_company_id": self.company.id})
        self.recompute()
        direct = set(self.evaluated)
        self.assertTrue({buyer.id, company.id, in_program.id} <= direct)
        self.assertNotIn(future.id, direct)
        self.assertNotIn(contact.id, direct)
        self.evaluated.clear()
        self.run_cron(self.Engine._cron_recompute_tiers, batch_size=2)
        self.assertEqual(sorted(self.evaluated), sorted(direct))

    def test_reevaluate_all_hands_the_work_to_the_cron(self):
        customer = self._customers(1)
        self.run_cron(self.Engine._cron_recompute_tiers)
        self.assertEqual(customer.vip_tier_id, self.tier_b)
        self._invoice(customer, 60000, days_ago=2)
        cron = self.env.ref("vip_customer.ir_cron_vip_recompute_tiers")
        Trigger = self.env["ir.cron.trigger"].sudo()
        before = Trigger.search_count([("cron_id", "=", cron.id)])
        self.evaluated.clear()
        action = self.env["res.partner"].with_user(self.vip_manager).action_vip_recompute_all()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), before + 1)
        self.assertFalse(self.evaluated, "nobody evaluated within the request")
        self.assertEqual(customer.vip_tier_id, self.tier_b)
        self.run_cron(self.Engine._cron_recompute_tiers)
        self.assertEqual(customer.vip_tier_id, self.tier_a, "the cron's run evaluated it again")
        self.assertEqual(self.evaluated.count(customer.id), 1)

    def test_run_manually_runs_one_batch_with_its_progress(self):
        """"Run Manually" on the cron is one call of it, with a time budget from
        the server's limits (a request's too): here none left after the first
        batch, so a batch, with its progress recorded."""
        customers = self._customers(2)
        cron = self.env.ref("vip_customer.ir_cron_vip_recompute_tiers")
        Progress = self.env["ir.cron.progress"].sudo()
        before = Progress.search_count([("cron_id", "=", cron.id)])
        budgeted = []

        def seconds(cron):
            budgeted.append(bool(cron.env.context.get("ir_cron_progress_id")))
            return 1e-9

        with patch.object(type(self.env["ir.cron"]), "_vip_call_seconds", seconds):
            cron.with_user(self.env.ref("base.user_admin")).method_direct_trigger()
        self.assertEqual(budgeted, [True], "the manual call is a call of the runner's kind")
        progress = Progress.search([("cron_id", "=", cron.id)], order="id desc", limit=1)
        self.assertEqual(Progress.search_count([("cron_id", "=", cron.id)]), before + 1)
        # the cron runs in its user's time zone: near midnight UTC its "today"
        # may be a day after the test's, and the demo company's customers are
        # then the first batch; either way one batch ran and was reported
        self.assertTrue(self.evaluated)
        self.assertEqual(progress.done, len(self.evaluated), "the progress counts this batch")
        self.assertGreaterEqual(progress.remaining, 1, "the value refresh remains")
        if progress.remaining == 1:
            self.assertEqual(sorted(self.evaluated), sorted(customers.ids))

    def test_single_customer_button_evaluates_at_once(self):
        customer = self._customers(1)
        self.run_cron(self.Engine._cron_recompute_tiers)
        self._invoice(customer, 60000, days_ago=2)
        customer.with_user(self.vip_user).action_vip_recompute()
        self.assertEqual(customer.vip_tier_id, self.tier_a, "the button re-evaluates at once")
