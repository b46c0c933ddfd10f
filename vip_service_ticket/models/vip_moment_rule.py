"""The key moments of the service tickets: a ticket closed (the account manager's
follow-up call, formerly scheduled by the ticket itself), a complaint closed and an
SLA breached. Their candidates are selected in ``vip_moment_engine.py``."""

from odoo import api, fields, models

# trigger type: kind (the board groups by it)
TICKET_TRIGGER_KINDS = {
    "ticket_closed": "event",
    "complaint_closed": "anomaly",
    "sla_breached": "anomaly",
}


class VipMomentRule(models.Model):
    _inherit = "vip.moment.rule"

    trigger_type = fields.Selection(
        selection_add=[
            ("ticket_closed", "Service ticket closed"),
            ("complaint_closed", "Complaint closed"),
            ("sla_breached", "Service level breached"),
        ],
        ondelete={
            "ticket_closed": "cascade",
            "complaint_closed": "cascade",
            "sla_breached": "cascade",
        },
    )

    @api.model
    def _get_trigger_kinds(self):
        return {**super()._get_trigger_kinds(), **TICKET_TRIGGER_KINDS}
