"""The time budget of a VIP cron call (see ``tools/cron_budget.py``)."""

import threading
import time

from odoo import api, models
from odoo.tools import config

from ..tools.cron_budget import PASS_SHARE, CallBudget, PassClock, cron_time_limit

# this process's pass of cron calls (multi-worker server: one cron worker a process)
PASS_CLOCK = PassClock()


class IrCron(models.Model):
    _inherit = "ir.cron"

    @api.model
    def _vip_call_seconds(self):
        """Seconds this call may work, when it comes from Odoo's cron runner or
        "Run Manually" (they put a progress record in the context): what is
        left of the pass's share of the server's cron limit. None otherwise
        (tests, code calling a cron method) and on a server without limits."""
        if not self.env.context.get("ir_cron_progress_id"):
            return None
        limit = cron_time_limit(config)
        if not limit:
            return None
        start = getattr(threading.current_thread(), "start_time", None)
        if start:
            # threaded server: the cron thread's pass started then
            return max(0.0, start + limit * PASS_SHARE - time.time())
        return PASS_CLOCK.call_started(limit)

    @api.model
    def _vip_call_budget(self, max_size, first_size=None):
        """A ``CallBudget`` for the sub-batches of this call: one batch of
        ``max_size`` without a limit; with one, ``first_size`` items first,
        then as many as the time left allows, at most ``max_size`` each."""
        return CallBudget(
            self._vip_call_seconds(), max_size, first_size, on_tick=PASS_CLOCK.touch
        )
