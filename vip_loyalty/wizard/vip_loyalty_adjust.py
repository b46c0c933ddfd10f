from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..models.vip_loyalty_program import MAX_EXPIRY_YEARS, MAX_POINTS


class VipLoyaltyAdjust(models.TransientModel):
    """Correct a customer's points with an adjustment move (the ledger is never edited)."""

    _name = "vip.loyalty.adjust"
    _inherit = ["vip.bounds.mixin"]
    _description = "Adjust VIP Points"

    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, domain="[('parent_id', '=', False)]"
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, default=lambda self: self.env.company
    )
    balance = fields.Integer(string="Current Balance", compute="_compute_balance")
    points = fields.Integer(
        required=True, help="Points to add (positive) or to take away (negative)."
    )
    expiry_date = fields.Date(
        string="Expires On",
        help="Added points: when they expire (default: the program's validity).",
    )
    reason = fields.Char(required=True)

    @api.model
    def _get_vip_bounds(self):
        return {"points": (-MAX_POINTS, MAX_POINTS)}

    @api.model
    def _check_vip_bounds(self, vals):
        # XML-RPC carries 1.5 as a float: the Integer field would silently keep 1
        points = vals.get("points")
        if isinstance(points, float) and not points.is_integer():
            raise ValidationError(
                self.env._("Points: %(value)s is not a whole number of points.", value=points)
            )
        return super()._check_vip_bounds(vals)

    @api.constrains("expiry_date")
    def _check_expiry_date(self):
        today = fields.Date.context_today(self)
        latest = fields.Date.add(today, years=MAX_EXPIRY_YEARS)
        for wizard in self:
            if wizard.expiry_date and not today < wizard.expiry_date <= latest:
                raise ValidationError(
                    self.env._(
                        "Expires On: %(date)s must be after today and at most %(years)s years "
                        "ahead.",
                        date=wizard.expiry_date,
                        years=MAX_EXPIRY_YEARS,
                    )
                )

    @api.depends("partner_id", "company_id")
    def _compute_balance(self):
        for wizard in self:
            wizard.balance = wizard.partner_id.with_company(wizard.company_id).vip_loyalty_balance

    def action_apply(self):
        self.ensure_one()
        if not self.env.user.has_group("vip_loyalty.group_vip_loyalty_manager"):
            raise AccessError(self.env._("Only loyalty managers can adjust points."))
        if not self.points:
            raise UserError(self.env._("Enter the points to add or take away."))
        partner = self.partner_id.commercial_partner_id
        account = self.env["vip.loyalty.account"]._get_or_create(
            [(partner.id, self.company_id.id)]
        )[(partner.id, self.company_id.id)]
        account._lock()
        balance = account._refresh_balance()
        if balance + self.points < 0:
            raise UserError(self.env._(
                "%(customer)s has %(balance)s points: an adjustment of %(points)s would leave "
                "the balance below zero.",
                customer=partner.display_name, balance=balance, points=self.points,
            ))
        vals = {
            "name": self.env._("Adjustment: %(reason)s", reason=self.reason),
            "partner_id": partner.id,
            "company_id": self.company_id.id,
            "move_type": "adjust",
            "points": self.points,
            "reason": self.reason,
        }
        if self.points > 0 and self.expiry_date:
            vals["expiry_date"] = self.expiry_date
        self.env["vip.loyalty.engine"]._post_moves([vals])
        return {"type": "ir.actions.act_window_close"}
