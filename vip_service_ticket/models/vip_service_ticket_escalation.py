from odoo import fields, models

from .vip_service_sla_escalation import ACTIONS, DEADLINE_TYPES


class VipServiceTicketEscalation(models.Model):
    _name = "vip.service.ticket.escalation"
    _description = "VIP Service Ticket Escalation"
    _order = "date desc, id desc"
    _check_company_auto = True

    ticket_id = fields.Many2one("vip.service.ticket", required=True, index=True, ondelete="cascade")
    step_id = fields.Many2one(
        "vip.service.sla.escalation", required=True, index=True, ondelete="cascade"
    )
    level = fields.Integer(required=True)
    action = fields.Selection(ACTIONS, required=True)
    deadline_type = fields.Selection(DEADLINE_TYPES, string="Deadline", required=True)
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    company_id = fields.Many2one("res.company", required=True, index=True)
    team_id = fields.Many2one(related="ticket_id.team_id", store=True)
    user_id = fields.Many2one(related="ticket_id.user_id", string="Assigned To")
    partner_id = fields.Many2one(related="ticket_id.partner_id")

    _sql_constraints = [
        (
            "ticket_step_uniq",
            "unique(ticket_id, step_id)",
            "An escalation step fires only once per ticket.",
        ),
    ]
