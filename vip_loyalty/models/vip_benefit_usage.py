from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError

# how far back a use may be recorded: users (beyond the current quota period), managers
USAGE_USER_BACK_DAYS = 7
USAGE_MANAGER_BACK_DAYS = 366


class VipBenefitUsage(models.Model):
    """One use of a benefit by a customer, counted against the tier's quota."""

    _name = "vip.benefit.usage"
    _inherit = ["vip.bounds.mixin"]
    _description = "VIP Benefit Usage"
    _order = "date desc, id desc"
    _check_company_auto = True

    benefit_id = fields.Many2one(
        "vip.benefit", required=True, index=True, ondelete="restrict", check_company=True
    )
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, ondelete="restrict",
        domain="[('parent_id', '=', False)]",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    date = fields.Date(required=True, default=fields.Date.context_today, index=True)
    quantity = fields.Integer(required=True, default=1)
    tier_id = fields.Many2one("vip.tier", readonly=True, help="Customer tier on the day of use.")
    user_id = fields.Many2one(
        "res.users", string="Recorded By", readonly=True, default=lambda self: self.env.user
    )
    note = fields.Char()

    _sql_constraints = [
        ("quantity_positive", "CHECK(quantity > 0)", "The quantity must be at least one."),
    ]

    @api.model
    def _get_vip_bounds(self):
        return {"quantity": (1, 100_000)}

    @api.model_create_multi
    def create(self, vals_list):
        Partner = self.env["res.partner"]
        for vals in vals_list:
            if vals.get("partner_id"):
                partner = Partner.browse(vals["partner_id"]).commercial_partner_id
                vals["partner_id"] = partner.id
                vals["tier_id"] = partner.vip_tier_id.id
        usages = super().create(vals_list)
        usages._check_date()
        usages._check_quota()
        return usages

    def write(self, vals):
        result = super().write(vals)
        if "date" in vals:
            self._check_date()
        if vals.keys() & {"partner_id", "benefit_id", "date", "quantity"}:
            self._check_quota()
        return result

    def _check_date(self):
        """A use is recorded on its day: not in the future, and back-dated only within
        the current quota period or a few days (a correction); loyalty managers may
        back-date up to a year. Otherwise a use dated 1990 or 2090 escaped the quota."""
        today = fields.Date.context_today(self)
        manager = self.env.su or self.env.user.has_group("vip_loyalty.group_vip_loyalty_manager")
        for usage in self:
            if manager:
                earliest = fields.Date.subtract(today, days=USAGE_MANAGER_BACK_DAYS)
            else:
                earliest = min(
                    usage.benefit_id._period_bounds(today)[0],
                    fields.Date.subtract(today, days=USAGE_USER_BACK_DAYS),
                )
            if usage.date > today or usage.date < earliest:
                raise UserError(
                    self.env._(
                        "Date of use %(date)s: a use of %(benefit)s is recorded between "
                        "%(earliest)s and today.",
                        date=usage.date,
                        benefit=usage.benefit_id.display_name,
                        earliest=earliest,
                    )
                )

    def _check_quota(self):
        """Refuse uses beyond the quota of the customer's tier for the period.

        The customers' points accounts are locked first, so that two users
        recording the last allowed use at the same moment cannot both succeed.
        """
        Account = self.env["vip.loyalty.account"]
        accounts = Account._get_or_create((u.partner_id.id, u.company_id.id) for u in self)
        # touch the rows: a concurrent transaction that already read them must retry
        Account.browse({a.id for a in accounts.values()})._lock(touch=True)
        checked = defaultdict(self.browse)
        for usage in self:
            start, end = usage.benefit_id._period_bounds(usage.date)
            checked[(usage.partner_id, usage.benefit_id, start, end)] |= usage
        for (partner, benefit, start, end), usages in checked.items():
            tier = partner.vip_tier_id
            quota = benefit.quota_ids.filtered(lambda q, tier=tier: q.tier_id == tier)
            if not quota:
                raise UserError(self.env._(
                    "%(benefit)s is not included in the tier of %(customer)s (%(tier)s).",
                    benefit=benefit.display_name, customer=partner.display_name,
                    tier=tier.display_name or self.env._("no tier"),
                ))
            used = sum(self.search([
                ("partner_id", "=", partner.id), ("benefit_id", "=", benefit.id),
                ("date", ">=", start), ("date", "<=", end),
            ]).mapped("quantity"))
            if used > quota.quota:
                asked = sum(usages.mapped("quantity"))
                raise UserError(self.env._(
                    "%(customer)s has already used %(benefit)s %(used)s times from %(start)s "
                    "to %(end)s: %(asked)s more would exceed the quota of %(quota)s of tier "
                    "%(tier)s.",
                    customer=partner.display_name, benefit=benefit.display_name,
                    used=used - asked, asked=asked, start=start, end=end,
                    quota=quota.quota, tier=tier.display_name,
                ))
