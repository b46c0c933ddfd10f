from odoo import fields, models, tools
from odoo.tools import SQL

from ..models.vip_service_sla import PRIORITIES
from ..models.vip_service_ticket import CHANNELS, COMPLAINT_STEPS


class VipServiceTicketReport(models.Model):
    _name = "vip.service.ticket.report"
    _description = "VIP Service Ticket Analysis"
    _auto = False
    _order = "create_date desc"
    _rec_name = "ticket_id"

    ticket_id = fields.Many2one("vip.service.ticket", readonly=True)
    create_date = fields.Datetime(string="Opened On", readonly=True)
    close_date = fields.Datetime(string="Closed On", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    vip_tier_id = fields.Many2one("vip.tier", string="VIP Tier", readonly=True)
    category_id = fields.Many2one("vip.service.category", readonly=True)
    root_cause_id = fields.Many2one("vip.service.root.cause", readonly=True)
    responsibility_id = fields.Many2one("vip.service.responsibility", readonly=True)
    complaint_step = fields.Selection(COMPLAINT_STEPS, readonly=True)
    team_id = fields.Many2one("vip.service.team", readonly=True)
    user_id = fields.Many2one("res.users", string="Assigned To", readonly=True)
    stage_id = fields.Many2one("vip.service.stage", readonly=True)
    sla_id = fields.Many2one("vip.service.sla", string="SLA Policy", readonly=True)
    priority = fields.Selection(PRIORITIES, readonly=True)
    channel = fields.Selection(CHANNELS, readonly=True)
    is_complaint = fields.Boolean(string="Complaint", readonly=True)
    is_closed = fields.Boolean(string="Closed", readonly=True)
    ticket_count = fields.Integer(string="# Tickets", readonly=True, aggregator="sum")
    sla_compliance = fields.Float(
        string="SLA Compliance (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the closed tickets with an SLA that met both targets.",
    )
    first_response_hours = fields.Float(
        string="Avg First Response (working hours)", readonly=True, aggregator="avg"
    )
    resolution_hours = fields.Float(
        string="Avg Resolution (working hours)", readonly=True, aggregator="avg"
    )
    reopen_rate = fields.Float(string="Reopen Rate (%)", readonly=True, aggregator="avg")
    escalation_rate = fields.Float(string="Escalated (%)", readonly=True, aggregator="avg")
    rating_avg = fields.Float(string="Avg Rating", readonly=True, aggregator="avg")

    def _query(self):
        return SQL(
            """
            SELECT t.id, t.id AS ticket_id, t.create_date, t.close_date, t.company_id,
                   t.commercial_partner_id AS partner_id, t.vip_tier_id, t.category_id,
                   t.root_cause_id, t.responsibility_id, t.complaint_step, t.team_id,
                   t.user_id, t.stage_id, t.sla_id, t.priority, t.channel, t.is_complaint,
                   t.is_closed, 1 AS ticket_count,
                   CASE %(sla_met)s WHEN TRUE THEN 100.0 WHEN FALSE THEN 0.0
                   END AS sla_compliance,
                   CASE WHEN t.first_response_date IS NOT NULL AND t.is_closed
                        THEN t.first_response_work_hours END AS first_response_hours,
                   CASE WHEN t.is_closed THEN t.resolution_work_hours END AS resolution_hours,
                   CASE WHEN t.is_closed OR t.reopen_count > 0
                        THEN CASE WHEN t.reopen_count > 0 THEN 100.0 ELSE 0.0 END
                   END AS reopen_rate,
                   CASE WHEN t.escalation_level > 0 THEN 100.0 ELSE 0.0 END AS escalation_rate,
                   NULLIF(t.rating_last_value, 0) AS rating_avg
              FROM vip_service_ticket t
             WHERE t.active
            """,
            sla_met=self.env["vip.service.sla.engine"]._get_sla_met_sql("t"),
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query())
        )
