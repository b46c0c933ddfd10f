"""Earning points: invoices, credit notes and referrals (``vip.loyalty.engine``).

Every move is recorded by the ledger's entry point,
:meth:`~.vip_loyalty_engine.VipLoyaltyEngine._post_moves`.

Extension points (override on ``vip.loyalty.engine``):

* :meth:`_get_invoice_base_amount` - the amount points are earned on;
* :meth:`_get_multiplier` - the tier multiplier of a customer;
* :meth:`_prepare_invoice_move_vals` - more values on invoice moves.
"""

from collections import defaultdict

from odoo import api, fields, models


class VipLoyaltyEngine(models.AbstractModel):
    _inherit = "vip.loyalty.engine"

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
        new_moves = self._post_moves(vals_list)
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
        self._post_moves(vals_list)
