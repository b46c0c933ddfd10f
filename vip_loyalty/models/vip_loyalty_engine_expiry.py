"""Expiry of points (``vip.loyalty.engine``).

The cron follows Odoo's pattern: one bounded batch per call, its progress
reported with ``ir.cron._notify_progress``; Odoo's cron runner commits and calls
again while some work remains. The expiries themselves are recorded by the
ledger's entry point, :meth:`~.vip_loyalty_engine.VipLoyaltyEngine._post_moves`.
The warning before points expire is the key moment ``points_expiring``
(``vip_moment_engine.py``).
"""

import logging

from odoo import api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

EXPIRY_BATCH_SIZE = 50000
# the first batch of a call under a time limit (see ir.cron._vip_call_budget)
FIRST_BATCH_SIZE = 1000


# one engine split by concern across files (no model file over ~500 lines)
class VipLoyaltyEngine(models.AbstractModel):
    _inherit = "vip.loyalty.engine"  # pylint: disable=consider-merging-classes-inherited

    # ------------------------------------------------------------------
    # Expiry
    # ------------------------------------------------------------------
    def _count_lapsed_lots(self, today):
        self.env["vip.loyalty.move"].flush_model(["remaining_points", "expiry_date"])
        self.env.cr.execute(SQL(
            "SELECT COUNT(*) FROM vip_loyalty_move WHERE remaining_points > 0 "
            "AND expiry_date <= %s",
            today,
        ))
        return self.env.cr.fetchone()[0]

    @api.model
    def _expire_lapsed_batch(self, today=None, batch_size=EXPIRY_BATCH_SIZE):
        """Expire what is left of the first ``batch_size`` lots that reached their
        expiry date (lowest ids first). An expired lot is emptied, so the next
        batch starts after it without any marker.

        :return: ``(lots expired, lapsed lots remaining)``
        """
        today = today or fields.Date.context_today(self)
        self.env["vip.loyalty.move"].flush_model(["remaining_points", "expiry_date"])
        self.env.cr.execute(SQL(
            """
            SELECT id FROM vip_loyalty_move
             WHERE remaining_points > 0 AND expiry_date <= %s
             ORDER BY id LIMIT %s
            """,
            today, batch_size,
        ))
        lot_ids = [row[0] for row in self.env.cr.fetchall()]
        moves = self._post_moves([
            {"move_type": "expire", "reversed_move_id": lot_id, "date": today}
            for lot_id in lot_ids
        ])
        remaining = self._count_lapsed_lots(today) if lot_ids else 0
        _logger.info("VIP points: %s lots expired, %s lapsed lots left", len(moves), remaining)
        return len(lot_ids), remaining

    @api.model
    def _cron_expire_points(self, batch_size=EXPIRY_BATCH_SIZE):
        """Daily: expire batches of the lots that reached their expiry date.

        Called by Odoo's cron runner, a call sizes its batches by time
        (``ir.cron._vip_call_budget``) until its share of the server's cron
        limit is spent; otherwise it is one batch. Reports the lots done and
        the lapsed lots left; the cron runner commits and calls again until
        none is left (a run stopped by the time limit goes on where it
        stopped)."""
        budget = self.env["ir.cron"]._vip_call_budget(batch_size, FIRST_BATCH_SIZE)
        if budget.deferred:
            return self.env["ir.cron"]._vip_defer_call()
        done = remaining = 0
        for size in budget:
            count, remaining = self._expire_lapsed_batch(batch_size=size)
            budget.spent(count, size)
            done += count
            if not remaining:
                budget.stop()
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)

    @api.model
    def _expire_lots(self, today=None, batch_size=EXPIRY_BATCH_SIZE):
        """Every batch of :meth:`_expire_lapsed_batch` in this transaction (demo data,
        benchmark, tests): what the cron does over several calls.

        :return: number of lots expired
        """
        total = 0
        while True:
            done, remaining = self._expire_lapsed_batch(today=today, batch_size=batch_size)
            total += done
            if not (done and remaining):
                return total
