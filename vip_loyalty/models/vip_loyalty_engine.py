"""The points ledger's one writer: ``vip.loyalty.engine``.

Every movement of points - earned from an invoice, taken back by a credit note
or a cancellation, a referral reward, a redemption and its cancellation, an
adjustment, an opening balance, a past-invoice award, an expiry - is recorded
by :meth:`VipLoyaltyEngine._post_moves`, and nothing else writes moves,
allocations or account totals (``vip.loyalty.move.create`` refuses any other
caller, RPC included). In the transaction of the change, with the customers'
accounts locked, it:

* creates the moves (append-only);
* gives back to their lots the points of a move being undone (a cancelled
  redemption returns its points to the lots it took them from);
* makes negative moves consume open lots, the first to expire first (a
  reversal of earned points takes them from the lot they created first);
* lets new lots cover points a customer owed (an invoice cancelled after its
  points were spent leaves the balance below zero until the next earnings);
* derives the account totals from the new moves
  (``vip.loyalty.account._apply_moves``), so balances are never summed on read.

Expiries go through the same entry point and the same totals derivation; only
their rows are written by one set-based statement on the ledger's own tables
(:meth:`_post_expiries`: tens of thousands of lots a night), the twin of what
the generic path writes for a negative move reversing a lot (tested).

The other write of the ledger also lives here: the joining of the accounts of
merged contacts (:meth:`_join_accounts`, no movement: totals re-derived from the
ledger).

Earning (invoices, referrals) is in ``vip_loyalty_engine_earning.py``, the
expiry cron in ``vip_loyalty_engine_expiry.py``; the warning before points
expire is a key moment (``vip_moment_engine.py``).
"""

from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from odoo.addons.vip_customer.models.vip_bounds_mixin import INT_MAX

from .vip_loyalty_account import PARTNER_FIELDS

EARNING_TYPES = ("earn", "referral", "import")


