"""The time budget of a VIP cron call (see ``tools/cron_budget.py``)."""

import logging
import os
import threading
import time
from datetime import timedelta

import psutil

from odoo import api, fields, models
from odoo.tools import config

from ..tools.cron_budget import PASS_SHARE, CallBudget, PassClock, cron_time_limit

_logger = logging.getLogger(__name__)


def _process_start():
    """This process's start on the monotonic clock."""
    return time.monotonic() - (time.time() - psutil.Process().create_time())


# this process's pass of cron calls (multi-worker server: one cron worker a process)
PASS_CLOCK = PassClock(process_start=_process_start, pid=os.getpid)


class IrCron(models.Model):
    _inherit = "ir.cron"

    @api.model
    def _vip_call_seconds(self):
        """Seconds this call may work, when it comes from Odoo's cron runner or
        "Run Manually" (they put a progress record in the context): what is
        left of the pass's share of the server's cron limit (0 or less: none).
        None otherwise (tests, code calling a cron method) and on a server
        without limits."""
        if not self.env.context.get("ir_cron_progress_id"):
            return None
        limit = cron_time_limit(config)
        if not limit:
            return None
        start = getattr(threading.current_thread(), "start_time", None)
        if start:
            # threaded server: the cron thread's pass started then
            return start + limit * PASS_SHARE - time.time()
        return PASS_CLOCK.call_started(limit)

    @api.model
    def _vip_call_budget(self, max_size, first_size=None):
        """A ``CallBudget`` for the sub-batches of this call: one batch of
        ``max_size`` without a limit; with one, ``first_size`` items first,
        then as many as the time left allows, at most ``max_size`` each; with
        no time left, ``deferred`` (see :meth:`_vip_defer_call`)."""
        return CallBudget(
            self._vip_call_seconds(), max_size, first_size, on_tick=PASS_CLOCK.touch
        )

    @api.model
    def _vip_defer_call(self):
        """The call found its pass's time spent and did nothing: ask for a call
        in a new pass (a trigger wakes the worker up at once) and report
        nothing done, so that the runner ends this job for this pass instead
        of calling it again into the time limit."""
        PASS_CLOCK.end_pass()
        cron_id = self.env.context.get("cron_id")
        if cron_id:
            # sudo: the job's user may not write crons; this is the job asking for itself
            cron = self.sudo().browse(cron_id)
            # Odoo stores the trigger to the second and, when it reschedules this job,
            # deletes the triggers due before the job started: a trigger for now could
            # fall in the same second and go. One second later it stays, and the worker,
            # woken once this call commits, finds it due.
            cron._trigger(fields.Datetime.now() + timedelta(seconds=1))
            self.env.cr.postcommit.add(cron._notifydb)
            time.sleep(1)
        _logger.info("VIP cron %s: this pass's time is spent, called again in a new one", cron_id)
        self._notify_progress(done=0, remaining=0)
        return True
