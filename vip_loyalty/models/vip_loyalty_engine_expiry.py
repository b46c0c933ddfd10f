"""Expiry of points and the warnings before it (``vip.loyalty.engine``).

Both crons follow Odoo's pattern: one bounded batch per call, its progress
reported with ``ir.cron._notify_progress``; Odoo's cron runner commits and calls
again while some work remains. The expiries themselves are recorded by the
ledger's entry point, :meth:`~.vip_loyalty_engine.VipLoyaltyEngine._post_moves`.
"""

import logging

from odoo import api, fields, models
from odoo.osv import expression
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

EXPIRY_BATCH_SIZE = 50000
WARNING_BATCH_SIZE = 500


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
        """Daily: expire one batch of the lots that reached their expiry date.

        Reports the lots done and the lapsed lots left; the cron runner commits
        and calls again until none is left (a run stopped by the time limit goes
        on where it stopped)."""
        done, remaining = self._expire_lapsed_batch(batch_size=batch_size)
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

    # ------------------------------------------------------------------
    # Warnings
    # ------------------------------------------------------------------
    @api.model
    def _get_expiry_warning_domain(self, today):
        """Lots to announce today: open, not announced yet, expiring within the
        warning delay of their company's program, of a customer with an email.

        :return: a domain, or ``None`` when no program warns
        """
        # sudo: a cron over every company's program
        programs = self.env["vip.loyalty.program"].sudo().search([("warning_days", ">", 0)])
        if not programs:
            return None
        return expression.AND([
            [("remaining_points", ">", 0), ("warning_sent", "=", False),
             ("expiry_date", ">", today), ("partner_id.email", "!=", False)],
            expression.OR([
                [("company_id", "=", program.company_id.id),
                 ("expiry_date", "<=", fields.Date.add(today, days=program.warning_days))]
                for program in programs
            ]),
        ])

    @api.model
    def _send_expiry_warnings_batch(self, today=None, batch_size=WARNING_BATCH_SIZE):
        """Email the first ``batch_size`` customers (points accounts, lowest ids first)
        with lots to announce, then mark those lots: the next batch no longer sees them.

        :return: ``(customers emailed, customers left to email)``
        """
        today = today or fields.Date.context_today(self)
        template = self.env.ref("vip_loyalty.mail_template_points_expiry_warning",
                                raise_if_not_found=False)
        domain = self._get_expiry_warning_domain(today)
        if not template or domain is None:
            return 0, 0
        # sudo: a cron mailing customers of every company
        Move = self.env["vip.loyalty.move"].sudo()
        account_ids = sorted(
            account.id for (account,) in Move._read_group(domain, ["account_id"])
        )
        batch = account_ids[:batch_size]
        if not batch:
            return 0, 0
        lots = Move.search(domain + [("account_id", "in", batch)])
        template.with_context(vip_warning_lot_ids=lots.ids).sudo().send_mail_batch(
            batch, email_layout_xmlid="mail.mail_notification_light"
        )
        self._mark_expiry_warning_sent(lots)
        return len(batch), len(account_ids) - len(batch)

    @api.model
    def _cron_send_expiry_warnings(self, batch_size=WARNING_BATCH_SIZE):
        """Daily: tell one batch of customers which points expire soon (once per lot);
        the cron runner commits and calls again while customers are left."""
        done, remaining = self._send_expiry_warnings_batch(batch_size=batch_size)
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)

    @api.model
    def _send_expiry_warnings(self, today=None, batch_size=WARNING_BATCH_SIZE):
        """Every batch of :meth:`_send_expiry_warnings_batch` now (tests).

        :return: number of customers emailed
        """
        total = 0
        while True:
            done, remaining = self._send_expiry_warnings_batch(today=today,
                                                               batch_size=batch_size)
            total += done
            if not (done and remaining):
                return total
