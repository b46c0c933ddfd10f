from odoo import Command, api, fields, models
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
    warning_days = fields.Integer(
        string="Expiry Warning (days)",
        default=30,
        tracking=True,
        help="Customers are emailed this many days before their points expire (once per lot). "
        "0: no warning.",
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

    # ------------------------------------------------------------------
    # Demo data
    # ------------------------------------------------------------------
    @api.model
    def _vip_loyalty_load_demo(self):
        """Demo customers with two years of points history (dates relative to today):
        earnings from invoices, a referral, redemptions, a cancelled one, expired
        points and points about to expire. Runs once (guarded by an xml id).

        After an uninstall the demo customers stay, with their invoices (see
        ``uninstall_hook``): a reinstall finds them again instead of creating twins,
        and their invoices earn through the demo award for past invoices."""
        if self.env.ref("vip_loyalty.res_partner_demo_jade", raise_if_not_found=False):
            return
        company = self.env.ref("base.main_company")
        if not self.env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
        ):
            return  # no chart of accounts: no invoices to earn from
        env = self.env(context=dict(self.env.context, tracking_disable=True,
                                    mail_create_nolog=True, mail_notrack=True))
        Partner = env["res.partner"].with_company(company)
        tier_a = env.ref("vip_customer.vip_tier_demo_a")
        tier_b = env.ref("vip_customer.vip_tier_demo_b")
        tier_c = env.ref("vip_customer.vip_tier_demo_c")
        customers = {}
        demo = (
            ("res_partner_demo_jade", "Jade Emperor Holdings", tier_a, "jade@example.com"),
            ("res_partner_demo_lotus", "Lotus Garden Tea House", tier_b, "lotus@example.com"),
            ("res_partner_demo_pearl", "Pearl River Outfitters", tier_c, "pearl@example.com"),
        )
        kept = {
            (p.name, p.email): p
            for p in Partner.with_context(active_test=False).search([
                ("parent_id", "=", False), ("email", "in", [row[3] for row in demo]),
                ("name", "in", [row[1] for row in demo]),
            ])
        }
        reinstall = len(kept) == len(demo)
        for xml_id, name, tier, email in demo:
            partner = kept.get((name, email)) if reinstall else None
            if partner and partner.vip_tier_id != tier:
                # the tier may have moved while the add-on was away (tier engine, a
                # manager): the demo's rewards and benefit quotas expect this one
                partner.write({"vip_tier_id": tier.id})
            partner = partner or Partner.create({
                "name": name, "is_company": True, "email": email, "vip_tier_id": tier.id,
                "vip_company_id": company.id, "company_id": False,
            })
            env["ir.model.data"].create({
                "module": "vip_loyalty", "name": xml_id, "model": "res.partner",
                "res_id": partner.id, "noupdate": True,
            })
            customers[xml_id] = partner
        jade = customers["res_partner_demo_jade"]
        lotus = customers["res_partner_demo_lotus"]
        pearl = customers["res_partner_demo_pearl"]
        pearl.vip_referred_by_id = lotus
        today = fields.Date.context_today(self)

        def invoice(partner, amount, days_ago):
            date = fields.Date.subtract(today, days=days_ago)
            return env["account.move"].with_company(company).create({
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": date,
                "date": date,
                "invoice_line_ids": [Command.create({
                    "name": "VIP goods", "quantity": 1, "price_unit": amount,
                    "tax_ids": [Command.clear()],
                })],
            })

        if not reinstall:
            self._vip_loyalty_demo_invoices(jade, lotus, pearl, invoice)
        # customers invoiced before the program (vip_customer's demo, or a reinstall): their
        # past invoices earn once, as an admin would award them after installing the add-on
        backfill = env["vip.loyalty.backfill"].with_company(company).create({
            "company_id": company.id,
            "date_from": fields.Date.subtract(today, years=3),
            "expiry_from": "invoice",
        })
        env["ir.model.data"].create({
            "module": "vip_loyalty", "name": "vip_loyalty_backfill_demo",
            "model": "vip.loyalty.backfill", "res_id": backfill.id, "noupdate": True,
        })
        backfill.action_start()
        backfill._run_to_end()
        env["vip.loyalty.engine"]._expire_lots(today=today)

        Redemption = env["vip.loyalty.redemption"].with_company(company)
        tea = env.ref("vip_loyalty.vip_loyalty_reward_demo_tea")
        cash = env.ref("vip_loyalty.vip_loyalty_reward_demo_cash")
        service = env.ref("vip_loyalty.vip_loyalty_reward_demo_service")
        done = Redemption.create({"partner_id": jade.id, "reward_id": tea.id,
                                  "date": fields.Date.subtract(today, days=30)})
        done.action_confirm()
        done.action_done()
        confirmed = Redemption.create({"partner_id": jade.id, "reward_id": cash.id,
                                       "points": 5000})
        confirmed.action_confirm()
        cancelled_redemption = Redemption.create({"partner_id": lotus.id, "reward_id": tea.id})
        cancelled_redemption.action_confirm()
        cancelled_redemption.action_cancel()
        Redemption.create({"partner_id": jade.id, "reward_id": service.id})
        parking = env.ref("vip_loyalty.vip_benefit_demo_parking")
        env["vip.benefit.usage"].with_company(company).create([
            {"partner_id": jade.id, "benefit_id": parking.id, "quantity": 6, "date": today},
            {"partner_id": lotus.id, "benefit_id": parking.id, "quantity": 3, "date": today},
        ])

    @api.model
    def _vip_loyalty_demo_invoices(self, jade, lotus, pearl, invoice):
        """The demo customers' invoices, earning as they are posted (first install)."""
        invoices = (
            invoice(jade, 3200, 800)  # expired: earned more than 24 months ago
            | invoice(jade, 4800, 715)  # expires within the warning delay
            | invoice(jade, 12500, 200)
            | invoice(jade, 8600, 40)
            | invoice(lotus, 2600, 760)
            | invoice(lotus, 5400, 90)
            | invoice(pearl, 1800, 30)  # first invoice of a referred customer
        )
        invoices.action_post()
        # a cancelled invoice: its points were earned, then taken back
        cancelled = invoice(lotus, 1200, 20)
        cancelled.action_post()
        cancelled.button_draft()
        cancelled.button_cancel()
