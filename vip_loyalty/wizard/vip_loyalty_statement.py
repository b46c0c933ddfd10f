from odoo import api, fields, models
from odoo.exceptions import UserError


class VipLoyaltyStatement(models.TransientModel):
    """Choose the customers and the period of a points statement."""

    _name = "vip.loyalty.statement"
    _description = "VIP Points Statement"

    partner_ids = fields.Many2many(
        "res.partner", string="Customers", required=True, domain="[('parent_id', '=', False)]"
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, default=lambda self: self.env.company
    )
    date_from = fields.Date(
        required=True, default=lambda self: fields.Date.context_today(self).replace(month=1, day=1)
    )
    date_to = fields.Date(required=True, default=fields.Date.context_today)

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for wizard in self:
            if wizard.date_from > wizard.date_to:
                raise UserError(self.env._("The statement period ends before it starts."))

    def action_print(self):
        self.ensure_one()
        return self.env.ref("vip_loyalty.action_report_points_statement").report_action(
            self.partner_ids.commercial_partner_id,
            data={
                "date_from": fields.Date.to_string(self.date_from),
                "date_to": fields.Date.to_string(self.date_to),
                "company_id": self.company_id.id,
            },
        )
