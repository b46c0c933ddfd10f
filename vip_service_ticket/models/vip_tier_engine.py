from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

# Churn points per open complaint / per SLA breach of the last BREACH_DAYS, and caps.
COMPLAINT_POINTS, COMPLAINT_CAP = 10, 30
BREACH_POINTS, BREACH_CAP = 5, 20
BREACH_DAYS = 90


class VipTierEngine(models.AbstractModel):
    _inherit = "vip.tier.engine"

    @api.model
    def _get_churn_signals(self, company, partner_ids):
        """Open complaints and recent SLA breaches raise the churn risk.

        One aggregate query for the whole batch of customers.
        """
        signals = super()._get_churn_signals(company, partner_ids)
        if not partner_ids:
            return signals
        Ticket = self.env["vip.service.ticket"]
        now = fields.Datetime.now()
        # the statuses the clock changed since the escalation cron last ran
        Ticket.with_context(active_test=False).search(
            [("commercial_partner_id", "in", list(partner_ids)), ("sla_status_date", "<=", now)]
        )._sla_refresh_status()
        Ticket.flush_model(
            [
                "commercial_partner_id",
                "company_id",
                "is_complaint",
                "is_closed",
                "active",
                "sla_id",
                "sla_status",
                "sla_start_date",
            ]
        )
        rows = self.env.execute_query(
            SQL(
                """
                SELECT t.commercial_partner_id,
                       COUNT(*) FILTER (WHERE t.is_complaint AND NOT COALESCE(t.is_closed, FALSE)),
                       COUNT(*) FILTER (
                           WHERE t.sla_status = 'breached' AND t.sla_start_date >= %(since)s)
                  FROM vip_service_ticket t
                 WHERE t.commercial_partner_id = ANY(%(partners)s)
                   AND t.company_id = %(company)s
                   AND t.active
                 GROUP BY t.commercial_partner_id
                """,
                since=now - timedelta(days=BREACH_DAYS),
                partners=list(partner_ids),
                company=company.id,
            )
        )
        for partner_id, complaints, breaches in rows:
            if not (complaints or breaches):
                continue
            partner_signals = signals.setdefault(partner_id, [])
            if complaints:
                partner_signals.append(
                    (
                        min(complaints * COMPLAINT_POINTS, COMPLAINT_CAP),
                        self.env._("1 open complaint")
                        if complaints == 1
                        else self.env._("%(count)s open complaints", count=complaints),
                    )
                )
            if breaches:
                partner_signals.append(
                    (
                        min(breaches * BREACH_POINTS, BREACH_CAP),
                        self.env._("1 SLA breach in %(days)s days", days=BREACH_DAYS)
                        if breaches == 1
                        else self.env._(
                            "%(count)s SLA breaches in %(days)s days",
                            count=breaches,
                            days=BREACH_DAYS,
                        ),
                    )
                )
        return signals
