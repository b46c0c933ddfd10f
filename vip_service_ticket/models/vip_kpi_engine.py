"""The service tickets in the program KPIs: complaints, SLA compliance and ticket ratings.

Both hooks select, for one company and one period, rows in the columns the KPI engine
unions (see ``vip.kpi.engine``); they read the definitions this add-on already has:
the SLA result of ``vip.service.sla.engine._get_sla_met_sql`` (what the ticket
analysis and the SLA status call met or breached) and the rating satisfaction of
``vip.service.ticket._get_rating_satisfaction_query`` (which vip_survey's
satisfaction history reads too). Ticket ratings are counted here and only here:
vip_survey contributes its survey answers alone, so a rating is never counted twice.
"""

from datetime import timedelta

from odoo import api, models
from odoo.tools import SQL

# Ticket columns the service source reads (flushed before the engine runs the SQL).
SERVICE_COLUMNS = [
    "company_id",
    "commercial_partner_id",
    "active",
    "sla_start_date",
    "is_complaint",
    "is_closed",
    "close_date",
    "sla_id",
    "sla_met",
]


class VipKpiEngine(models.AbstractModel):
    _inherit = "vip.kpi.engine"

    @api.model
    def _get_service_sources(self, company, date_from, date_to):
        """The company's tickets opened in the period, one row each.

        ``date`` is when the ticket was opened: its SLA start (the creation of the
        ticket, or the moment a service manager corrected it to), in UTC like the
        ticket analysis; ``partner_id`` its customer account (a contact's ticket counts
        for their company); ``is_complaint`` its category's flag; ``sla_met`` the SLA
        engine's result (TRUE met, FALSE breached, NULL while open or without policy).
        Archived tickets are left out, as in the ticket analysis.
        """
        sources = super()._get_service_sources(company, date_from, date_to)
        self.env["vip.service.ticket"].flush_model(SERVICE_COLUMNS)
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        sources.append(
            SQL(
                """
                SELECT t.commercial_partner_id AS partner_id,
                       t.sla_start_date::date AS date,
                       COALESCE(t.is_complaint, FALSE) AS is_complaint,
                       %(sla_met)s AS sla_met
                  FROM vip_service_ticket t
                 WHERE t.company_id = %(company)s
                   AND t.active
                   AND t.commercial_partner_id IS NOT NULL
                   AND t.sla_start_date >= %(start)s
                   AND t.sla_start_date < %(stop)s
                """,
                sla_met=self.env["vip.service.sla.engine"]._get_sla_met_sql("t"),
                company=company.id,
                start=date_from,
                stop=date_to + timedelta(days=1),
            )
        )
        return sources

    @api.model
    def _get_satisfaction_sources(self, company, date_from, date_to):
        """The ratings the company's customers gave their tickets in the period, as
        satisfaction (rating x 20, out of 100; no NPS), by the ticket's customer account.
        """
        sources = super()._get_satisfaction_sources(company, date_from, date_to)
        self.env["rating.rating"].flush_model(
            ["res_model", "res_id", "consumed", "rating", "write_date"]
        )
        self.env["vip.service.ticket"].flush_model(["company_id", "commercial_partner_id"])
        sources.append(
            SQL(
                """
                SELECT r.partner_id AS partner_id,
                       r.date AS date,
                       r.satisfaction::float AS satisfaction,
                       NULL::integer AS nps
                  FROM (%(ratings)s) r
                 WHERE r.company_id = %(company)s
                   AND r.partner_id IS NOT NULL
                   AND r.date BETWEEN %(start)s AND %(stop)s
                """,
                ratings=self.env["vip.service.ticket"]._get_rating_satisfaction_query(),
                company=company.id,
                start=date_from,
                stop=date_to,
            )
        )
        return sources
