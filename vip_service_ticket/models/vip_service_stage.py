from odoo import fields, models


class VipServiceStage(models.Model):
    _name = "vip.service.stage"
    _inherit = ["vip.bounds.mixin"]
    _description = "VIP Service Ticket Stage"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    description = fields.Text(translate=True)
    fold = fields.Boolean(
        string="Closed",
        help="Tickets in a folded stage are closed: their SLA clock stops, the customer is asked "
        "for a rating and complaints must have a root cause and a solution.",
    )
    pause_sla = fields.Boolean(
        string="Pause SLA",
        help="Waiting for the customer: the working hours spent in this stage do not count "
        "against the SLA, the deadlines move when the ticket leaves it.",
    )
    rating_template_id = fields.Many2one(
        "mail.template",
        string="Rating Email Template",
        domain=[("model", "=", "vip.service.ticket")],
        help="Sent to the customer when a ticket reaches this stage, to rate the service.",
    )
    ticket_count = fields.Integer(compute="_compute_ticket_count")

    def _compute_ticket_count(self):
        counts = dict(
            self.env["vip.service.ticket"]._read_group(
                [("stage_id", "in", self.ids)], ["stage_id"], ["__count"]
            )
        )
        for stage in self:
            stage.ticket_count = counts.get(stage, 0)
