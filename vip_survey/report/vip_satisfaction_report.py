"""Satisfaction history: campaign survey answers and service ticket ratings, on one
scale out of 100, for the analysis by campaign, tier, account manager and period."""

from odoo import fields, models, tools
from odoo.tools import SQL

from ..models.vip_survey_campaign import NPS_CLASSES

# Target of the practice for the ratings of tickets (campaigns carry their own).
DEFAULT_TARGET = 85.0


class VipSatisfactionReport(models.Model):
    _name = "vip.satisfaction.report"
    _description = "VIP Satisfaction Analysis"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "partner_id"

    date = fields.Date(readonly=True)
    source = fields.Selection([("survey", "Survey"), ("ticket", "Ticket Rating")], readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    campaign_id = fields.Many2one("vip.survey.campaign", readonly=True)
    survey_id = fields.Many2one("survey.survey", readonly=True)
    user_input_id = fields.Many2one("survey.user_input", string="Survey Answer", readonly=True)
    ticket_id = fields.Many2one("vip.service.ticket", readonly=True)
    tier_id = fields.Many2one("vip.tier", readonly=True)
    account_manager_id = fields.Many2one("res.users", readonly=True)
    state = fields.Selection(
        [("new", "Not started"), ("in_progress", "In progress"), ("done", "Completed")],
        string="Answer Status",
        readonly=True,
    )
    invited_count = fields.Integer(string="Invited", readonly=True)
    completed_count = fields.Integer(string="Completed", readonly=True)
    response_rate = fields.Float(string="Response Rate (%)", readonly=True, aggregator="avg")
    nps_score = fields.Float(string="NPS Answer", readonly=True, aggregator="avg")
    nps_class = fields.Selection(NPS_CLASSES, string="NPS Class", readonly=True)
    nps = fields.Float(
        string="NPS",
        readonly=True,
        aggregator="avg",
        help="Average of +100 (promoter), 0 (passive), -100 (detractor): "
        "% promoters - % detractors.",
    )
    satisfaction = fields.Float(string="Satisfaction (/100)", readonly=True, aggregator="avg")
    target = fields.Float(string="Target (/100)", readonly=True, aggregator="avg")
    gap = fields.Float(
        string="Gap to Target",
        readonly=True,
        aggregator="avg",
        help="Satisfaction minus target: negative below target.",
    )
    below_target = fields.Boolean(readonly=True)

    def _query(self):
        return SQL(
            """
            SELECT ui.id * 2 AS id,
                   'survey' AS source,
                   COALESCE(ui.end_datetime, ui.create_date)::date AS date,
                   p.commercial_partner_id AS partner_id,
                   c.company_id AS company_id,
                   c.id AS campaign_id,
                   ui.survey_id AS survey_id,
                   ui.id AS user_input_id,
                   NULL::integer AS ticket_id,
                   cp.vip_tier_id AS tier_id,
                   cp.vip_account_manager_id AS account_manager_id,
                   ui.state AS state,
                   1 AS invited_count,
                   CASE WHEN ui.state = 'done' THEN 1 ELSE 0 END AS completed_count,
                   CASE WHEN ui.state = 'done' THEN 100.0 ELSE 0.0 END AS response_rate,
                   CASE WHEN ui.state = 'done' AND ui.vip_nps_class IS NOT NULL
                        THEN COALESCE(ui.vip_nps_score, 0) END AS nps_score,
                   CASE WHEN ui.state = 'done' THEN ui.vip_nps_class END AS nps_class,
                   CASE WHEN ui.state = 'done' THEN
                        CASE ui.vip_nps_class WHEN 'promoter' THEN 100.0
                                              WHEN 'passive' THEN 0.0
                                              WHEN 'detractor' THEN -100.0 END
                   END AS nps,
                   CASE WHEN ui.state = 'done'
                        THEN COALESCE(ui.vip_satisfaction_score, 0) END AS satisfaction,
                   c.satisfaction_target AS target,
                   CASE WHEN ui.state = 'done'
                        THEN COALESCE(ui.vip_satisfaction_score, 0) - c.satisfaction_target
                   END AS gap,
                   COALESCE(ui.state = 'done' AND
                            COALESCE(ui.vip_satisfaction_score, 0) < c.satisfaction_target,
                            FALSE)
                       AS below_target
              FROM survey_user_input ui
              JOIN vip_survey_campaign c ON c.id = ui.vip_campaign_id
              JOIN res_partner p ON p.id = ui.partner_id
              JOIN res_partner cp ON cp.id = p.commercial_partner_id
             WHERE NOT COALESCE(ui.test_entry, FALSE)
            UNION ALL
            SELECT r.rating_id * 2 + 1 AS id,
                   'ticket' AS source,
                   r.date AS date,
                   r.partner_id AS partner_id,
                   r.company_id AS company_id,
                   NULL::integer AS campaign_id,
                   NULL::integer AS survey_id,
                   NULL::integer AS user_input_id,
                   r.ticket_id AS ticket_id,
                   cp.vip_tier_id AS tier_id,
                   cp.vip_account_manager_id AS account_manager_id,
                   'done' AS state,
                   0 AS invited_count,
                   0 AS completed_count,
                   NULL::numeric AS response_rate,
                   NULL::integer AS nps_score,
                   NULL::varchar AS nps_class,
                   NULL::numeric AS nps,
                   r.satisfaction AS satisfaction,
                   %(target)s AS target,
                   r.satisfaction - %(target)s AS gap,
                   r.satisfaction < %(target)s AS below_target
              FROM (%(ratings)s) r
              JOIN res_partner cp ON cp.id = r.partner_id
            """,
            target=DEFAULT_TARGET,
            # one definition of a ticket rating's satisfaction (the program KPIs read it)
            ratings=self.env["vip.service.ticket"]._get_rating_satisfaction_query(),
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query())
        )
