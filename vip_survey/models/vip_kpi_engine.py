"""The campaign answers in the program KPIs: satisfaction and NPS.

The answers are read from the satisfaction history (``vip.satisfaction.report``), so
that the KPIs and the analysis share one definition of an answer's satisfaction, NPS,
date and customer. Its ticket-rating rows are left to vip_service_ticket's own hook
(``vip.service.ticket._get_rating_satisfaction_query``, which the history reads too):
each rating is counted once.
"""

from odoo import api, models
from odoo.tools import SQL


class VipKpiEngine(models.AbstractModel):
    _inherit = "vip.kpi.engine"

    @api.model
    def _get_satisfaction_sources(self, company, date_from, date_to):
        """The completed answers of the company's campaigns in the period, one row each.

        ``date`` is the completion date (UTC), ``partner_id`` the customer account of
        the contact who answered, ``satisfaction`` the answer's score out of 100 and
        ``nps`` its 0-10 NPS answer (NULL when the NPS question was skipped). Answers
        not completed and test entries are left out.
        """
        sources = super()._get_satisfaction_sources(company, date_from, date_to)
        # the history is a view over these columns: what the ORM holds goes to the database
        self.env["survey.user_input"].flush_model(
            [
                "partner_id",
                "state",
                "end_datetime",
                "test_entry",
                "vip_campaign_id",
                "vip_nps_score",
                "vip_nps_class",
                "vip_satisfaction_score",
            ]
        )
        self.env["vip.survey.campaign"].flush_model(["company_id", "satisfaction_target"])
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        sources.append(
            SQL(
                """
                SELECT h.partner_id AS partner_id,
                       h.date AS date,
                       h.satisfaction::float AS satisfaction,
                       h.nps_score::integer AS nps
                  FROM %(history)s h
                 WHERE h.source = 'survey'
                   AND h.state = 'done'
                   AND h.company_id = %(company)s
                   AND h.date BETWEEN %(start)s AND %(stop)s
                """,
                history=SQL.identifier(self.env["vip.satisfaction.report"]._table),
                company=company.id,
                start=date_from,
                stop=date_to,
            )
        )
        return sources
