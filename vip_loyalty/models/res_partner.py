import secrets
from collections import defaultdict

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from .vip_moment_engine import EXPIRY_ANNOUNCED_KEY, EXPIRY_WINDOW_KEY

# No 0/O, 1/I/L: codes are read out on the phone and typed from paper.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
# customers given a referral code per statement when the add-on is installed
REFERRAL_CODE_BATCH_SIZE = 10000


class ResPartner(models.Model):
    _inherit = "res.partner"

    # ------------------------------------------------------------------
    # Points (read from the customer's account: never a sum over the ledger)
    # ------------------------------------------------------------------
    vip_loyalty_account_id = fields.Many2one(
        "vip.loyalty.account", string="Points Account", compute="_compute_vip_loyalty",
        groups="vip_loyalty.group_vip_loyalty_user",
    )
    vip_loyalty_balance = fields.Integer(
        string="Points", compute="_compute_vip_loyalty", search="_search_vip_loyalty_balance",
        groups="vip_loyalty.group_vip_loyalty_user",
        help="Points available in the current company.",
    )
    vip_loyalty_lifetime_earned = fields.Integer(
        string="Lifetime Points Earned", compute="_compute_vip_loyalty",
        groups="vip_loyalty.group_vip_loyalty_user",
    )
    vip_loyalty_expiring_points = fields.Integer(
        string="Points Expiring Soon", compute="_compute_vip_loyalty_expiry",
        groups="vip_loyalty.group_vip_loyalty_user",
    )
    vip_loyalty_next_expiry_date = fields.Date(
        string="Next Points Expiry", compute="_compute_vip_loyalty_expiry",
        groups="vip_loyalty.group_vip_loyalty_user",
    )
    vip_loyalty_expiring_lot_ids = fields.Many2many(
        "vip.loyalty.move", string="Lots Expiring Soon",
        compute="_compute_vip_loyalty_expiring_lot_ids",
        groups="vip_loyalty.group_vip_loyalty_user",
        help="Open lots expiring soon, first to expire first (the lots the points-expiring "
        "e-mail lists).",
    )

    # ------------------------------------------------------------------
    # Referrals
    # ------------------------------------------------------------------
    vip_referral_code = fields.Char(
        string="Referral Code", copy=False, readonly=True, index="btree_not_null",
        help="Code the customer gives to the people they refer.",
    )
    vip_referred_by_id = fields.Many2one(
        "res.partner", string="Referred By", copy=False, index="btree_not_null",
        ondelete="restrict", domain="[('parent_id', '=', False), ('id', '!=', id)]",
        tracking=True,
        help="Customer who brought this one. Both earn points at this customer's first "
        "posted invoice.",
    )
    vip_referrer_code = fields.Char(
        string="Referrer's Code", compute="_compute_vip_referrer_code",
        inverse="_inverse_vip_referrer_code",
        help="Type the referral code the customer came with.",
    )
    vip_referral_ids = fields.One2many(
        "res.partner", "vip_referred_by_id", string="Referred Customers"
    )
    vip_referral_count = fields.Integer(string="Referrals", compute="_compute_vip_referral_count")

    # ------------------------------------------------------------------
    # Benefit quotas
    # ------------------------------------------------------------------
    vip_benefit_summary = fields.Html(
        string="Benefits Left", compute="_compute_vip_benefit_summary", sanitize=False,
        groups="vip_loyalty.group_vip_loyalty_user",
    )

    _sql_constraints = [
        ("vip_referral_code_uniq", "unique(vip_referral_code)", "Referral codes must be unique."),
    ]

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------
    @api.depends_context("company")
    def _compute_vip_loyalty(self):
        commercial = self.commercial_partner_id
        accounts = self.env["vip.loyalty.account"].search_fetch(
            [("partner_id", "in", commercial.ids), ("company_id", "=", self.env.company.id)],
            ["partner_id", "balance", "lifetime_earned"],
        )
        by_partner = {account.partner_id.id: account for account in accounts}
        for partner in self:
            account = by_partner.get(partner.commercial_partner_id.id)
            partner.vip_loyalty_account_id = account
            partner.vip_loyalty_balance = account.balance if account else 0
            partner.vip_loyalty_lifetime_earned = account.lifetime_earned if account else 0

    @api.depends_context("company")
    def _compute_vip_loyalty_expiry(self):
        for partner in self:
            account = partner.vip_loyalty_account_id
            partner.vip_loyalty_expiring_points = account.expiring_points if account else 0
            partner.vip_loyalty_next_expiry_date = account.next_expiry_date if account else False

    @api.depends_context("company", EXPIRY_WINDOW_KEY, EXPIRY_ANNOUNCED_KEY)
    def _compute_vip_loyalty_expiring_lot_ids(self):
        """The window of the key moment being sent, without the lots it announced
        before (see vip_moment_engine.py), else the program's "expiring soon" delay
        from today."""
        announced = {
            partner_id: fields.Date.to_date(day)
            for partner_id, day in self.env.context.get(EXPIRY_ANNOUNCED_KEY) or ()
        }
        window = self.env.context.get(EXPIRY_WINDOW_KEY)
        if window:
            start, until = (fields.Date.to_date(day) for day in window)
        else:
            start = fields.Date.context_today(self)
            program = self.env["vip.loyalty.program"]._get_for_company(self.env.company)
            until = fields.Date.add(start, days=program.warning_days if program else 0)
        # sudo: the lots of the accounts the caller reads (an e-mail rendered for them)
        lots = self.env["vip.loyalty.move"].sudo().search(
            [("account_id", "in", self.vip_loyalty_account_id.ids),
             ("remaining_points", ">", 0),
             ("expiry_date", ">", start), ("expiry_date", "<=", until)],
            order="expiry_date, id",
        )
        for partner in self:
            after = announced.get(partner.commercial_partner_id.id)
            partner.vip_loyalty_expiring_lot_ids = lots.filtered(
                lambda lot, partner=partner, after=after: (
                    lot.account_id == partner.vip_loyalty_account_id
                    and not (after and lot.expiry_date <= after)
                )
            )

    def _search_vip_loyalty_balance(self, operator, value):
        accounts = self.env["vip.loyalty.account"]._search(
            [("company_id", "=", self.env.company.id), ("balance", operator, value)]
        )
        # subselect(): a parenthesised sub-query without ORDER BY (select() is a whole query)
        return [("commercial_partner_id", "in", accounts.subselect("partner_id"))]

    @api.depends("vip_referred_by_id.vip_referral_code")
    def _compute_vip_referrer_code(self):
        for partner in self:
            partner.vip_referrer_code = partner.vip_referred_by_id.vip_referral_code

    def _inverse_vip_referrer_code(self):
        codes = {(p.vip_referrer_code or "").strip().upper() for p in self} - {""}
        referrers = {
            p.vip_referral_code: p
            for p in self.search([("vip_referral_code", "in", list(codes))])
        } if codes else {}
        for partner in self:
            code = (partner.vip_referrer_code or "").strip().upper()
            if not code:
                partner.vip_referred_by_id = False
            elif code not in referrers:
                raise UserError(self.env._(
                    "%(customer)s: no customer has the referral code %(code)s.",
                    customer=partner.display_name, code=code,
                ))
            else:
                partner.vip_referred_by_id = referrers[code]

    def _compute_vip_referral_count(self):
        counts = dict(self._read_group(
            [("vip_referred_by_id", "in", self.ids)], ["vip_referred_by_id"], ["__count"]
        ))
        for partner in self:
            partner.vip_referral_count = counts.get(partner, 0)

    @api.depends("vip_tier_id")
    @api.depends_context("company")
    def _compute_vip_benefit_summary(self):
        quota_rows = self._vip_benefit_quota_rows()
        for partner in self:
            rows = [
                Markup("<tr><td>%s</td><td class='text-end'>%s / %s</td><td>%s</td></tr>") % (
                    row["benefit"].name, row["left"], row["quota"], row["period"],
                )
                for row in quota_rows[partner.id]
            ]
            partner.vip_benefit_summary = (
                Markup("<table class='table table-sm mb-0'><tbody>%s</tbody></table>")
                % Markup().join(rows)
                if rows else escape("")
            )

    def _vip_benefit_quota_rows(self):
        """``{partner id: [{benefit, quota, used, left, period}]}``: the benefits of each
        partner's tier (its company's) and how many uses are left in the current period,
        in three queries for the whole recordset (the staff summary and the portal)."""
        today = fields.Date.context_today(self)
        commercial = self.commercial_partner_id
        quotas = self.env["vip.benefit.quota"].search(
            [("tier_id", "in", commercial.vip_tier_id.ids), ("benefit_id.active", "=", True)]
        )
        used = defaultdict(int)
        if quotas:
            year_start = today.replace(month=1, day=1)
            for partner, benefit, month, quantity in self.env["vip.benefit.usage"]._read_group(
                [("partner_id", "in", commercial.ids), ("benefit_id", "in", quotas.benefit_id.ids),
                 ("date", ">=", year_start), ("date", "<=", today.replace(month=12, day=31))],
                ["partner_id", "benefit_id", "date:month"],
                ["quantity:sum"],
            ):
                start, _end = benefit._period_bounds(today)
                if month >= start:
                    used[(partner.id, benefit.id)] += quantity
        by_tier = defaultdict(list)
        for quota in quotas:
            by_tier[quota.tier_id.id].append(quota)
        periods = dict(self.env["vip.benefit"]._fields["period"]._description_selection(self.env))
        result = {}
        for partner in self:
            customer = partner.commercial_partner_id
            result[partner.id] = [
                {
                    "benefit": quota.benefit_id,
                    "quota": quota.quota,
                    "used": used[(customer.id, quota.benefit_id.id)],
                    "left": max(quota.quota - used[(customer.id, quota.benefit_id.id)], 0),
                    "period": periods[quota.benefit_id.period],
                }
                for quota in by_tier.get(customer.vip_tier_id.id, [])
            ]
        return result

    # ------------------------------------------------------------------
    # Constraints
    # ------------------------------------------------------------------
    @api.constrains("vip_referred_by_id")
    def _check_vip_referred_by(self):
        for partner in self.filtered("vip_referred_by_id"):
            referrer = partner.vip_referred_by_id
            if referrer == partner:
                raise ValidationError(self.env._(
                    "%(customer)s cannot refer itself.", customer=partner.display_name
                ))
            if referrer.commercial_partner_id == partner.commercial_partner_id:
                raise ValidationError(self.env._(
                    "%(referrer)s and %(customer)s belong to the same company: a referral "
                    "must bring a new customer.",
                    referrer=referrer.display_name, customer=partner.display_name,
                ))
        if self._has_cycle("vip_referred_by_id"):
            for partner in self.filtered("vip_referred_by_id"):
                chain = [partner]
                current = partner.vip_referred_by_id
                while current and current not in chain:
                    chain.append(current)
                    current = current.vip_referred_by_id
                if current == partner:
                    raise ValidationError(self.env._(
                        "Referral cycle: %(chain)s. A customer cannot be referred, even "
                        "indirectly, by a customer they referred.",
                        chain=" → ".join(p.display_name for p in [*chain, partner]),
                    ))

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        """Commercial partners get their referral code in their creation values (no
        second write)."""
        wanting = [
            vals for vals in vals_list
            if not vals.get("parent_id") and not vals.get("vip_referral_code")
        ]
        for vals, code in zip(wanting, self._vip_new_referral_codes(len(wanting)), strict=True):
            vals["vip_referral_code"] = code
        return super().create(vals_list)

    @api.model
    def _vip_new_referral_codes(self, count):
        """``count`` distinct referral codes no partner holds yet."""
        codes = set()
        while len(codes) < count:
            candidates = {self._vip_new_referral_code() for _i in range(count - len(codes))}
            self.env.cr.execute(SQL(
                "SELECT vip_referral_code FROM res_partner WHERE vip_referral_code = ANY(%s)",
                list(candidates),
            ))
            codes |= candidates - {row[0] for row in self.env.cr.fetchall()}
        return list(codes)[:count]

    @api.model
    def _vip_assign_referral_codes(self, batch_size=REFERRAL_CODE_BATCH_SIZE):
        """Give a unique referral code to every commercial partner without one (the
        contacts that existed before the add-on was installed), set-based, in
        batches of ``batch_size`` read by keyset pagination (``id > last``): the
        ids of millions of contacts are never held together.

        A raw ``UPDATE res_partner`` on purpose: ``vip_referral_code`` is this add-on's
        own column, not tracked, no stored field depends on it (the referrer's code
        shown on a referred customer is computed on read), and no other module hooks
        it; each partner gets a different value, so the ORM could only write them one
        by one (100k+ writes at install). New partners get theirs through ``create``.
        """
        cr = self.env.cr
        self.env["res.partner"].flush_model(["parent_id", "vip_referral_code"])
        last_id = 0
        total = 0
        while True:
            cr.execute(SQL(
                """
                SELECT id FROM res_partner
                 WHERE parent_id IS NULL AND vip_referral_code IS NULL AND id > %s
                 ORDER BY id LIMIT %s
                """,
                last_id, batch_size,
            ))
            batch = [row[0] for row in cr.fetchall()]
            if not batch:
                return total
            cr.execute(SQL(
                """
                UPDATE res_partner p SET vip_referral_code = c.code
                  FROM unnest(%s::int[], %s::varchar[]) AS c(id, code)
                 WHERE p.id = c.id
                """,
                batch, self._vip_new_referral_codes(len(batch)),
            ))
            partners = self.env["res.partner"].browse(batch)
            partners.invalidate_recordset(["vip_referral_code"])
            # what is computed from the codes (a referred customer's referrer code) is
            # read again
            partners.modified(["vip_referral_code"])
            last_id = batch[-1]
            total += len(batch)

    @api.model
    def _vip_new_referral_code(self):
        return "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_vip_loyalty_view_moves(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_loyalty.vip_loyalty_move_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"create": False, "search_default_group_by_type": 0}
        return action

    def action_vip_loyalty_redeem(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Redeem Points"),
            "res_model": "vip.loyalty.redemption",
            "view_mode": "form",
            "views": [(False, "form")],
            "context": {"default_partner_id": self.commercial_partner_id.id},
        }

    def action_vip_loyalty_adjust(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Adjust Points"),
            "res_model": "vip.loyalty.adjust",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_partner_id": self.commercial_partner_id.id},
        }

    def action_vip_loyalty_statement(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Points Statement"),
            "res_model": "vip.loyalty.statement",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_partner_ids": self.commercial_partner_id.ids},
        }

    def action_vip_view_referrals(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Referred Customers"),
            "res_model": "res.partner",
            "view_mode": "list,form",
            "views": [(False, "list"), (False, "form")],
            "domain": [("vip_referred_by_id", "=", self.id)],
            "context": {"default_vip_referred_by_id": self.id},
        }

    def action_vip_view_benefit_usage(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_loyalty.vip_benefit_usage_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"default_partner_id": self.commercial_partner_id.id}
        return action
