from odoo import fields, models


class VipServiceCategory(models.Model):
    _name = "vip.service.category"
    _inherit = ["vip.bounds.mixin"]
    _description = "VIP Service Ticket Category"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    is_complaint = fields.Boolean(
        string="Complaint",
        help="Tickets of this category follow the closed complaint loop and cannot be closed "
        "without a root cause and a solution.",
    )
    description = fields.Text(translate=True)

    _sql_constraints = [
        ("name_uniq", "unique(name)", "A category with this name already exists."),
    ]