class VipLoyaltyEngine(models.AbstractModel):
    _name = "vip.loyalty.engine"
    _description = "VIP Points Engine"

    # ------------------------------------------------------------------
    # The ledger
    # ------------------------------------------------------------------
    @api.model
    def _post_moves(self, vals_list):
        """The one entry point of the ledger: record moves of points and derive lots,
        allocations and account totals.

        Each dict needs ``partner_id`` (commercial partner), ``company_id``,
        ``move_type``, ``name`` and ``points`` (non-zero; zero-point dicts are
        dropped); a move with a ``reversed_move_id`` undoes that move.

        Expiry dicts (``move_type`` ``"expire"``) give only the lapsed lot
        (``reversed_move_id``) and optionally the ``date``: the engine derives
        the rest (customer, account, points = what is left on the lot) and skips
        lots already empty or not lapsed at that date, so a lot never expires
        twice nor early (see :meth:`_post_expiries`).

        Callers check the user's rights and the business rules; this method records.

        :return: the new moves (the expiries after the others)
        """
        Move = self.env["vip.loyalty.move"]
        expiries = [vals for vals in vals_list if vals.get("move_type") == "expire"]
        others = [
            dict(vals) for vals in vals_list
            if vals.get("move_type") != "expire" and vals.get("points")
        ]
        moves = self._post_generic_moves(others) if others else Move
        if expiries:
            moves |= self._post_expiries(expiries)
        return moves

    def _post_generic_moves(self, vals_list):
        """:meth:`_post_moves` for every kind of move but expiries, through the ORM."""
        Move = self.env["vip.loyalty.move"]
        Account = self.env["vip.loyalty.account"]
        accounts = Account._get_or_create(
            (vals["partner_id"], vals["company_id"]) for vals in vals_list
        )
        totals = Account.browse({a.id for a in accounts.values()})._lock()
        self._check_totals(vals_list, accounts, totals)
        self._check_single_undo(vals_list)
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

    def _check_single_undo(self, vals_list):
        """Refuse to give back twice what one move took: an undo (positive points
        with ``reversed_move_id``) restores the lots the move consumed, so a second
        one would credit the balance again while the lots hold nothing more (the
        balance and the ledger would part). Runs under the accounts' lock, so two
        concurrent cancellations cannot both pass."""
        undone = [
            vals["reversed_move_id"]
            for vals in vals_list
            if vals.get("reversed_move_id") and vals["points"] > 0
        ]
        if not undone:
            return
        Move = self.env["vip.loyalty.move"].sudo()  # the ledger is read whole, whoever asks
        twice = {move_id for move_id in undone if undone.count(move_id) > 1}
        twice.update(
            Move.search([("reversed_move_id", "in", undone), ("points", ">", 0)])
            .reversed_move_id.ids
        )
        if twice:
            raise UserError(self.env._(
                "Points move %(moves)s was already given back.",
                moves=", ".join(Move.browse(sorted(twice)).mapped("display_name")),
            ))

    def _check_totals(self, vals_list, accounts, totals):
        """Refuse moves whose points, or whose account's new totals, a points
        column cannot hold (a clear error instead of "integer out of range")."""
        delta = defaultdict(int)
        for vals in vals_list:
            if abs(vals["points"]) > INT_MAX:
                raise UserError(self.env._(
                    "%(move)s: %(points)s points is more than a points move can hold "
                    "(%(max)s).",
                    move=vals.get("name") or "", points=format(vals["points"], ","),
                    max=format(INT_MAX, ","),
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
                    points=format(balance + points, ","), max=format(INT_MAX, ","),
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
            self.env["vip.loyalty.move.allocation"].sudo().with_context(
                vip_loyalty_engine=True
            ).create(allocations)

    # ------------------------------------------------------------------
    # Expiries: the set-based path of _post_moves
    # ------------------------------------------------------------------
    def _post_expiries(self, vals_list):
        """:meth:`_post_moves` for expiry dicts: per date, one statement writes an
        expiry move per lapsed lot (its points: minus what is left on the lot), its
        allocation to the lot, and empties the lot; the account totals are then
        derived by ``_apply_moves`` as for every other move.

        Raw SQL on the ledger's own tables (moves, allocations), which no other
        module hooks: a night expires tens of thousands of lots, and the ORM path
        would create each move, then allocate it, row by row. It writes the rows
        :meth:`_post_generic_moves` writes for a negative move reversing its lot
        (``test_expiry.TestExpiryTwin`` compares them). The accounts are locked
        first, in id order, like every other change of points.
        """
        Move = self.env["vip.loyalty.move"]
        Account = self.env["vip.loyalty.account"]
        today = fields.Date.context_today(self)
        lots_by_date = defaultdict(list)
        for vals in vals_list:
            date = fields.Date.to_date(vals.get("date")) or today
            lots_by_date[date].append(vals["reversed_move_id"])
        Move.flush_model()
        Account.flush_model()
        cr = self.env.cr
        prefix = self.env._("Expired: ")
        reason = self.env._("Validity period over")
        move_ids = []
        for date, lot_ids in lots_by_date.items():
            cr.execute(SQL(
                "SELECT DISTINCT account_id FROM vip_loyalty_move WHERE id = ANY(%s)", lot_ids
            ))
            Account.browse(row[0] for row in cr.fetchall())._lock()
            cr.execute(SQL(
                """
                WITH lots AS (
                    SELECT id, name, partner_id, company_id, account_id, remaining_points
                      FROM vip_loyalty_move
                     WHERE id = ANY(%(lot_ids)s) AND is_lot AND remaining_points > 0
                       AND expiry_date <= %(date)s
                ), new_moves AS (
                    INSERT INTO vip_loyalty_move (
                        name, partner_id, company_id, account_id, move_type, date, points,
                        is_lot, is_earning, remaining_points, uncovered_points, expired,
                        reversed_move_id, reason, user_id,
                        create_uid, write_uid, create_date, write_date)
                    SELECT %(prefix)s || lots.name, partner_id, company_id, account_id, 'expire',
                           %(date)s, -remaining_points, false, false, 0, 0, false,
                           id, %(reason)s, %(uid)s, %(uid)s, %(uid)s,
                           now() at time zone 'UTC', now() at time zone 'UTC'
                      FROM lots
                    RETURNING id, reversed_move_id, company_id, points
                ), allocations AS (
                    INSERT INTO vip_loyalty_move_allocation (move_id, lot_id, points, company_id)
                    SELECT id, reversed_move_id, -points, company_id FROM new_moves
                ), emptied AS (
                    UPDATE vip_loyalty_move m SET remaining_points = 0, expired = true
                      FROM lots WHERE m.id = lots.id
                )
                SELECT id FROM new_moves
                """,
                lot_ids=lot_ids, prefix=prefix, date=date, reason=reason, uid=self.env.uid,
            ))
            move_ids += [row[0] for row in cr.fetchall()]
        Account._apply_moves(move_ids)
        Move.invalidate_model()
        self.env["vip.loyalty.move.allocation"].invalidate_model()
        return Move.browse(move_ids)

    # ------------------------------------------------------------------
    # Other writes of the ledger (no movement of points)
    # ------------------------------------------------------------------
    @api.model
    def _join_accounts(self, src_partners, dst_partner):
        """Merging contacts: per company, the moves of every account of the merged
        contacts go to one account (the kept customer's, else the first, which the
        generic merge then moves to them); its totals are derived again from its
        ledger and the emptied accounts deleted. No move is created or changed but
        its account. Plain SQL on the ledger's own tables; the accounts are locked
        first, like every change of points.

        :return: ``{account id emptied: account id kept}``
        """
        # sudo: the ledger is the engine's; the merging user need not read it
        Account = self.env["vip.loyalty.account"].sudo()
        accounts = Account.search(
            [("partner_id", "in", (src_partners | dst_partner).ids)], order="id"
        )
        joins = {}  # {account emptied: account kept}
        for _company, company_accounts in accounts.grouped("company_id").items():
            kept = company_accounts.filtered(lambda a: a.partner_id == dst_partner)[:1]
            kept = kept or company_accounts[:1]
            joins.update(dict.fromkeys((company_accounts - kept).ids, kept.id))
        if not joins:
            return joins
        totals = Account.browse([*joins, *joins.values()])._lock()
        for kept_id in set(joins.values()):
            joined = [kept_id] + [src for src, dst in joins.items() if dst == kept_id]
            if any(
                abs(sum(totals[account_id][column] for account_id in joined)) > INT_MAX
                for column in (0, 1)
            ):
                raise UserError(self.env._(
                    "%(customer)s: the merged points accounts hold more points than an "
                    "account can (%(max)s).",
                    customer=Account.browse(kept_id).partner_id.display_name,
                    max=format(INT_MAX, ","),
                ))
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(SQL(
            "UPDATE vip_loyalty_move m SET account_id = j.dst "
            "FROM unnest(%s::int[], %s::int[]) AS j(src, dst) WHERE m.account_id = j.src",
            list(joins), list(joins.values()),
        ))
        cr.execute(SQL("DELETE FROM vip_loyalty_account WHERE id = ANY(%s)", list(joins)))
        Account.browse(set(joins.values()))._derive_totals()
        self.env.invalidate_all()
        self.env["res.partner"].invalidate_model(PARTNER_FIELDS)
        return joins
