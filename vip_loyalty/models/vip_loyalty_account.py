from odoo import api, fields, models
from odoo.tools import SQL

# partner fields read from the accounts (see res.partner._compute_vip_loyalty)
PARTNER_FIELDS = [
    "vip_loyalty_account_id",
    "vip_loyalty_balance",
    "vip_loyalty_lifetime_earned",
    "vip_loyalty_expiring_points",
    "vip_loyalty_next_expiry_date",
]


class VipLoyaltyAccount(models.Model):
    """A customer's points account in one company.

    The running totals are stored here and updated in the same transaction as
    every ledger move, so reading a balance never scans the ledger. The row is
    also the customer's ledger lock: every change of points locks it first
    (see :meth:`_lock`).
    """

    _name = "vip.loyalty.account"
    _description = "VIP Points Account"
    _order = "balance desc, id"
    _rec_name = "partner_id"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, ondelete="restrict",
        readonly=True,
    )
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    balance = fields.Integer(readonly=True, help="Points available: the sum of the ledger.")
    lifetime_earned = fields.Integer(
        readonly=True,
        help="Points earned from invoices, referrals and imports since the beginning, net of "
        "earnings taken back by credit notes and cancellations.",
    )
    move_ids = fields.One2many("vip.loyalty.move", "account_id", string="Moves", readonly=True)
    expiring_points = fields.Integer(
        string="Expiring Soon", compute="_compute_expiry",
        help="Points that expire within the program's \"expiring soon\" delay.",
    )
    next_expiry_date = fields.Date(compute="_compute_expiry")

    _sql_constraints = [
        ("partner_company_uniq", "unique(partner_id, company_id)",
         "A customer has one points account per company."),
    ]

    @api.depends_context("company")
    def _compute_expiry(self):
        """From the open lots only (partial index), never the whole ledger."""
        today = fields.Date.context_today(self)
        programs = self.env["vip.loyalty.program"]._get_for_companies(self.company_id)
        horizon = {
            company_id: fields.Date.add(today, days=program.warning_days)
            for company_id, program in programs.items()
        }
        # sudo: an aggregate of the accounts already read, whatever the caller may see of lots
        rows = self.env["vip.loyalty.move"].sudo()._read_group(
            [("account_id", "in", self.ids), ("remaining_points", ">", 0),
             ("expiry_date", "!=", False)],
            ["account_id", "expiry_date:day"],
            ["remaining_points:sum"],
        )
        by_account = {}
        for account, day, points in rows:
            by_account.setdefault(account.id, []).append((day, points))
        for account in self:
            lots = sorted(by_account.get(account.id, []))
            limit = horizon.get(account.company_id.id, today)
            account.expiring_points = sum(points for day, points in lots if day <= limit)
            account.next_expiry_date = lots[0][0] if lots else False

    @api.model
    def _get_or_create(self, pairs):
        """Accounts of ``pairs`` (``(partner_id, company_id)``), created when missing.

        :return: ``{(partner_id, company_id): account}``
        """
        pairs = set(pairs)
        if not pairs:
            return {}
        Account = self.sudo()  # accounts are created by the engine for any caller
        self.env.cr.execute(SQL(
            """
            INSERT INTO vip_loyalty_account (partner_id, company_id, balance, lifetime_earned,
                                             create_uid, write_uid, create_date, write_date)
            SELECT p, c, 0, 0, %(uid)s, %(uid)s, now() at time zone 'UTC',
                   now() at time zone 'UTC'
              FROM unnest(%(partners)s::int[], %(companies)s::int[]) AS t(p, c)
            ON CONFLICT (partner_id, company_id) DO NOTHING
            """,
            uid=self.env.uid,
            partners=[p for p, _c in pairs],
            companies=[c for _p, c in pairs],
        ))
        self.env.cr.execute(SQL(
            """
            SELECT a.id, a.partner_id, a.company_id
              FROM vip_loyalty_account a
              JOIN unnest(%(partners)s::int[], %(companies)s::int[]) AS t(p, c)
                ON a.partner_id = t.p AND a.company_id = t.c
            """,
            partners=[p for p, _c in pairs],
            companies=[c for _p, c in pairs],
        ))
        return {(p, c): Account.browse(account_id) for account_id, p, c in self.env.cr.fetchall()}

    def _lock(self, touch=False):
        """Lock these accounts until the end of the transaction.

        Every ledger change updates the account row, so under Odoo's REPEATABLE
        READ isolation a transaction that locks an account changed by a
        concurrent, committed one fails with a serialization error (the request
        is retried and then sees the new balance) and one that locks an account
        another transaction holds waits for it: two confirmations can never both
        spend the same points.

        ``touch``: also update the rows (their write date), so that a concurrent
        transaction that already read them must retry even when no points move
        (a benefit use checks a quota under the same lock).

        :return: ``{account id: (balance, lifetime earned)}`` as locked
        """
        if not self:
            return {}
        self.env.cr.execute(SQL(
            "SELECT id, balance, lifetime_earned FROM vip_loyalty_account WHERE id = ANY(%s) "
            "ORDER BY id FOR UPDATE",
            self.ids,
        ))
        locked = {row[0]: (row[1], row[2]) for row in self.env.cr.fetchall()}
        if touch:
            self.env.cr.execute(SQL(
                "UPDATE vip_loyalty_account SET write_date = now() at time zone 'UTC' "
                "WHERE id = ANY(%s)", self.ids,
            ))
        return locked

    def _refresh_balance(self):
        """The committed balance of a locked account, read from the row (not the cache)."""
        self.ensure_one()
        self.env.cr.execute(SQL("SELECT balance FROM vip_loyalty_account WHERE id = %s", self.id))
        return self.env.cr.fetchone()[0]

    def _apply_moves(self, move_ids):
        """Add the points of the new moves ``move_ids`` to their accounts' totals (one query)."""
        if not move_ids:
            return
        self.env.cr.execute(SQL(
            """
            UPDATE vip_loyalty_account a
               SET balance = a.balance + d.points,
                   lifetime_earned = a.lifetime_earned + d.earned,
                   write_date = now() at time zone 'UTC', write_uid = %(uid)s
              FROM (SELECT account_id, SUM(points) AS points,
                           COALESCE(SUM(points) FILTER (WHERE is_earning), 0) AS earned
                      FROM vip_loyalty_move WHERE id = ANY(%(ids)s) GROUP BY account_id) d
             WHERE a.id = d.account_id
            """,
            uid=self.env.uid,
            ids=list(move_ids),
        ))
        self.env["vip.loyalty.account"].invalidate_model(["balance", "lifetime_earned"])
        self.env["res.partner"].invalidate_model(PARTNER_FIELDS)

    def _derive_totals(self):
        """Set the totals of these accounts to the sums of their whole ledger (one query):
        used when moves change account (contacts merged), never on read."""
        if not self:
            return
        self.env.cr.execute(SQL(
            """
            UPDATE vip_loyalty_account a
               SET balance = COALESCE(d.points, 0),
                   lifetime_earned = COALESCE(d.earned, 0),
                   write_date = now() at time zone 'UTC', write_uid = %(uid)s
              FROM vip_loyalty_account s
              LEFT JOIN (SELECT account_id, SUM(points) AS points,
                                SUM(points) FILTER (WHERE is_earning) AS earned
                           FROM vip_loyalty_move WHERE account_id = ANY(%(ids)s)
                          GROUP BY account_id) d ON d.account_id = s.id
             WHERE a.id = s.id AND s.id = ANY(%(ids)s)
            """,
            uid=self.env.uid,
            ids=self.ids,
        ))
        self.env["vip.loyalty.account"].invalidate_model(["balance", "lifetime_earned"])
        self.env["res.partner"].invalidate_model(PARTNER_FIELDS)

    def action_view_moves(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_loyalty.vip_loyalty_move_action"
        )
        action["domain"] = [("account_id", "=", self.id)]
        action["context"] = {"create": False}
        return action
