from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.sql import create_index, index_exists

MOVE_TYPES = [
    ("earn", "Earned"),
    ("redeem", "Redeemed"),
    ("expire", "Expired"),
    ("adjust", "Adjustment"),
    ("referral", "Referral"),
    ("reversal", "Reversal"),
    ("import", "Opening Balance"),
]
# Fields the engine keeps up to date on existing moves; nothing else ever changes.
ENGINE_FIELDS = {"remaining_points", "uncovered_points", "expired"}


class VipLoyaltyMove(models.Model):
    """The points ledger: one append-only row per change of a customer's points.

    Positive moves that can be spent (earned, referral, imported, positive
    adjustments) are *lots*: they carry an expiry date and the points still
    left on them. Negative moves consume lots, first-expiring first, through
    ``vip.loyalty.move.allocation`` rows. Moves are never edited or deleted:
    a correction is a reversing move. Moves are created only through the
    ledger's entry point, ``vip.loyalty.engine._post_moves``.
    """

    _name = "vip.loyalty.move"
    _description = "VIP Points Move"
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(
        string="Recorded Description", required=True, readonly=True,
        help="The description as recorded, in the language of whoever recorded the move.",
    )
    description = fields.Char(
        compute="_compute_description", compute_sudo=True,
        help="What the move is, in the reader's language, built from its references.",
    )
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, ondelete="restrict",
        readonly=True,
    )
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    account_id = fields.Many2one(
        "vip.loyalty.account", required=True, index=True, ondelete="restrict", readonly=True
    )
    move_type = fields.Selection(
        MOVE_TYPES, string="Type", required=True, index=True, readonly=True
    )
    date = fields.Date(required=True, index=True, readonly=True, default=fields.Date.context_today)
    points = fields.Integer(required=True, readonly=True, aggregator="sum")
    is_lot = fields.Boolean(
        string="Lot", readonly=True,
        help="Earned points that can be spent, with an expiry date and the points left.",
    )
    is_earning = fields.Boolean(
        readonly=True, help="Counts in the customer's lifetime earned points."
    )
    expiry_date = fields.Date(string="Expires On", readonly=True, index="btree_not_null")
    remaining_points = fields.Integer(
        string="Remaining", readonly=True, aggregator="sum",
        help="Points of this lot not yet redeemed or expired.",
    )
    uncovered_points = fields.Integer(
        readonly=True,
        help="Points this move took that no lot covered (the customer's balance went below "
        "zero, e.g. an invoice was cancelled after its points were spent). Later earnings "
        "cover them first.",
    )
    expired = fields.Boolean(readonly=True, help="The lot reached its expiry date.")
    tier_id = fields.Many2one(
        "vip.tier", readonly=True, ondelete="set null",
        help="Customer tier when the points were earned.",
    )
    multiplier = fields.Float(digits=(16, 2), readonly=True, aggregator=False)
    base_amount = fields.Monetary(
        string="Amount", currency_field="currency_id", readonly=True,
        help="Invoice amount in company currency the points were computed on.",
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    invoice_id = fields.Many2one(
        "account.move", readonly=True, index="btree_not_null",
        ondelete="restrict",
    )
    redemption_id = fields.Many2one(
        "vip.loyalty.redemption", readonly=True, index="btree_not_null", ondelete="restrict"
    )
    referral_partner_id = fields.Many2one(
        "res.partner", string="Referral Of", readonly=True, ondelete="restrict",
        index="btree_not_null",
        help="Referral moves: the other customer of the referral.",
    )
    reversed_move_id = fields.Many2one(
        "vip.loyalty.move", string="Reverses", readonly=True, index="btree_not_null",
        ondelete="restrict",
    )
    backfill_id = fields.Many2one(
        "vip.loyalty.backfill", string="Past Invoices Award", readonly=True,
        index="btree_not_null", ondelete="restrict",
        help="Points awarded for an invoice posted before the program existed, by this run.",
    )
    reason = fields.Char(readonly=True)
    user_id = fields.Many2one(
        "res.users", readonly=True, default=lambda self: self.env.user,
    )
    # the allocations are internal bookkeeping (no portal access): a customer reading
    # their moves without a field list must not trip over them
    allocation_ids = fields.One2many(
        "vip.loyalty.move.allocation", "move_id", string="Taken From", readonly=True,
        groups="vip_loyalty.group_vip_loyalty_user",
    )
    lot_allocation_ids = fields.One2many(
        "vip.loyalty.move.allocation", "lot_id", string="Consumed By", readonly=True,
        groups="vip_loyalty.group_vip_loyalty_user",
    )

    _sql_constraints = [
        ("points_not_zero", "CHECK(points <> 0)", "A points move cannot be of zero points."),
        ("remaining_in_lot",
         "CHECK(remaining_points >= 0 AND remaining_points <= GREATEST(points, 0))",
         "The points left on a lot must lie between zero and its points."),
    ]

    def init(self):
        super().init()
        # open lots of an account, first-expiring first: FIFO consumption, the
        # expiring-soon figure and the expiry cron read only these rows
        create_index(
            self.env.cr, "vip_loyalty_move_open_lot_index", self._table,
            ["account_id", "expiry_date", "id"], where="remaining_points > 0",
        )
        create_index(
            self.env.cr, "vip_loyalty_move_lapsed_index", self._table,
            ["expiry_date", "id"], where="remaining_points > 0",
        )
        create_index(
            self.env.cr, "vip_loyalty_move_uncovered_index", self._table,
            ["account_id"], where="uncovered_points > 0",
        )
        # a referral is rewarded once per customer and referral
        if not index_exists(self.env.cr, "vip_loyalty_move_referral_uniq"):
            self.env.cr.execute(SQL(
                "CREATE UNIQUE INDEX vip_loyalty_move_referral_uniq ON vip_loyalty_move "
                "(partner_id, referral_partner_id) WHERE move_type = 'referral'"
            ))

    @api.depends("move_type", "points", "name", "reason", "invoice_id", "redemption_id",
                 "reversed_move_id", "referral_partner_id")
    @api.depends_context("lang")
    def _compute_description(self):
        # sudo (compute_sudo): a customer reads the names of their own redemptions and invoices
        for move in self:
            move.description = move._get_description()

    def _get_description(self):
        """The sentence shown for the move, built now in the reader's language from the
        move's references (an invoice, a redemption, a lot...); free text (the reason of
        an adjustment) as typed. Moves with nothing to build from keep their recorded
        description. A hook: override to describe new kinds of moves."""
        self.ensure_one()
        reversed_move = self.reversed_move_id
        if self.move_type == "expire" and reversed_move:
            return self.env._("Expired: %(lot)s", lot=reversed_move._get_description())
        if self.redemption_id and self.move_type == "redeem":
            return self.env._("Redemption %(name)s: %(reward)s", name=self.redemption_id.name,
                              reward=self.redemption_id.reward_id.name)
        if self.redemption_id and self.move_type == "reversal":
            return self.env._("Cancellation of redemption %(name)s", name=self.redemption_id.name)
        if self.move_type == "referral" and self.referral_partner_id:
            referrer = self.partner_id.vip_referred_by_id.commercial_partner_id
            other = self.referral_partner_id.display_name
            if referrer and referrer == self.referral_partner_id:
                return self.env._("Welcome: referred by %(customer)s", customer=other)
            return self.env._("Referral of %(customer)s", customer=other)
        if self.invoice_id and self.move_type in ("earn", "reversal"):
            if reversed_move and reversed_move.invoice_id == self.invoice_id:
                return self.env._("Reversal of %(move)s", move=reversed_move._get_description())
            if self.invoice_id.move_type == "out_refund":
                return self.env._("Credit note %(name)s", name=self.invoice_id.name)
            return self.env._("Invoice %(name)s", name=self.invoice_id.name)
        if self.move_type == "adjust" and self.reason:
            return self.env._("Adjustment: %(reason)s", reason=self.reason)
        if self.move_type == "import":
            if self.reason:
                return self.env._("Opening balance: %(reason)s", reason=self.reason)
            return self.env._("Opening balance")
        return self.name or ""

    @api.depends("description")
    def _compute_display_name(self):
        for move in self:
            move.display_name = move.description or ""

    @api.model_create_multi
    def create(self, vals_list):
        """Refused to everyone but the ledger's entry point,
        ``vip.loyalty.engine._post_moves``; the access rights refuse the rest
        (no group may create moves, RPC included)."""
        if not self.env.context.get("vip_loyalty_engine"):
            raise UserError(self.env._(
                "Points moves are created by invoices, redemptions, adjustments and the "
                "expiry job, not by hand: use Adjust Points to correct a balance."
            ))
        return super().create(vals_list)

    def write(self, vals):
        if not (self.env.su and self.env.context.get("vip_loyalty_engine")) or (
            vals.keys() - ENGINE_FIELDS
        ):
            raise UserError(self.env._(
                "Points move %(move)s cannot be changed: the ledger is append-only. Record a "
                "reversing move (Adjust Points) instead.",
                move=self[:1].display_name,
            ))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(self.env._(
            "Points move %(move)s cannot be deleted: the ledger is append-only. Record a "
            "reversing move (Adjust Points) instead.",
            move=self[:1].display_name,
        ))

    def action_open_source(self):
        """The document the points came from."""
        self.ensure_one()
        record = self.invoice_id or self.redemption_id or self.reversed_move_id
        if not record:
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": record._name,
            "res_id": record.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
