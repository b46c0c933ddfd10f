from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import float_round

# Points a person may type in one value (an adjustment, an import row, a reward's cost, a
# referral reward): far above any real program, far below what overflows a balance.
MAX_POINTS = 100_000_000
# how far ahead points typed by people (adjustments, opening balances) may expire
MAX_EXPIRY_YEARS = 10

ROUNDING_METHODS = {"down": "DOWN", "half": "HALF-UP", "up": "UP"}


class VipLoyaltyProgram(models.Model):
    """Settings of a company's points program (one active program per company)."""

    _name = "vip.loyalty.program"
    _description = "VIP Loyalty Program"
    _inherit = ["mail.thread", "vip.bounds.mixin", "vip.company.guard.mixin"]
    _order = "company_id, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True, default=lambda self: self.env._("VIP Points"))
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")

    # Earning
    basis = fields.Selection(
        [("untaxed", "Untaxed amount"), ("total", "Total amount (taxes included)")],
        string="Points Basis",
        required=True,
        default="untaxed",
        tracking=True,
        help="Invoice amount (in company currency) the points are computed on.",
    )
    points_per_unit = fields.Float(
        string="Points per Currency Unit",
        required=True,
        default=1.0,
        digits=(16, 4),
        tracking=True,
        help="Points earned for one unit of the company currency, before the tier multiplier.",
    )
    rounding = fields.Selection(
        [("down", "Round down"), ("half", "Round half up"), ("up", "Round up")],
        required=True,
        default="down",
        tracking=True,
        help="Points are whole numbers: how fractions of a point are rounded.",
    )
    earn_on = fields.Selection(
        [("posted", "When the invoice is posted"), ("paid", "When the invoice is paid")],
        string="Earn Points",
        required=True,
        default="posted",
        tracking=True,
        help="When paid: the points are earned once the invoice is paid (or in payment) and "
        "taken back if the payment is undone.",
    )
    validity_months = fields.Integer(
        string="Validity (months)",
        default=24,
        tracking=True,
        help="Earned points expire this many months after they were earned. 0: never.",
    )
    # the column of the former expiry warning: the e-mail is now the key moment
    # "Points expiring" (its own "within" days); this delay stays for the figure
    warning_days = fields.Integer(
        string="Expiring Soon (days)",
        default=30,
        tracking=True,
        help="Points that expire within this many days are shown as expiring soon (customer "
        "form, portal). The e-mail to the customer before their points expire is the key "
        "moment rule \"Points expiring\" (VIP > Configuration > Key Moment Rules).",
    )
    # Redemption
    min_redeem_points = fields.Integer(
        string="Minimum Redemption",
        default=0,
        tracking=True,
        help="A redemption must use at least this many points.",
    )
    redemption_journal_id = fields.Many2one(
        "account.journal",
        string="Credit Note Journal",
        check_company=True,
        domain="[('type', '=', 'sale')]",
        help="Journal of the credit notes created by cash deductions (default: the first "
        "sales journal).",
    )
    redemption_account_id = fields.Many2one(
        "account.account",
        string="Cash Deduction Account",
        check_company=True,
        help="Account of the credit note lines created by cash deductions (default: the "
        "journal's default account).",
    )
    # Referrals
    referrer_points = fields.Integer(
        string="Referrer Reward",
        default=0,
        tracking=True,
        help="Points for the customer who referred a new customer, at the new customer's "
        "first posted invoice.",
    )
    referee_points = fields.Integer(
        string="New Customer Reward",
        default=0,
        tracking=True,
        help="Points for the referred customer at their first posted invoice.",
    )

    _sql_constraints = [
        ("points_per_unit_positive", "CHECK(points_per_unit >= 0)",
         "The points per currency unit cannot be negative."),
        ("counts_positive",
         "CHECK(validity_months >= 0 AND warning_days >= 0 AND min_redeem_points >= 0 "
         "AND referrer_points >= 0 AND referee_points >= 0)",
         "Validity, warning delay, minimum redemption and referral rewards cannot be negative."),
    ]

    @api.model
    def _get_vip_bounds(self):
        return {
            "points_per_unit": (0, 10_000),
            "validity_months": (0, 1200),
            "warning_days": (0, 3650),
            "min_redeem_points": (0, MAX_POINTS),
            "referrer_points": (0, MAX_POINTS),
            "referee_points": (0, MAX_POINTS),
        }

    @api.constrains("active", "company_id")
    def _check_one_active_per_company(self):
        groups = self._read_group(
            [("active", "=", True), ("company_id", "in", self.company_id.ids)],
            ["company_id"],
            ["__count"],
            having=[("__count", ">", 1)],
        )
        if groups:
            raise ValidationError(
                self.env._(
                    "%(company)s already has an active loyalty program: archive it first.",
                    company=groups[0][0].display_name,
                )
            )

    @api.model
    def _get_for_companies(self, companies):
        """``{company id: program}`` of the active programs of ``companies`` (one query)."""
        programs = self.sudo().search([("company_id", "in", companies.ids)])
        return {program.company_id.id: program for program in programs}

    @api.model
    def _get_for_company(self, company):
        return self._get_for_companies(company).get(company.id, self.browse())

    def _round_points(self, value):
        """Whole points from a fractional amount, with the program's rounding."""
        self.ensure_one()
        sign = -1 if value < 0 else 1
        rounded = float_round(
            abs(value), precision_digits=0, rounding_method=ROUNDING_METHODS[self.rounding]
        )
        return sign * int(rounded)

    def _expiry_date(self, date):
        self.ensure_one()
        if not self.validity_months:
            return False
        return fields.Date.add(date, months=self.validity_months)

    def action_open_moves(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_loyalty.vip_loyalty_move_action"
        )
        action["domain"] = [("company_id", "=", self.company_id.id)]
        return action

    @api.model
    def action_open_current(self):
        """Settings menu: the current company's program, created on first use."""
        program = self.with_context(active_test=False).search(
            [("company_id", "=", self.env.company.id)], order="active desc, id", limit=1
        ) or self.create({"company_id": self.env.company.id})
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Loyalty Program"),
            "res_model": self._name,
            "res_id": program.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }
