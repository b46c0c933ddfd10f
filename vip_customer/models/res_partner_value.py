"""Customer value on the customer: RFM scores and segment, lifetime figures.

One statement per company writes them (:meth:`_vip_refresh_customer_value`),
the last step of the nightly tier run (``vip_tier_engine_cron.py``): an
aggregate over every purchase the tier engine counts (its purchase sources,
so a source another add-on adds counts here too), ranked by window functions,
and an UPDATE of these columns only where a value changed. Nobody writes them
by hand (``VALUE_FIELDS`` in ``DERIVED_FIELDS``, res_partner_guard.py).

The rules (quintiles by percentile rank, the segment table) are the pure
``tools/vip_value.py``; the SQL here computes the same in one pass.
"""

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools.vip_value import DAYS_PER_YEAR, LIFETIME_START, SCORE_MAX, SEGMENT_RULES
from .res_partner import VALUE_FIELDS, VIP_USER

SEGMENT_SELECTION = [
    ("champions", "Champions"),
    ("loyal", "Loyal"),
    ("new", "New Customers"),
    ("potential", "Potential Loyalists"),
    ("cant_lose", "Can't Lose Them"),
    ("at_risk", "At Risk"),
    ("hibernating", "Hibernating"),
    ("lost", "Lost"),
]
SCORE_HELP = (
    "1 to 5: the customer's fifth among the customers of the company with purchases "
    "(5 = the top fifth), refreshed every night. Customers with the same value share "
    "the middle of their ranks."
)


