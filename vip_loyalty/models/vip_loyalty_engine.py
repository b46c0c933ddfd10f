"""The points engine: the only way points enter or leave the ledger.

Every change goes through :meth:`VipLoyaltyEngine._create_moves`, which, in
the transaction of the change and with the customer's account locked:

* creates the moves (append-only);
* gives back to their lots the points of a move being undone (a cancelled
  redemption returns its points to the lots it took them from);
* makes negative moves consume open lots, the first to expire first (a
  reversal of earned points takes them from the lot they created first);
* lets new lots cover points a customer owed (an invoice cancelled after its
  points were spent leaves the balance below zero until the next earnings);
* adds the moves to the account totals, so balances are never summed on read.

Extension points (override on ``vip.loyalty.engine``):

* :meth:`_get_invoice_base_amount` - the amount points are earned on;
* :meth:`_get_multiplier` - the tier multiplier of a customer;
* :meth:`_prepare_invoice_move_vals` - more values on invoice moves.
"""

import logging
import threading
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from odoo.addons.vip_customer.models.vip_bounds_mixin import INT_MAX

from .vip_loyalty_account import PARTNER_FIELDS

_logger = logging.getLogger(__name__)

EARNING_TYPES = ("earn", "referral", "import")
EXPIRY_BATCH_SIZE = 50000


