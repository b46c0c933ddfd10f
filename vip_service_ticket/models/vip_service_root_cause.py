from odoo import fields, models


class VipServiceRootCause(models.Model):
    _name = "vip.service.root.cause"
    _inherit = ["vip.bounds.mixin"]
    _description = "VIP Service Root Cause"
    _order = "sequence, name"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    description = fields.Text(translate=True)
    ticket_count = fields.Integer(compute="_compute_ticket_count")

    _sql_constraints = [
        ("name_uniq", "unique(name)", "A root cause with this name already exists."),
    ]

    def _compute_ticket_count(self):
        counts = dict(
            self.env["vip.service.ticket"]._read_group(
                [("root_cause_id", "in", self.ids)], ["root_cause_id"], ["__count"]
            )
        )
        for cause in self:
            cause.ticket_count = counts.get(cause, 0)
