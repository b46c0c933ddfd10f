from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .vip_loyalty_program import MAX_POINTS

REWARD_TYPES = [
    ("gift", "Gift"),
    ("cash", "Cash Deduction"),
    ("service", "Service"),
    ("benefit", "Benefit"),
]


class VipLoyaltyReward(models.Model):
    """An item of the reward catalog customers redeem their points for."""

    _name = "vip.loyalty.reward"
    _description = "VIP Loyalty Reward"
    _inherit = ["mail.thread", "image.mixin", "vip.bounds.mixin", "vip.company.guard.mixin"]
    _order = "sequence, points_cost, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    reward_type = fields.Selection(
        REWARD_TYPES, string="Type", required=True, default="gift", tracking=True
    )
    description = fields.Html(translate=True)
    points_cost = fields.Integer(
        string="Points", tracking=True,
        help="Points redeemed for one unit of the reward (not used by cash deductions).",
    )
    cash_points_rate = fields.Float(
        string="Points per Currency Unit", digits=(16, 2), default=100.0, tracking=True,
        help="Cash deductions: points redeemed for one unit of the company currency "
        "(100: 100 points are worth 1.00).",
    )
    tier_ids = fields.Many2many(
        "vip.tier", string="Tiers", check_company=True,
        help="Only customers of these tiers may redeem the reward. Empty: every customer.",
    )
    date_from = fields.Date(string="Available From")
    date_to = fields.Date(string="Available Until")
    quantity_limit = fields.Integer(
        string="Quantity Available", tracking=True,
        help="How many can be redeemed in total. 0: unlimited.",
    )
    quantity_redeemed = fields.Integer(compute="_compute_quantity_redeemed")
    quantity_left = fields.Integer(compute="_compute_quantity_redeemed", string="Left")
    redemption_ids = fields.One2many("vip.loyalty.redemption", "reward_id", string="Redemptions")

    _sql_constraints = [
        ("points_positive", "CHECK(points_cost >= 0 AND quantity_limit >= 0)",
         "Points and quantities cannot be negative."),
        ("dates_ordered", "CHECK(date_to IS NULL OR date_from IS NULL OR date_from <= date_to)",
         "A reward cannot end before it starts."),
    ]

    @api.model
    def _get_vip_bounds(self):
        return {
            "points_cost": (0, MAX_POINTS),
            "cash_points_rate": (0, 1_000_000),
            "quantity_limit": (0, 10_000_000),
        }

    @api.depends("redemption_ids.state", "redemption_ids.quantity")
    def _compute_quantity_redeemed(self):
        groups = dict(self.env["vip.loyalty.redemption"]._read_group(
            [("reward_id", "in", self.ids), ("state", "in", ("confirmed", "done"))],
            ["reward_id"], ["quantity:sum"],
        ))
        for reward in self:
            reward.quantity_redeemed = groups.get(reward, 0)
            reward.quantity_left = (
                max(reward.quantity_limit - reward.quantity_redeemed, 0)
                if reward.quantity_limit else 0
            )

    @api.constrains("reward_type", "points_cost", "cash_points_rate")
    def _check_cost(self):
        for reward in self:
            if reward.reward_type == "cash" and reward.cash_points_rate <= 0:
                raise ValidationError(self.env._(
                    "Reward %(reward)s: set how many points make one currency unit.",
                    reward=reward.display_name,
                ))
            if reward.reward_type != "cash" and reward.points_cost <= 0:
                raise ValidationError(self.env._(
                    "Reward %(reward)s: set the points it costs.", reward=reward.display_name,
                ))

    def _is_available(self, date):
        self.ensure_one()
        return (not self.date_from or self.date_from <= date) and (
            not self.date_to or date <= self.date_to
        )

    def action_view_redemptions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_loyalty.vip_loyalty_redemption_action"
        )
        action["domain"] = [("reward_id", "=", self.id)]
        action["context"] = {"default_reward_id": self.id}
        return action