class VipLoyaltyEngine(models.AbstractModel):
    _name = "vip.loyalty.engine"
    _description = "VIP Points Engine"

    # ------------------------------------------------------------------
    # Hooks
    # ------------------------------------------------------------------
    @api.model
    def _get_invoice_base_amount(self, invoice, program):
        """Signed amount in company currency (negative for credit notes)."""
        if program.basis == "total":
            return invoice.amount_total_signed
        return invoice.amount_untaxed_signed

    @api.model
    def _get_multiplier(self, partner, company):
        """``(tier, multiplier)`` in force for ``partner`` in ``company``."""
        tier = partner.commercial_partner_id.vip_tier_id
        if tier and tier.company_id == company:
            return tier, tier.loyalty_multiplier
        return self.env["vip.tier"], 1.0

    @api.model
    def _prepare_invoice_move_vals(self, invoice, points, tier, multiplier, base_amount):
        kind = self.env._("Invoice") if invoice.move_type == "out_invoice" else self.env._(
            "Credit note"
        )
        vals = {
            "name": f"{kind} {invoice.name}",
            "partner_id": invoice.commercial_partner_id.id,
            "company_id": invoice.company_id.id,
            "move_type": "earn" if points > 0 else "reversal",
            "date": invoice.invoice_date or fields.Date.context_today(self),
            "points": points,
            "invoice_id": invoice.id,
            "tier_id": tier.id or False,
            "multiplier": multiplier,
            "base_amount": base_amount,
        }
        backfill_id = self.env.context.get("vip_loyalty_backfill_id")
        if backfill_id:
            # awarded for a past invoice (vip.loyalty.backfill): found and audited by the run
            vals["backfill_id"] = backfill_id
            expiry = self.env.context.get("vip_loyalty_backfill_expiry")
            if expiry and points > 0:
                vals["expiry_date"] = expiry
        return vals

    # ------------------------------------------------------------------
    # The ledger
    # ------------------------------------------------------------------
    @api.model
    def _create_moves(self, vals_list):
        """Record points moves and keep lots and account totals consistent.

        Each dict needs ``partner_id`` (commercial partner), ``company_id``,
        ``move_type``, ``name`` and ``points`` (non-zero); a move with a
        ``reversed_move_id`` undoes that move. Callers check the user's rights
        and the business rules; this method records.

        :return: the new moves, in the order of ``vals_list``
        """
        Move = self.env["vip.loyalty.move"]
        vals_list = [dict(vals) for vals in vals_list if vals.get("points")]
        if not vals_list:
            return Move
        Account = self.env["vip.loyalty.account"]
        accounts = Account._get_or_create(
            (vals["partner_id"], vals["company_id"]) for vals in vals_list
        )
        totals = Account.browse({a.id for a in accounts.values()})._lock()
        self._check_totals(vals_list, accounts, totals)
        programs = self.env["vip.loyalty.program"]._get_for_companies(
            self.env["res.company"].browse({vals["company_id"] for vals in vals_list})
        )
        today = fields.Date.context_today(self)
        for vals in vals_list:
            vals["account_id"] = accounts[(vals["partner_id"], vals["company_id"])].id
            vals.setdefault("date", today)
            vals.setdefault("user_id", self.env.uid)
            points = vals["points"]
            undo = bool(vals.get("reversed_move_id")) and points > 0
            vals["is_lot"] = points > 0 and not undo
            vals.setdefault(
                "is_earning",
                vals["move_type"] in EARNING_TYPES
                or (vals["move_type"] == "reversal" and bool(vals.get("invoice_id"))),
            )
            if vals["is_lot"]:
                vals["remaining_points"] = points
                if "expiry_date" not in vals:
                    program = programs.get(vals["company_id"])
                    vals["expiry_date"] = program._expiry_date(vals["date"]) if program else False
            else:
                vals["remaining_points"] = 0
        # the engine writes the ledger for every caller (the rights were checked by them)
        moves = Move.sudo().with_context(vip_loyalty_engine=True).create(vals_list)
        undos = moves.filtered(lambda m: m.points > 0 and m.reversed_move_id)
        if undos:
            self._give_back(undos)
        consumers = moves.filtered(lambda m: m.points < 0)
        self._allocate(moves.account_id, consumers)
        Account._apply_moves(moves.ids)
        return moves.sudo(self.env.su)

    def _check_totals(self, vals_list, accounts, totals):
        """Refuse moves whose points, or whose account's new totals, a points
        column cannot hold (a clear error instead of "integer out of range")."""
        delta = defaultdict(int)
        for vals in vals_list:
            if abs(vals["points"]) > INT_MAX:
                raise UserError(self.env._(
                    "%(move)s: %(points)s points is more than a points move can hold "
                    "(%(max)s).",
                    move=vals.get("name") or "", points=f"{vals['points']:,}", max=f"{INT_MAX:,}",
                ))
            delta[accounts[(vals["partner_id"], vals["company_id"])].id] += vals["points"]
        for account_id, points in delta.items():
            balance, lifetime = totals.get(account_id, (0, 0))
            if max(abs(balance + points), abs(lifetime + points)) > INT_MAX:
                account = self.env["vip.loyalty.account"].sudo().browse(account_id)
                raise UserError(self.env._(
                    "%(customer)s: a balance of %(points)s points is more than an account "
                    "can hold (%(max)s).",
                    customer=account.partner_id.display_name,
                    points=f"{balance + points:,}", max=f"{INT_MAX:,}",
                ))

    def _give_back(self, undos):
        """Return to their lots the points the undone moves had taken."""
        cr = self.env.cr
        undo_of = {undo.reversed_move_id.id: undo for undo in undos}
        cr.execute(SQL(
            """
            SELECT move_id, lot_id, SUM(points)
              FROM vip_loyalty_move_allocation
             WHERE move_id = ANY(%s)
             GROUP BY move_id, lot_id
            HAVING SUM(points) <> 0
            """,
            list(undo_of),
        ))
        allocations = []
        lot_delta = defaultdict(int)
        for move_id, lot_id, points in cr.fetchall():
            undo = undo_of[move_id]
            allocations.append({
                "move_id": undo.id, "lot_id": lot_id, "points": -points,
                "company_id": undo.company_id.id,
            })
            lot_delta[lot_id] += points
        self._insert_allocations(allocations)
        if lot_delta:
            cr.execute(SQL(
                """
                UPDATE vip_loyalty_move m SET remaining_points = m.remaining_points + d.delta
                  FROM unnest(%s::int[], %s::int[]) AS d(id, delta)
                 WHERE m.id = d.id
                """,
                list(lot_delta), list(lot_delta.values()),
            ))
        cr.execute(SQL(
            "UPDATE vip_loyalty_move SET uncovered_points = 0 WHERE id = ANY(%s) "
            "AND uncovered_points <> 0",
            list(undo_of),
        ))
        self.env["vip.loyalty.move"].invalidate_model(["remaining_points", "uncovered_points"])

    def _allocate(self, accounts, consumers):
        """Negative moves and points still owed take from open lots, first to expire first.

        ``consumers`` are new negative moves; the older moves of ``accounts``
        with uncovered points are served first (new lots pay what was owed).
        """
        cr = self.env.cr
        cr.execute(SQL(
            """
            SELECT id, account_id, remaining_points
              FROM vip_loyalty_move
             WHERE account_id = ANY(%s) AND remaining_points > 0
             ORDER BY account_id, expiry_date NULLS LAST, date, id
            """,
            accounts.ids,
        ))
        lots = defaultdict(list)
        remaining = {}
        for lot_id, account_id, points in cr.fetchall():
            lots[account_id].append(lot_id)
            remaining[lot_id] = points
        # (move id, account id, company id, points needed, preferred lot id, new move)
        queue = []
        if lots:
            cr.execute(SQL(
                """
                SELECT id, account_id, company_id, uncovered_points
                  FROM vip_loyalty_move
                 WHERE account_id = ANY(%s) AND uncovered_points > 0 AND id <> ALL(%s)
                 ORDER BY date, id
                """,
                list(lots), consumers.ids or [0],
            ))
            queue.extend((*row, None, False) for row in cr.fetchall())
        for move in consumers:
            preferred = move.reversed_move_id.id if move.reversed_move_id.is_lot else None
            queue.append(
                (move.id, move.account_id.id, move.company_id.id, -move.points, preferred, True)
            )
        allocations = []
        uncovered = {}
        touched = set()
        for move_id, account_id, company_id, need, preferred, new in queue:
            order = lots.get(account_id, [])
            if preferred in remaining:
                order = [preferred] + [lot for lot in order if lot != preferred]
            left = need
            for lot_id in order:
                if not left:
                    break
                take = min(left, remaining[lot_id])
                if take <= 0:
                    continue
                remaining[lot_id] -= take
                touched.add(lot_id)
                left -= take
                allocations.append({
                    "move_id": move_id, "lot_id": lot_id, "points": take,
                    "company_id": company_id,
                })
            if (new and left) or (not new and left != need):
                uncovered[move_id] = left
        self._insert_allocations(allocations)
        if touched:
            cr.execute(SQL(
                """
                UPDATE vip_loyalty_move m SET remaining_points = d.remaining
                  FROM unnest(%s::int[], %s::int[]) AS d(id, remaining)
                 WHERE m.id = d.id
                """,
                list(touched), [remaining[lot] for lot in touched],
            ))
        if uncovered:
            cr.execute(SQL(
                """
                UPDATE vip_loyalty_move m SET uncovered_points = d.uncovered
                  FROM unnest(%s::int[], %s::int[]) AS d(id, uncovered)
                 WHERE m.id = d.id
                """,
                list(uncovered), list(uncovered.values()),
            ))
        self.env["vip.loyalty.move"].invalidate_model(["remaining_points", "uncovered_points"])

    def _insert_allocations(self, allocations):
        if allocations:
            # sudo: allocations are written by the ledger only, never by users
            self.env["vip.loyalty.move.allocation"].sudo().create(allocations)

    # ------------------------------------------------------------------
    # Invoices
    # ------------------------------------------------------------------
    @api.model
    def _sync_invoices(self, invoices):
        """Make the points of each customer invoice and credit note what it is worth now.

        An invoice is worth its points once posted (or paid, depending on the
        program) and nothing otherwise; a credit note takes back at most what
        its invoice earned. When the ledger already holds that value nothing
        happens, so posting again, re-syncing or a second payment never earn
        twice; otherwise the invoice's open moves are reversed and the new value
        recorded. The tier multiplier of points already earned is kept.
        """
        invoices = invoices.filtered(
            lambda m: m.move_type in ("out_invoice", "out_refund")
            and not m.vip_loyalty_redemption_id
            and m.commercial_partner_id
        )
        if not invoices:
            return self.env["vip.loyalty.move"]
        programs = self.env["vip.loyalty.program"]._get_for_companies(invoices.company_id)
        invoices = invoices.filtered(lambda m: m.company_id.id in programs)
        if not invoices:
            return self.env["vip.loyalty.move"]
        origins = invoices.filtered(lambda m: m.move_type == "out_refund").reversed_entry_id
        # sudo: posting an invoice earns points whoever posts it (ledger is not user-writable)
        Move = self.env["vip.loyalty.move"].sudo()
        moves = Move.search_fetch(
            [("move_type", "in", ("earn", "reversal")),
             "|", ("invoice_id", "in", (invoices | origins).ids),
             ("invoice_id.reversed_entry_id", "in", origins.ids)],
            ["invoice_id", "points", "reversed_move_id", "tier_id", "multiplier", "is_lot"],
            order="id",
        )
        by_invoice = defaultdict(lambda: Move)
        for move in moves:
            by_invoice[move.invoice_id.id] |= move
        refunds_of = defaultdict(lambda: self.env["account.move"])
        for move in moves:
            origin = move.invoice_id.reversed_entry_id
            if origin:
                refunds_of[origin.id] |= move.invoice_id
        vals_list = []
        for invoice in invoices:
            program = programs[invoice.company_id.id]
            own = by_invoice[invoice.id]
            primaries = own.filtered(lambda m, own=own: m.reversed_move_id not in own)
            undone = own.reversed_move_id & own
            open_moves = primaries - undone
            net = sum(own.mapped("points"))
            target, tier, multiplier, base, preferred = self._invoice_target(
                invoice, program, open_moves, by_invoice, refunds_of
            )
            if target == net:
                continue
            for move in open_moves:
                vals_list.append({
                    "name": self.env._("Reversal of %(move)s", move=move.name),
                    "partner_id": invoice.commercial_partner_id.id,
                    "company_id": invoice.company_id.id,
                    "move_type": "reversal",
                    "points": -move.points,
                    "invoice_id": invoice.id,
                    "reversed_move_id": move.id,
                    "tier_id": move.tier_id.id,
                    "multiplier": move.multiplier,
                    "reason": self._invoice_reversal_reason(invoice),
                })
            if target:
                vals = self._prepare_invoice_move_vals(invoice, target, tier, multiplier, base)
                if preferred:
                    vals["reversed_move_id"] = preferred.id
                vals_list.append(vals)
        new_moves = self._create_moves(vals_list)
        if not self.env.context.get("vip_loyalty_backfill_id"):
            # past invoices earn their own points only, never a referral long settled
            self._reward_referrals(invoices)
        return new_moves

    def _invoice_reversal_reason(self, invoice):
        if invoice.state == "cancel":
            return self.env._("Invoice cancelled")
        if invoice.state == "draft":
            return self.env._("Invoice reset to draft")
        return self.env._("Invoice amount or payment changed")

    def _invoice_target(self, invoice, program, open_moves, by_invoice, refunds_of):
        """``(points, tier, multiplier, base amount, preferred lot)`` the invoice is worth now."""
        Move = self.env["vip.loyalty.move"]
        none = (0, self.env["vip.tier"], 1.0, 0.0, Move)
        if invoice.state != "posted":
            return none
        base = self._get_invoice_base_amount(invoice, program)
        kept = open_moves.filtered("multiplier")[:1]
        if invoice.move_type == "out_invoice":
            if program.earn_on == "paid" and invoice.payment_state not in ("paid", "in_payment"):
                return none
            if kept:
                tier, multiplier = kept.tier_id, kept.multiplier
            else:
                tier, multiplier = self._get_multiplier(invoice.partner_id, invoice.company_id)
            points = program._round_points(base * program.points_per_unit * multiplier)
            return max(points, 0), tier, multiplier, base, Move
        # credit note: at most what its invoice still holds
        origin = invoice.reversed_entry_id
        origin_moves = by_invoice.get(origin.id, Move) if origin else Move
        origin_open = origin_moves.filtered(lambda m: m.points > 0 and m.is_lot)[-1:]
        if kept:
            tier, multiplier = kept.tier_id, kept.multiplier
        elif origin_open:
            tier, multiplier = origin_open.tier_id, origin_open.multiplier
        else:
            tier, multiplier = self._get_multiplier(invoice.partner_id, invoice.company_id)
        points = -program._round_points(abs(base) * program.points_per_unit * multiplier)
        if origin:
            held = sum(origin_moves.mapped("points")) + sum(
                sum(by_invoice.get(refund.id, Move).mapped("points"))
                for refund in refunds_of.get(origin.id, [])
                if refund != invoice
            )
            points = -min(-points, max(held, 0))
        return points, tier, multiplier, base, origin_open

    # ------------------------------------------------------------------
    # Referrals
    # ------------------------------------------------------------------
    def _reward_referrals(self, invoices):
        """Reward both sides of a referral at the new customer's first posted invoice."""
        candidates = invoices.filtered(
            lambda m: m.state == "posted" and m.move_type == "out_invoice"
            and m.commercial_partner_id.vip_referred_by_id
        )
        if not candidates:
            return
        programs = self.env["vip.loyalty.program"]._get_for_companies(candidates.company_id)
        referees = candidates.commercial_partner_id
        # customers with a posted invoice other than these ones are not new
        older = self.env["account.move"].sudo()._read_group(
            [("commercial_partner_id", "in", referees.ids), ("state", "=", "posted"),
             ("move_type", "=", "out_invoice"), ("id", "not in", candidates.ids)],
            ["commercial_partner_id"],
        )
        not_new = {partner.id for (partner,) in older}
        rewarded = set()
        # sudo: referral rewards already given, whoever posts the invoice
        for partner, other in self.env["vip.loyalty.move"].sudo()._read_group(
            [("move_type", "=", "referral"), "|", ("partner_id", "in", referees.ids),
             ("referral_partner_id", "in", referees.ids)],
            ["partner_id", "referral_partner_id"],
        ):
            # the pair was rewarded, whichever side got points
            referrer = partner.vip_referred_by_id.commercial_partner_id
            referee = partner if referrer == other else other
            rewarded.add(referee.id)
        vals_list = []
        seen = set()
        for invoice in candidates:
            referee = invoice.commercial_partner_id
            referrer = referee.vip_referred_by_id.commercial_partner_id
            program = programs[invoice.company_id.id]
            if referee.id in not_new or referee.id in rewarded or referee.id in seen:
                continue
            seen.add(referee.id)
            common = {
                "company_id": invoice.company_id.id,
                "move_type": "referral",
                "date": invoice.invoice_date,
                "invoice_id": invoice.id,
            }
            if program.referrer_points:
                vals_list.append(dict(
                    common,
                    name=self.env._("Referral of %(customer)s", customer=referee.display_name),
                    partner_id=referrer.id,
                    referral_partner_id=referee.id,
                    points=program.referrer_points,
                ))
            if program.referee_points:
                vals_list.append(dict(
                    common,
                    name=self.env._("Welcome: referred by %(customer)s",
                                    customer=referrer.display_name),
                    partner_id=referee.id,
                    referral_partner_id=referrer.id,
                    points=program.referee_points,
                ))
        self._create_moves(vals_list)

    # ------------------------------------------------------------------
    # Expiry
    # ------------------------------------------------------------------
    @api.model
    def _cron_expire_points(self):
        """Daily: expire what is left of the lots that reached their expiry date.

        Commits after each batch (a run stopped by the cron time limit goes on
        where it stopped the next time) and reports its progress.
        """
        auto_commit = not getattr(threading.current_thread(), "testing", False)
        self._expire_lots(auto_commit=auto_commit)

    @api.model
    def _expire_lots(self, today=None, batch_size=EXPIRY_BATCH_SIZE, auto_commit=False):
        """Expire, set-based, the remaining points of every lapsed lot.

        Per batch of lots: the accounts are locked (in id order, like every
        other change of points), then one statement writes an expiry move per
        lot, its allocation to the lot, empties the lot and updates the account
        totals.

        :return: number of lots expired
        """
        today = today or fields.Date.context_today(self)
        cr = self.env.cr
        self.env["vip.loyalty.move"].flush_model()
        self.env["vip.loyalty.account"].flush_model()
        cr.execute(SQL(
            "SELECT COUNT(*) FROM vip_loyalty_move WHERE remaining_points > 0 "
            "AND expiry_date <= %s",
            today,
        ))
        total = cr.fetchone()[0]
        done = 0
        last_id = 0
        prefix = self.env._("Expired: ")
        reason = self.env._("Validity period over")
        while done < total:
            cr.execute(SQL(
                """
                SELECT id, account_id FROM vip_loyalty_move
                 WHERE remaining_points > 0 AND expiry_date <= %s AND id > %s
                 ORDER BY id LIMIT %s
                """,
                today, last_id, batch_size,
            ))
            rows = cr.fetchall()
            if not rows:
                break
            lot_ids = [row[0] for row in rows]
            last_id = lot_ids[-1]
            cr.execute(SQL(
                "SELECT id FROM vip_loyalty_account WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
                list({row[1] for row in rows}),
            ))
            cr.execute(SQL(
                """
                WITH lots AS (
                    SELECT id, name, partner_id, company_id, account_id, remaining_points
                      FROM vip_loyalty_move
                     WHERE id = ANY(%(lot_ids)s) AND remaining_points > 0
                ), new_moves AS (
                    INSERT INTO vip_loyalty_move (
                        name, partner_id, company_id, account_id, move_type, date, points,
                        is_lot, is_earning, remaining_points, uncovered_points, expired,
                        warning_sent, reversed_move_id, reason, user_id,
                        create_uid, write_uid, create_date, write_date)
                    SELECT %(prefix)s || lots.name, partner_id, company_id, account_id, 'expire',
                           %(today)s, -remaining_points, false, false, 0, 0, false, false,
                           id, %(reason)s, %(uid)s, %(uid)s, %(uid)s,
                           now() at time zone 'UTC', now() at time zone 'UTC'
                      FROM lots
                    RETURNING id, reversed_move_id, company_id, account_id, points
                ), allocations AS (
                    INSERT INTO vip_loyalty_move_allocation (move_id, lot_id, points, company_id)
                    SELECT id, reversed_move_id, -points, company_id FROM new_moves
                ), emptied AS (
                    UPDATE vip_loyalty_move m SET remaining_points = 0, expired = true
                      FROM lots WHERE m.id = lots.id
                )
                UPDATE vip_loyalty_account a
                   SET balance = a.balance + d.points,
                       write_date = now() at time zone 'UTC', write_uid = %(uid)s
                  FROM (SELECT account_id, SUM(points) AS points
                          FROM new_moves GROUP BY account_id) d
                 WHERE a.id = d.account_id
                """,
                lot_ids=lot_ids, prefix=prefix, today=today, reason=reason, uid=self.env.uid,
            ))
            done += len(lot_ids)
            self.env["ir.cron"]._notify_progress(done=done, remaining=max(total - done, 0))
            if auto_commit:
                cr.commit()  # pylint: disable=invalid-commit
        self.env["vip.loyalty.move"].invalidate_model()
        self.env["vip.loyalty.account"].invalidate_model()
        self.env["vip.loyalty.move.allocation"].invalidate_model()
        self.env["res.partner"].invalidate_model(PARTNER_FIELDS)
        _logger.info("VIP points: %s lots expired", done)
        return done

    @api.model
    def _cron_send_expiry_warnings(self):
        """Daily: tell customers which points expire soon (once per lot)."""
        self._send_expiry_warnings()

    @api.model
    def _send_expiry_warnings(self, today=None):
        """Email each customer with lots expiring within their program's warning
        delay that were not announced yet, then mark those lots.

        :return: number of customers emailed
        """
        today = today or fields.Date.context_today(self)
        template = self.env.ref("vip_loyalty.mail_template_points_expiry_warning",
                                raise_if_not_found=False)
        if not template:
            return 0
        # sudo: a cron over every company's program and lots
        programs = self.env["vip.loyalty.program"].sudo().search([("warning_days", ">", 0)])
        Move = self.env["vip.loyalty.move"].sudo()
        emailed = 0
        for program in programs:
            lots = Move.search([
                ("company_id", "=", program.company_id.id),
                ("remaining_points", ">", 0),
                ("warning_sent", "=", False),
                ("expiry_date", ">", today),
                ("expiry_date", "<=", fields.Date.add(today, days=program.warning_days)),
                ("partner_id.email", "!=", False),
            ])
            if not lots:
                continue
            accounts = lots.account_id
            # sudo: a cron mailing customers of every company
            template.with_context(vip_warning_lot_ids=lots.ids).sudo().send_mail_batch(
                accounts.ids, email_layout_xmlid="mail.mail_notification_light"
            )
            lots.with_context(vip_loyalty_engine=True).write({"warning_sent": True})
            emailed += len(accounts)
        return emailed
