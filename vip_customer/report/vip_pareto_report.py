from odoo import fields, models, tools
from odoo.tools import SQL


class VipParetoReport(models.Model):
    """The 20/80 view: customers ranked by spend over the window, split into
    the top 20% and the rest, so the pivot shows which share of revenue the
    top fifth brings."""

    _name = "vip.pareto.report"
    _description = "VIP 20/80 Analysis"
    _auto = False
    _order = "spend desc"

    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    tier_id = fields.Many2one("vip.tier", readonly=True)
    account_manager_id = fields.Many2one("res.users", readonly=True)
    spend = fields.Monetary(readonly=True)
    purchase_count = fields.Integer(string="Purchases", readonly=True)
    spend_rank = fields.Integer(string="Rank", readonly=True, aggregator="min")
    # keys sort like the labels should read (groups are ordered by key): top first
    segment = fields.Selection(
        [("1_top", "Top 20%"), ("2_rest", "Other 80%")], readonly=True
    )
    customer_count = fields.Integer(string="Customers", readonly=True)
    spend_share = fields.Float(
        string="Share of Spend (%)",
        readonly=True,
        digits=(16, 2),
        help="Share of the company's spend over the window; sums to 100% over all customers.",
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
            CREATE OR REPLACE VIEW %(table)s AS (
                SELECT rp.id AS id,
                       rp.id AS partner_id,
                       rp.vip_company_id AS company_id,
                       rc.currency_id AS currency_id,
                       rp.vip_tier_id AS tier_id,
                       rp.vip_account_manager_id AS account_manager_id,
                       rp.vip_spend AS spend,
                       rp.vip_purchase_count AS purchase_count,
                       1 AS customer_count,
                       100.0 * rp.vip_spend
                           / NULLIF(SUM(rp.vip_spend) OVER (PARTITION BY rp.vip_company_id), 0)
                           AS spend_share,
                       RANK() OVER w AS spend_rank,
                       CASE WHEN PERCENT_RANK() OVER w < 0.2 THEN '1_top' ELSE '2_rest' END
                           AS segment
                  FROM res_partner rp
                  JOIN res_company rc ON rc.id = rp.vip_company_id
                 WHERE rp.vip_spend > 0
                   AND rp.id = rp.commercial_partner_id
                WINDOW w AS (PARTITION BY rp.vip_company_id ORDER BY rp.vip_spend DESC)
            )
            """,
                table=SQL.identifier(self._table),
            )
        )