class ResPartner(models.Model):
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    vip_rfm_recency = fields.Integer(
        string="Recency Score",
        copy=False,
        aggregator="avg",
        groups=VIP_USER,
        help=SCORE_HELP + " Recency: the date of the last purchase.",
    )
    vip_rfm_frequency = fields.Integer(
        string="Frequency Score",
        copy=False,
        aggregator="avg",
        groups=VIP_USER,
        help=SCORE_HELP + " Frequency: the number of purchases since the first one.",
    )
    vip_rfm_monetary = fields.Integer(
        string="Monetary Score",
        copy=False,
        aggregator="avg",
        groups=VIP_USER,
        help=SCORE_HELP + " Monetary: the lifetime spend.",
    )
    vip_rfm_score = fields.Char(
        string="RFM Score",
        copy=False,
        groups=VIP_USER,
        help="Recency, frequency and monetary scores side by side: 555 is the best customer, "
        "111 the one who bought least, least often and longest ago.",
    )
    vip_rfm_segment = fields.Selection(
        SEGMENT_SELECTION,
        string="Customer Segment",
        copy=False,
        index="btree_not_null",
        groups=VIP_USER,
        help="From the RFM scores (R recency, F frequency, M monetary), the first that "
        "applies: Champions: R 4-5 and F+M 8 or more. Loyal: R 3-5 and F+M 6 or more. "
        "New Customers: R 4-5 and F 1-2. Potential Loyalists: R 3-5. "
        "Can't Lose Them: R 1-2 and F+M 8 or more. At Risk: R 1-2 and F+M 6 or more. "
        "Hibernating: R 2. Lost: R 1. Empty: no purchase yet.",
    )
    vip_lifetime_spend = fields.Monetary(
        string="Lifetime Spend",
        currency_field="vip_currency_id",
        copy=False,
        groups=VIP_USER,
        help="Every purchase since the first one, refunds deducted.",
    )
    vip_lifetime_purchase_count = fields.Integer(
        string="Lifetime Purchases", copy=False, groups=VIP_USER
    )
    vip_customer_since = fields.Date(
        string="Customer Since", copy=False, groups=VIP_USER, help="Date of the first purchase."
    )
    vip_tenure_years = fields.Float(
        string="Tenure (years)",
        digits=(16, 1),
        copy=False,
        aggregator="avg",
        groups=VIP_USER,
        help="Years since the first purchase.",
    )
    vip_avg_yearly_spend = fields.Monetary(
        string="Average Yearly Spend",
        currency_field="vip_currency_id",
        copy=False,
        aggregator="avg",
        groups=VIP_USER,
        help="Lifetime spend divided by the tenure in years; a customer of less than a "
        "year counts one year.",
    )

    # ------------------------------------------------------------------
    # The nightly refresh
    # ------------------------------------------------------------------
    @api.model
    def _vip_segment_sql(self, recency, frequency, monetary):
        """The segment of ``tools.vip_value.SEGMENT_RULES`` as a SQL CASE."""
        return SQL(
            "CASE %s END",
            SQL(" ").join(
                SQL(
                    "WHEN %(r)s BETWEEN %(r_min)s AND %(r_max)s AND %(f)s + %(m)s >= %(fm)s "
                    "AND %(f)s <= %(f_max)s THEN %(segment)s",
                    r=recency,
                    f=frequency,
                    m=monetary,
                    r_min=rule.recency_min,
                    r_max=rule.recency_max,
                    fm=rule.fm_min,
                    f_max=rule.frequency_max,
                    segment=rule.segment,
                )
                for rule in SEGMENT_RULES
            ),
        )

    @api.model
    def _vip_refresh_customer_value(self, company, today=None):
        """Refresh the customer value (``VALUE_FIELDS``) of ``company``'s
        customers: one aggregate over the tier engine's purchase sources since
        ever (``_get_purchase_sources``), ranked within the company, and one
        UPDATE of the rows whose values changed. Customers with no purchase
        left (a refund cancelled the only one) and contacts lose theirs.

        Customers are the tier engine's (``_customers_where``): commercial
        partners of the company or shared, not in another company's program;
        the nightly tier run puts each buyer in one program first, so two
        companies never score the same customer. Raw SQL on this module's own
        columns, which nothing tracks and no stored compute depends on
        (checked by a test); runs as the server, whoever calls.

        :param today: the date of the values (default: today)
        :return: the number of customers whose values changed
        """
        today = today or fields.Date.context_today(self)
        engine = self.env["vip.tier.engine"].sudo().with_company(company)
        self.env["account.move"].flush_model()
        self.flush_model()
        partner_fields = self._fields
        columns = list(VALUE_FIELDS)

        def cast(col):
            return SQL("v.%s::%s", SQL.identifier(col), SQL(partner_fields[col].column_type[1]))

        scores = {
            "r": ("last_date", "r"),
            "f": ("purchases", "f"),
            "m": ("spend", "m"),
        }
        rank_columns = SQL(", ").join(
            SQL(
                "RANK() OVER (ORDER BY agg.%(value)s) - 1 AS %(below)s, "
                "COUNT(*) OVER (PARTITION BY agg.%(value)s) AS %(ties)s",
                value=SQL.identifier(value),
                below=SQL.identifier(f"{name}_below"),
                ties=SQL.identifier(f"{name}_ties"),
            )
            for value, name in scores.values()
        )
        score_columns = SQL(", ").join(
            SQL(
                "(1 + %(max)s * (2 * %(below)s + %(ties)s) / (2 * total))::int4 AS %(name)s",
                max=SCORE_MAX,
                below=SQL.identifier(f"{name}_below"),
                ties=SQL.identifier(f"{name}_ties"),
                name=SQL.identifier(name),
            )
            for _value, name in scores.values()
        )
        query = SQL(
            """
            WITH purchases AS (%(purchases)s),
            agg AS (
                SELECT p.partner_id,
                       ROUND(SUM(p.amount), 2) AS spend,
                       SUM(p.purchase_count) AS purchases,
                       MIN(p.date) FILTER (WHERE p.purchase_count > 0) AS first_date,
                       MAX(p.date) FILTER (WHERE p.purchase_count > 0) AS last_date
                  FROM purchases p
                 WHERE p.date <= %(today)s
                 GROUP BY p.partner_id
                HAVING SUM(p.purchase_count) > 0
            ),
            ranked AS (
                SELECT agg.*, COUNT(*) OVER () AS total, %(rank_columns)s
                  FROM agg
                  JOIN res_partner rp ON rp.id = agg.partner_id
                 WHERE %(customers)s
            ),
            scored AS (
                SELECT partner_id, spend, purchases, first_date,
                       ROUND((%(today)s - first_date) / %(days)s, 1) AS tenure,
                       %(score_columns)s
                  FROM ranked
            ),
            vals AS (
                SELECT partner_id AS id,
                       r AS vip_rfm_recency,
                       f AS vip_rfm_frequency,
                       m AS vip_rfm_monetary,
                       CONCAT(r, f, m) AS vip_rfm_score,
                       %(segment)s AS vip_rfm_segment,
                       spend AS vip_lifetime_spend,
                       purchases AS vip_lifetime_purchase_count,
                       first_date AS vip_customer_since,
                       tenure AS vip_tenure_years,
                       ROUND(spend / GREATEST(tenure, 1), 2) AS vip_avg_yearly_spend
                  FROM scored
            ),
            stale AS (
                -- no purchase left, or a contact: no value (on customers of this
                -- company's program only: another program's are that company's)
                SELECT rp.id, %(nulls)s
                  FROM res_partner rp
                 WHERE (rp.vip_company_id = %(company)s OR rp.id != rp.commercial_partner_id)
                   AND (rp.vip_customer_since IS NOT NULL OR rp.vip_rfm_segment IS NOT NULL
                        OR COALESCE(rp.vip_lifetime_spend, 0) != 0)
                   AND NOT EXISTS (SELECT 1 FROM vals WHERE vals.id = rp.id)
            )
            UPDATE res_partner rp
               SET %(assignments)s, write_date = NOW() AT TIME ZONE 'UTC'
              FROM (SELECT * FROM vals UNION ALL SELECT * FROM stale) v
             WHERE rp.id = v.id
               AND (%(current)s) IS DISTINCT FROM (%(new)s)
            """,
            purchases=engine._purchases_sql(company, LIFETIME_START),
            today=today,
            rank_columns=rank_columns,
            customers=engine._customers_where(company),
            days=DAYS_PER_YEAR,
            score_columns=score_columns,
            segment=self._vip_segment_sql(SQL("r"), SQL("f"), SQL("m")),
            nulls=SQL(", ").join(
                SQL("NULL::%s AS %s", SQL(partner_fields[col].column_type[1]), SQL.identifier(col))
                for col in columns
            ),
            company=company.id,
            assignments=SQL(", ").join(
                SQL("%s = %s", SQL.identifier(col), cast(col)) for col in columns
            ),
            current=SQL(", ").join(SQL("rp.%s", SQL.identifier(col)) for col in columns),
            new=SQL(", ").join(cast(col) for col in columns),
        )
        # the rows stay in PostgreSQL: no id of a changed customer comes back to Python
        # (a first night changes every customer of the company: millions of rows)
        self.env.execute_query(query)
        changed = self.env.cr.rowcount
        # what the cache holds of these columns is stale (nothing is computed from them)
        self.invalidate_model(columns)
        return changed
