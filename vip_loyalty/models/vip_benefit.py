from odoo import fields, models


class VipBenefit(models.Model):
    """A benefit customers use a limited number of times per period, depending
    on their tier (free parking 20 times a year, one trip a year...)."""

    _name = "vip.benefit"
    _inherit = ["vip.bounds.mixin", "vip.company.guard.mixin"]
    _description = "VIP Benefit"
    _order = "sequence, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    period = fields.Selection(
        [("year", "Per calendar year"), ("month", "Per calendar month")],
        required=True,
        default="year",
        help="Usage is counted over the calendar year or month of the day of use.",
    )
    description = fields.Text(translate=True)
    quota_ids = fields.One2many("vip.benefit.quota", "benefit_id", string="Quotas per Tier")
    usage_ids = fields.One2many("vip.benefit.usage", "benefit_id")

    def _period_bounds(self, date):
        """First and last day of the benefit's period around ``date``."""
        self.ensure_one()
        if self.period == "month":
            start = date.replace(day=1)
            return start, fields.Date.add(start, months=1, days=-1)
        return date.replace(month=1, day=1), date.replace(month=12, day=31)

    def action_view_usage(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_loyalty.vip_benefit_usage_action"
        )
        action["domain"] = [("benefit_id", "=", self.id)]
        action["context"] = {"default_benefit_id": self.id}
        return action
