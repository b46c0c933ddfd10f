import threading
import time
from unittest.mock import patch

from odoo.tests import TransactionCase, tagged

from odoo.addons.vip_customer.models import ir_cron as vip_ir_cron


@tagged("post_install", "-at_install")
class TestCronBudget(TransactionCase):
    """Which calls of a VIP cron work by time, and with how much of it."""

    def setUp(self):
        super().setUp()
        self.Cron = self.env["ir.cron"]
        # the test runs in a thread of its own: no cron pass started on it
        thread = threading.current_thread()
        start = getattr(thread, "start_time", None)
        self.addCleanup(setattr, thread, "start_time", start)
        thread.start_time = None
        config = {"limit_time_real_cron": 30, "limit_time_real": 60, "workers": 2,
                  "limit_time_cpu": 25}
        patcher = patch.object(vip_ir_cron, "config", config)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.addCleanup(setattr, vip_ir_cron, "PASS_CLOCK", vip_ir_cron.PASS_CLOCK)
        vip_ir_cron.PASS_CLOCK = vip_ir_cron.PassClock()

    def test_only_the_runners_calls_are_budgeted(self):
        self.assertIsNone(self.Cron._vip_call_seconds(), "a method called by code: no budget")
        budget = self.Cron._vip_call_budget(5000, 100)
        self.assertFalse(budget.limited)
        self.assertEqual(budget.next_size(), 5000, "one batch of the configured size")

    def test_a_runners_call_gets_half_the_tightest_limit(self):
        cron = self.Cron.with_context(ir_cron_progress_id=1)
        # multi-worker, 30 s real and 25 s CPU: half of 25 for the pass
        self.assertAlmostEqual(cron._vip_call_seconds(), 12.5, delta=0.5)
        budget = cron._vip_call_budget(5000, 100)
        self.assertTrue(budget.limited)
        self.assertEqual(budget.next_size(), 100, "a small first batch")

    def test_threaded_server_reads_the_pass_start_of_its_cron_thread(self):
        threading.current_thread().start_time = time.time() - 10
        with patch.dict(vip_ir_cron.config, {"workers": 0}):
            seconds = self.Cron.with_context(ir_cron_progress_id=1)._vip_call_seconds()
        # half of 30 s, 10 of them spent already by the pass
        self.assertAlmostEqual(seconds, 5, delta=0.5)

    def test_no_limit_no_budget(self):
        with patch.dict(vip_ir_cron.config, {"limit_time_real_cron": 0, "limit_time_cpu": 0}):
            self.assertIsNone(self.Cron.with_context(ir_cron_progress_id=1)._vip_call_seconds())
