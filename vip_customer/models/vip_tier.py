from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools.vip_rules import TierRule

# What the tier engine reads of a tier (TierRule and the tiers it finds).
RULE_FIELDS = frozenset(
    {
        "level",
        "active",
        "company_id",
        "window_months",
        "min_spend",
        "min_purchase_count",
        "retention_spend",
        "retention_purchase_count",
        "grace_days",
    }
)


class VipTier(models.Model):
    _name = "vip.tier"
    _inherit = ["vip.bounds.mixin", "vip.company.guard.mixin"]
    _description = "VIP Tier"
    _order = "level desc, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, help="Short code used in imports and reports, e.g. A, B, C.")
    sequence = fields.Integer(default=10)
    level = fields.Integer(
        required=True,
        default=1,
        help="Rank of the tier: the higher the level, the more valuable the customer. "
        "Upgrades and downgrades follow the levels.",
    )
    color = fields.Integer()
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")

    # Entry and retention rules
    window_months = fields.Integer(
        string="Window (months)",
        required=True,
        default=12,
        help="Spend and purchases are counted over this rolling window.",
    )
    min_spend = fields.Monetary(
        string="Minimum Spend", help="Spend over the window needed to enter the tier."
    )
    min_purchase_count = fields.Integer(
        string="Minimum Purchases", help="Number of purchases over the window needed to enter."
    )
    retention_spend = fields.Monetary(
        compute="_compute_retention",
        store=True,
        readonly=False,
        help="Spend needed to keep the tier once in it. Lower than the minimum spend, "
        "it keeps customers near the boundary from moving up and down every month.",
    )
    retention_purchase_count = fields.Integer(
        string="Retention Purchases",
        compute="_compute_retention",
        store=True,
        readonly=False,
    )
    grace_days = fields.Integer(
        string="Grace Period (days)",
        default=30,
        help="A customer below the retention threshold keeps the tier this many days "
        "before the downgrade takes effect. 0 downgrades at once.",
    )

    # Service
    pricelist_id = fields.Many2one(
        "product.pricelist",
        check_company=True,
        help="Tier-exclusive prices: set on the customer when they enter the tier.",
    )
    followup_rule_ids = fields.Many2many(
        "vip.moment.rule",
        string="Follow-up Cadences",
        compute="_compute_followup_rule_ids",
        help="The active follow-up cadences (key moments) of this tier's customers, "
        "including those of every tier.",
    )
    account_manager_required = fields.Boolean(
        string="Dedicated Account Manager",
        help="Customers of this tier must have a dedicated account manager.",
    )
    benefits = fields.Html(translate=True)

    partner_count = fields.Integer(string="Customers", compute="_compute_partner_count")

    _sql_constraints = [
        (
            "code_company_uniq",
            "unique(code, company_id)",
            "The tier code must be unique per company.",
        ),
        (
            "level_company_uniq",
            "unique(level, company_id)",
            "Two tiers of a company cannot share a level.",
        ),
        ("window_positive", "CHECK(window_months > 0)", "The window must be at least one month."),
        (
            "thresholds_positive",
            "CHECK(min_spend >= 0 AND min_purchase_count >= 0 AND retention_spend >= 0 "
            "AND retention_purchase_count >= 0 AND grace_days >= 0)",
            "Thresholds and grace period cannot be negative.",
        ),
    ]

    @api.model
    def _get_vip_bounds(self):
        counts = (0, 1_000_000)
        spend = (0, 1e12)
        days = (0, 3650)
        return {
            "window_months": (1, 120),
            "min_spend": spend,
            "retention_spend": spend,
            "min_purchase_count": counts,
            "retention_purchase_count": counts,
            "grace_days": days,
            # tiers rank from 1 (the engine orders them by level; no tier is below all)
            "level": (1, 1000),
        }

    @api.depends("min_spend", "min_purchase_count")
    def _compute_retention(self):
        for tier in self:
            if not tier.retention_spend or tier.retention_spend > tier.min_spend:
                tier.retention_spend = tier.min_spend
            if (
                not tier.retention_purchase_count
                or tier.retention_purchase_count > tier.min_purchase_count
            ):
                tier.retention_purchase_count = tier.min_purchase_count

    def _compute_followup_rule_ids(self):
        # sudo: the tier shows its cadences to whoever reads the tier
        rules = (
            self.env["vip.moment.rule"]
            .sudo()
            .search([("trigger_type", "=", "cadence"), ("company_id", "in", self.company_id.ids)])
        )
        for tier in self:
            tier.followup_rule_ids = rules.filtered(
                lambda r, t=tier: (
                    r.company_id == t.company_id and (not r.tier_ids or t in r.tier_ids)
                )
            ).sudo(False)

    def _compute_partner_count(self):
        counts = dict(
            self.env["res.partner"]._read_group(
                [("vip_tier_id", "in", self.ids), ("parent_id", "=", False)],
                ["vip_tier_id"],
                ["__count"],
            )
        )
        for tier in self:
            tier.partner_count = counts.get(tier, 0)

    @api.constrains(
        "retention_spend", "retention_purchase_count", "min_spend", "min_purchase_count"
    )
    def _check_retention(self):
        for tier in self:
            if (
                tier.retention_spend > tier.min_spend
                or tier.retention_purchase_count > tier.min_purchase_count
            ):
                raise ValidationError(
                    self.env._(
                        "Tier %(tier)s: the retention threshold cannot be above the entry rule.",
                        tier=tier.display_name,
                    )
                )

    @api.constrains("company_id")
    def _check_kpi_retention_tier_company(self):
        """A company's retention tier (program KPIs) stays one of its own tiers:
        moving it to another company would count another program's customers."""
        companies = (
            self.env["res.company"].sudo().search([("vip_kpi_retention_tier_id", "in", self.ids)])
        )
        for company in companies:
            tier = company.vip_kpi_retention_tier_id
            if tier.company_id != company:
                raise ValidationError(
                    self.env._(
                        "Tier %(tier)s is the retention tier of %(company)s's program KPIs: "
                        "it cannot move to another company. Choose another retention tier "
                        "first.",
                        tier=tier.display_name,
                        company=company.name,
                    )
                )

    @api.depends("code")
    def _compute_display_name(self):
        for tier in self:
            tier.display_name = tier.name or tier.code or ""

    # ------------------------------------------------------------------
    # A rule changed: the next tier night evaluates every customer
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        tiers = super().create(vals_list)
        tiers.company_id._vip_request_full_run()
        return tiers

    def write(self, vals):
        companies = self.company_id
        result = super().write(vals)
        if RULE_FIELDS & vals.keys():
            (companies | self.company_id)._vip_request_full_run()
        return result

    def unlink(self):
        companies = self.company_id
        result = super().unlink()
        companies._vip_request_full_run()
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used(self):
        used = self.filtered("partner_count")
        if used:
            raise ValidationError(
                self.env._(
                    "Tier %(tier)s still has customers: archive it instead, or move them first.",
                    tier=used[0].display_name,
                )
            )

    def action_view_partners(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_customer.res_partner_vip_action"
        )
        action["domain"] = [("vip_tier_id", "=", self.id)]
        action["context"] = {"default_vip_tier_id": self.id}
        return action

    def action_view_followup_rules(self):
        """The follow-up cadences of this tier (key-moment rules), to add or tune."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_customer.vip_moment_rule_action"
        )
        action["domain"] = [
            ("trigger_type", "=", "cadence"),
            ("company_id", "=", self.company_id.id),
            "|",
            ("tier_ids", "=", False),
            ("tier_ids", "in", self.ids),
        ]
        action["context"] = {
            "default_trigger_type": "cadence",
            "default_company_id": self.company_id.id,
            "default_tier_ids": self.ids,
        }
        return action

    def _vip_cadence_rule_texts(self, channel):
        """``{name, activity_summary}`` of this tier's follow-up cadence by
        ``channel`` (phone, visit, email), in the language of the context: the
        follow-up plan of a tier before 18.0.1.2.0 becomes such a rule."""
        self.ensure_one()
        summaries = {
            "phone": self.env._("Follow-up by phone"),
            "visit": self.env._("Follow-up visit"),
            "email": self.env._("Follow-up by email"),
        }
        summary = summaries.get(channel) or self.env._("Follow-up")
        return {
            "name": self.env._("%(followup)s (%(tier)s)", followup=summary, tier=self.name),
            "activity_summary": summary,
        }

    def _to_rule(self):
        """The engine's immutable view of the tier (see ``tools.vip_rules``)."""
        self.ensure_one()
        return TierRule(
            id=self.id,
            level=self.level,
            min_spend=self.min_spend,
            min_count=self.min_purchase_count,
            retention_spend=self.retention_spend,
            retention_count=self.retention_purchase_count,
            window_months=self.window_months,
            grace_days=self.grace_days,
        )
