from odoo import fields, models

KINDS = [
    ("auto", "Automatic"),
    ("manual", "Manual"),
    ("transfer", "Transfer to a colleague"),
    ("escalation", "Escalation"),
]


class VipServiceTicketAssignment(models.Model):
    _name = "vip.service.ticket.assignment"
    _description = "VIP Service Ticket Assignment"
    _order = "date desc, id desc"
    _check_company_auto = True

    ticket_id = fields.Many2one("vip.service.ticket", required=True, index=True, ondelete="cascade")
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    from_user_id = fields.Many2one("res.users", string="From")
    to_user_id = fields.Many2one("res.users", string="To")
    from_team_id = fields.Many2one("vip.service.team")
    to_team_id = fields.Many2one("vip.service.team")
    author_id = fields.Many2one(
        "res.users", string="By", required=True, default=lambda self: self.env.user
    )
    kind = fields.Selection(KINDS, required=True, default="manual")
    reason = fields.Text()
    company_id = fields.Many2one("res.company", required=True, index=True)
