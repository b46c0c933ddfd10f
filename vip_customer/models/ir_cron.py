"""The time budget of a VIP cron call (see ``tools/cron_budget.py``)."""

from odoo import api, models
from odoo.tools import config

from odoo.addons.base.models.ir_cron import MAX_BATCH_PER_CRON_JOB

from ..tools.cron_budget import CallBudget, call_seconds


class IrCron(models.Model):
    _inherit = "ir.cron"

    @api.model
    def _vip_call_seconds(self):
        """Seconds one call may work: a share of the server's cron limit when
        the call comes from Odoo's cron runner or "Run Manually" (they put a
        progress record in the context), None otherwise (tests, code calling
        a cron method) and on a server without limits."""
        if not self.env.context.get("ir_cron_progress_id"):
            return None
        return call_seconds(config, MAX_BATCH_PER_CRON_JOB)

    @api.model
    def _vip_call_budget(self, max_size, first_size=None):
        """A ``CallBudget`` for the sub-batches of this call: one batch of
        ``max_size`` without a limit; with one, ``first_size`` items first,
        then as many as the time left allows, at most ``max_size`` each."""
        return CallBudget(self._vip_call_seconds(), max_size, first_size)
