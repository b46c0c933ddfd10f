from odoo import api, models


class ResCompany(models.Model):
    _inherit = "res.company"

    @api.model
    def _vip_get_builtin_moment_rules_vals(self):
        """The built-in key moments of the service tickets: the follow-up call after a
        closed ticket (formerly scheduled by the ticket itself), a care call after a
        closed complaint (archived: the complaint loop has its own visit) and a call
        after a missed service level."""
        return [
            *super()._vip_get_builtin_moment_rules_vals(),
            *self._vip_ticket_builtin_moment_rules_vals(),
        ]

    @api.model
    def _vip_ticket_builtin_moment_rules_vals(self):
        """vip_service_ticket's built-in rules (their ``builtin_code`` is their
        trigger type; the creator of the hook sets the company and ``builtin``)."""
        followup = self.env.ref(
            "vip_service_ticket.mail_activity_type_ticket_followup", raise_if_not_found=False
        )
        common = {
            "assign_to": "account_manager",
            "activity_type_id": followup.id if followup else False,
        }
        return [
            {
                **common,
                "name": self.env._("Follow-up call after a closed ticket"),
                "sequence": 60,
                "trigger_type": "ticket_closed",
                "activity_summary": self.env._(
                    "Follow up with the customer on their closed ticket"
                ),
                "deadline_days": 2,
            },
            {
                **common,
                "name": self.env._("Care call after a closed complaint"),
                "sequence": 61,
                "trigger_type": "complaint_closed",
                "deadline_days": 3,
                # the complaint loop has its own follow-up visit before closing
                "active": False,
            },
            {
                **common,
                "name": self.env._("Call after a missed service level"),
                "sequence": 62,
                "trigger_type": "sla_breached",
                "deadline_days": 1,
            },
        ]
