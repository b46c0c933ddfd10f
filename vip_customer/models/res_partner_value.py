"""Customer value on the customer: RFM scores and segment, lifetime figures.

The last step of the nightly tier run (``vip_tier_engine_cron.py``) writes
them (:meth:`_vip_refresh_customer_value_step`): each customer's lifetime
purchases (every purchase source of the tier engine, so a source another add-on
adds counts here too) kept in a work table, ranked there by window functions,
and an UPDATE of these columns only where a value changed, in steps the cron's
time budget spreads over its calls. The work table is kept between nights: an
incremental night aggregates again only the customers the tier engine
evaluated since (the ones whose purchases can have changed), a full night all
of them. Nobody writes the values by hand (``VALUE_FIELDS`` in
``DERIVED_FIELDS``, res_partner_guard.py).

The rules (quintiles by percentile rank, the segment table) are the pure
``tools/vip_value.py``; the SQL here computes the same.
"""

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools.vip_value import DAYS_PER_YEAR, LIFETIME_START, SCORE_MAX, SEGMENT_RULES
from .res_partner import VALUE_FIELDS, VIP_USER

# the refresh's work tables (our own, unlogged) and its batch outside the cron
VALUE_STAGE = "vip_customer_value_stage"
VALUE_RUN = "vip_customer_value_run"
VALUE_DIRTY = "vip_customer_value_dirty"
VALUE_BATCH = 50000

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

    def init(self):
        super().init()
        self._vip_value_tables()
        # tables of an earlier version: the columns of the kept work table
        self.env.cr.execute(
            SQL(
                """
                ALTER TABLE %(stage)s ADD COLUMN IF NOT EXISTS tenure numeric,
                    ADD COLUMN IF NOT EXISTS fresh boolean NOT NULL DEFAULT TRUE;
                ALTER TABLE %(run)s ADD COLUMN IF NOT EXISTS is_full boolean NOT NULL DEFAULT TRUE
                """,
                stage=SQL.identifier(VALUE_STAGE),
                run=SQL.identifier(VALUE_RUN),
            )
        )

    def _vip_value_tables(self):
        """The customer value refresh's own work tables (see
        :meth:`_vip_refresh_customer_value_step`): unlogged (a crash empties
        them, and the next refresh is then a full one), nothing but the
        refresh and the tier engine read or write them. Created at install,
        and again by a refresh that finds them gone (the uninstall hook drops
        them).

        - the stage: per company and customer, the lifetime purchases and the
          scores last ranked (``fresh``: to write on the customer);
        - the run: per company, the refresh in progress or done last
          (``phase`` ``done``: the stage is complete for ``day``);
        - the dirty list: the customers the tier engine evaluated since
          (:meth:`_vip_value_mark_dirty`), aggregated again by the next
          incremental refresh.
        """
        [(exists,)] = self.env.execute_query(
            SQL(
                "SELECT to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL "
                "AND to_regclass(%s) IS NOT NULL",
                VALUE_STAGE,
                VALUE_RUN,
                VALUE_DIRTY,
            )
        )
        if exists:
            return
        self.env.cr.execute(
            SQL(
                """
                CREATE UNLOGGED TABLE IF NOT EXISTS %(stage)s (
                    company_id int4 NOT NULL,
                    partner_id int4 NOT NULL,
                    spend numeric,
                    purchases int8,
                    first_date date,
                    last_date date,
                    r int4,
                    f int4,
                    m int4,
                    tenure numeric,
                    fresh boolean NOT NULL DEFAULT TRUE,
                    PRIMARY KEY (company_id, partner_id)
                );
                CREATE UNLOGGED TABLE IF NOT EXISTS %(run)s (
                    company_id int4 PRIMARY KEY,
                    day date NOT NULL,
                    phase varchar NOT NULL,
                    cursor int4 NOT NULL DEFAULT 0,
                    changed int8 NOT NULL DEFAULT 0,
                    is_full boolean NOT NULL DEFAULT TRUE
                );
                CREATE UNLOGGED TABLE IF NOT EXISTS %(dirty)s (
                    company_id int4 NOT NULL,
                    partner_id int4 NOT NULL
                );
                CREATE INDEX IF NOT EXISTS %(dirty_index)s ON %(dirty)s (company_id, partner_id)
                """,
                stage=SQL.identifier(VALUE_STAGE),
                run=SQL.identifier(VALUE_RUN),
                dirty=SQL.identifier(VALUE_DIRTY),
                dirty_index=SQL.identifier(f"{VALUE_DIRTY}_company_partner"),
            )
        )

    @api.model
    def _vip_value_mark_dirty(self, company, partner_ids):
        """The tier engine evaluated ``partner_ids`` for ``company``: their
        lifetime purchases may have changed, the next incremental refresh
        aggregates them again. Listed for every company keeping a work table,
        not only ``company``: a customer shared between companies is evaluated
        by the first company's run, and may buy in another one only. A plain
        insert (repeats allowed, the refresh reads them distinct), so it never
        waits on a refresh running."""
        if not partner_ids:
            return
        # gone after the uninstall hook (a module installed again, the demo loader)
        self._vip_value_tables()
        self.env.cr.execute(
            SQL(
                """INSERT INTO %(dirty)s (company_id, partner_id)
                   SELECT c.company_id, p.id
                     FROM (SELECT company_id FROM %(run)s UNION SELECT %(company)s) c,
                          unnest(%(ids)s::int4[]) AS p(id)""",
                dirty=SQL.identifier(VALUE_DIRTY),
                run=SQL.identifier(VALUE_RUN),
                company=company.id,
                ids=list(partner_ids),
            )
        )

    @api.model
    def _vip_refresh_customer_value(self, company, today=None, full=True):
        """Refresh the customer value (``VALUE_FIELDS``) of ``company``'s
        customers: every step of :meth:`_vip_refresh_customer_value_step` at
        once, in batches of ``VALUE_BATCH`` customers.

        :param today: the date of the values (default: today)
        :param full: aggregate every customer's purchases again; False: only
            the customers the tier engine evaluated since the last refresh
            (a full one all the same when there is no complete last refresh)
        :return: the number of customers whose values changed
        """
        today = today or fields.Date.context_today(self)
        self._vip_value_tables()
        self._vip_value_run_start(company, today, full=full)
        while True:
            _count, finished, changed = self._vip_refresh_customer_value_step(
                company, today, VALUE_BATCH, full=full
            )
            if finished:
                return changed

    @api.model
    def _vip_refresh_customer_value_step(self, company, today, size, full=True):
        """One step of the refresh of ``company``'s customer value on ``today``,
        over at most ``size`` customers; the nightly tier cron runs the steps
        across calls as its time budget allows. The steps:

        1. ``aggregate``: the next ``size`` customers and their purchases since
           ever (the tier engine's purchase sources, ``_get_purchase_sources``)
           into the work table, customers with a purchase only. A full run
           takes every customer (by id) into an emptied work table; an
           incremental one only the customers the tier engine evaluated since
           the last refresh (the dirty list), the others keeping their row
           (their purchases did not change: every change of a purchase has the
           tier engine evaluate the customer);
        2. ``rank``: the scores of every staged customer, ranked within the
           company (one statement over the work table, no purchase read); a
           customer whose scores or tenure moved is marked fresh. An
           incremental run first drops the rows of partners that are no longer
           the company's customers;
        3. ``apply``: the next ``size`` fresh customers' values written where
           they changed;
        4. ``clear``: customers with no purchase left (a refund cancelled the
           only one) and contacts lose theirs, ``size`` at a time; then the
           run is done (the work table is kept for the next night).

        Customers are the tier engine's (``_customers_where``): commercial
        partners of the company or shared, not in another company's program;
        the nightly tier run puts each buyer in one program first, so two
        companies never score the same customer. Raw SQL on this module's own
        columns, which nothing tracks and no stored compute depends on
        (checked by a test), and on its own work tables; runs as the server,
        whoever calls. The run's state is a row of ``vip_customer_value_run``
        (committed with each cron call): a killed call is redone by the next.

        :param full: how a run starting with this step aggregates (see
            :meth:`_vip_refresh_customer_value`); a run in progress keeps its own
        :return: ``(count, finished, changed)``: the customers the step went
            through, whether the run is complete, and (once complete) how many
            customers' values changed in the whole run
        """
        self._vip_value_tables()
        run = self._vip_value_run(company, today)
        if not run or run["phase"] == "done":
            run = self._vip_value_run_start(company, today, full=full)
        phase, cursor = run["phase"], run["cursor"]
        company_id = company.id
        if phase == "aggregate":
            return self._vip_value_aggregate_step(company, today, cursor, size, run["is_full"])
        if phase == "rank":
            if not run["is_full"]:
                self._vip_value_prune(company)
            self.env.cr.execute(self._vip_value_rank_sql(company, today))
            count = self.env.cr.rowcount
            self._vip_value_run_save(company, "apply", 0)
            return count, False, 0
        if phase == "apply":
            rows = self.env.execute_query(
                SQL(
                    """SELECT partner_id FROM %(stage)s
                        WHERE company_id = %(company)s AND partner_id > %(cursor)s AND fresh
                        ORDER BY partner_id LIMIT %(size)s""",
                    stage=SQL.identifier(VALUE_STAGE),
                    company=company_id,
                    cursor=cursor,
                    size=size,
                )
            )
            ids = [row[0] for row in rows]
            changed = 0
            if ids:
                self.env.cr.execute(self._vip_value_apply_sql(company, ids))
                changed = self.env.cr.rowcount
                self.env.cr.execute(
                    SQL(
                        "UPDATE %s SET fresh = FALSE "
                        "WHERE company_id = %s AND partner_id = ANY(%s)",
                        SQL.identifier(VALUE_STAGE),
                        company_id,
                        ids,
                    )
                )
            if len(ids) == size:
                self._vip_value_run_save(company, "apply", ids[-1], changed)
            else:
                self._vip_value_run_save(company, "clear", 0, changed)
            return len(ids), False, 0
        # clear: customers of this program (and contacts) with values and no purchase
        self.flush_model(list(VALUE_FIELDS))
        rows = self.env.execute_query(
            SQL(
                """SELECT rp.id FROM res_partner rp
                    WHERE rp.id > %(cursor)s
                      AND (rp.vip_company_id = %(company)s OR rp.id != rp.commercial_partner_id)
                      AND (rp.vip_customer_since IS NOT NULL OR rp.vip_rfm_segment IS NOT NULL
                           OR COALESCE(rp.vip_lifetime_spend, 0) != 0)
                      AND NOT EXISTS (SELECT 1 FROM %(stage)s s
                                       WHERE s.company_id = %(company)s AND s.partner_id = rp.id)
                    ORDER BY rp.id LIMIT %(size)s""",
                cursor=cursor,
                company=company_id,
                stage=SQL.identifier(VALUE_STAGE),
                size=size,
            )
        )
        ids = [row[0] for row in rows]
        changed = 0
        if ids:
            self.env.cr.execute(
                SQL(
                    "UPDATE res_partner SET %(nulls)s, write_date = NOW() AT TIME ZONE 'UTC' "
                    "WHERE id = ANY(%(ids)s)",
                    nulls=SQL(", ").join(
                        SQL("%s = NULL", SQL.identifier(col)) for col in VALUE_FIELDS
                    ),
                    ids=ids,
                )
            )
            changed = self.env.cr.rowcount
        # what the cache holds of these columns is stale (nothing is computed from them)
        self.invalidate_model(list(VALUE_FIELDS))
        if len(ids) == size:
            self._vip_value_run_save(company, "clear", ids[-1], changed)
            return len(ids), False, 0
        total = run["changed"] + changed
        self._vip_value_run_save(company, "done", 0)
        return len(ids), True, total

    def _vip_value_aggregate_step(self, company, today, cursor, size, full):
        """The ``aggregate`` step: the next ``size`` customers after ``cursor``
        (every customer of the company in a full run, the dirty list's in an
        incremental one) staged with their lifetime purchases."""
        engine = self.env["vip.tier.engine"].sudo().with_company(company)
        self.env["account.move"].flush_model()
        self.flush_model()
        stage, dirty = SQL.identifier(VALUE_STAGE), SQL.identifier(VALUE_DIRTY)
        if full:
            ids = [
                row[0]
                for row in self.env.execute_query(
                    SQL(
                        """SELECT rp.id FROM res_partner rp
                            WHERE rp.id > %(cursor)s AND %(customers)s
                            ORDER BY rp.id LIMIT %(size)s""",
                        cursor=cursor,
                        customers=engine._customers_where(company),
                        size=size,
                    )
                )
            ]
            customer_ids = ids
        else:
            ids = [
                row[0]
                for row in self.env.execute_query(
                    SQL(
                        """SELECT DISTINCT partner_id FROM %(dirty)s
                            WHERE company_id = %(company)s AND partner_id > %(cursor)s
                            ORDER BY partner_id LIMIT %(size)s""",
                        dirty=dirty,
                        company=company.id,
                        cursor=cursor,
                        size=size,
                    )
                )
            ]
            customer_ids = []
            if ids:
                # their rows go, and come back below if they are still customers with purchases
                self.env.cr.execute(
                    SQL(
                        "DELETE FROM %s WHERE company_id = %s AND partner_id = ANY(%s)",
                        stage,
                        company.id,
                        ids,
                    )
                )
                customer_ids = [
                    row[0]
                    for row in self.env.execute_query(
                        SQL(
                            "SELECT rp.id FROM res_partner rp WHERE rp.id = ANY(%s) AND %s",
                            ids,
                            engine._customers_where(company),
                        )
                    )
                ]
        if customer_ids:
            low, high = min(customer_ids), max(customer_ids)
            self.env.cr.execute(
                SQL(
                    """
                    WITH purchases AS (%(purchases)s)
                    INSERT INTO %(stage)s
                           (company_id, partner_id, spend, purchases, first_date, last_date)
                    SELECT %(company)s, p.partner_id,
                           ROUND(SUM(p.amount), 2),
                           SUM(p.purchase_count),
                           MIN(p.date) FILTER (WHERE p.purchase_count > 0),
                           MAX(p.date) FILTER (WHERE p.purchase_count > 0)
                      FROM purchases p
                     WHERE p.partner_id BETWEEN %(low)s AND %(high)s
                       AND p.partner_id = ANY(%(ids)s) AND p.date <= %(today)s
                     GROUP BY p.partner_id
                    HAVING SUM(p.purchase_count) > 0
                    """,
                    purchases=engine._purchases_sql(company, LIFETIME_START),
                    stage=stage,
                    company=company.id,
                    low=low,
                    high=high,
                    ids=customer_ids,
                    today=today,
                )
            )
        if ids and not full:
            # consumed; an evaluation committed since this step's snapshot stays listed
            self.env.cr.execute(
                SQL(
                    "DELETE FROM %s WHERE company_id = %s AND partner_id = ANY(%s)",
                    dirty,
                    company.id,
                    ids,
                )
            )
        if len(ids) == size:
            self._vip_value_run_save(company, "aggregate", ids[-1])
        else:
            self._vip_value_run_save(company, "rank", 0)
        return len(ids), False, 0

    def _vip_value_prune(self, company):
        """Drop the staged rows of partners that are no longer ``company``'s
        customers (gone to another program, become a contact, deleted): a full
        run would not stage them."""
        engine = self.env["vip.tier.engine"].sudo()
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """DELETE FROM %(stage)s s
                    WHERE s.company_id = %(company)s
                      AND NOT EXISTS (SELECT 1 FROM res_partner rp
                                       WHERE rp.id = s.partner_id AND %(customers)s)""",
                stage=SQL.identifier(VALUE_STAGE),
                company=company.id,
                customers=engine._customers_where(company),
            )
        )

    # the run's state: one row per company in the work table (see init)
    @api.model
    def _vip_value_run(self, company, today):
        rows = self.env.execute_query_dict(
            SQL(
                "SELECT phase, cursor, changed, is_full FROM %s "
                "WHERE company_id = %s AND day = %s",
                SQL.identifier(VALUE_RUN),
                company.id,
                today,
            )
        )
        return rows[0] if rows else None

    @api.model
    def _vip_value_run_start(self, company, today, full=True):
        """Start a refresh of ``company`` on ``today`` (a run of another day
        or a half-done one is dropped). It is incremental when asked and the
        work table is complete: the last run is done, or an incremental one
        was left half-done (its customers staged again are current, the
        dirty list keeps the others); else full, from an empty work table."""
        rows = self.env.execute_query(
            SQL(
                "SELECT phase, is_full FROM %s WHERE company_id = %s",
                SQL.identifier(VALUE_RUN),
                company.id,
            )
        )
        incremental = not full and bool(rows) and (rows[0][0] == "done" or not rows[0][1])
        if incremental:
            self.env.cr.execute(
                SQL("DELETE FROM %s WHERE company_id = %s", SQL.identifier(VALUE_RUN), company.id)
            )
        else:
            self._vip_value_run_end(company)
        self.env.cr.execute(
            SQL(
                "INSERT INTO %s (company_id, day, phase, cursor, is_full) "
                "VALUES (%s, %s, 'aggregate', 0, %s)",
                SQL.identifier(VALUE_RUN),
                company.id,
                today,
                not incremental,
            )
        )
        return {"phase": "aggregate", "cursor": 0, "changed": 0, "is_full": not incremental}

    @api.model
    def _vip_value_run_save(self, company, phase, cursor, changed=0):
        self.env.cr.execute(
            SQL(
                "UPDATE %s SET phase = %s, cursor = %s, changed = changed + %s "
                "WHERE company_id = %s",
                SQL.identifier(VALUE_RUN),
                phase,
                cursor,
                changed,
                company.id,
            )
        )

    @api.model
    def _vip_value_run_end(self, company):
        """Forget ``company``'s work tables: its next refresh is a full one."""
        for table in (VALUE_STAGE, VALUE_RUN, VALUE_DIRTY):
            self.env.cr.execute(
                SQL("DELETE FROM %s WHERE company_id = %s", SQL.identifier(table), company.id)
            )

    @api.model
    def _vip_value_rank_sql(self, company, today):
        """The scores of every staged customer of ``company``: its fifth by
        recency, frequency and spend (percentile rank, ties sharing the middle
        of their ranks; ``tools.vip_value.rfm_quintile``), and its tenure on
        ``today``; a row whose scores or tenure moved is marked fresh.

        One pass over the work table, one sort: recency (a date) and frequency
        (a count) take few distinct values, so their ranks come from a
        histogram of the values (customers below and tied, per value) joined
        back; only the spend, nearly one value per customer, is ranked by
        window functions over the rows sorted once. Six window sorts of every
        staged customer took twice the time at a million customers."""
        # value column, sentinel for NULL (a NULL is ranked last, as ORDER BY does)
        histograms = {"r": ("last_date", SQL("'-infinity'::date")), "f": ("purchases", SQL("0"))}

        def histogram(value, sentinel):
            return SQL(
                """SELECT %(value)s IS NULL AS is_null, COALESCE(%(value)s, %(sentinel)s) AS value,
                          COUNT(*) AS ties,
                          (SUM(COUNT(*)) OVER (ORDER BY %(value)s))::int8 - COUNT(*) AS below
                     FROM staged GROUP BY %(value)s""",
                value=SQL.identifier(value),
                sentinel=sentinel,
            )

        ctes = SQL(", ").join(
            SQL("%s AS (%s)", SQL.identifier(f"h_{name}"), histogram(value, sentinel))
            for name, (value, sentinel) in histograms.items()
        )
        joins = SQL(" ").join(
            SQL(
                "JOIN %(h)s ON %(h)s.is_null = (s.%(value)s IS NULL) "
                "AND %(h)s.value = COALESCE(s.%(value)s, %(sentinel)s)",
                h=SQL.identifier(f"h_{name}"),
                value=SQL.identifier(value),
                sentinel=sentinel,
            )
            for name, (value, sentinel) in histograms.items()
        )
        histogram_columns = SQL(", ").join(
            SQL(
                "%(h)s.below AS %(below)s, %(h)s.ties AS %(ties)s",
                h=SQL.identifier(f"h_{name}"),
                below=SQL.identifier(f"{name}_below"),
                ties=SQL.identifier(f"{name}_ties"),
            )
            for name in histograms
        )
        scores = [*histograms, "m"]
        score_columns = SQL(", ").join(
            SQL(
                "(1 + %(max)s * (2 * k.%(below)s + k.%(ties)s) / (2 * t.total))::int4 AS %(name)s",
                max=SCORE_MAX,
                below=SQL.identifier(f"{name}_below"),
                ties=SQL.identifier(f"{name}_ties"),
                name=SQL.identifier(name),
            )
            for name in scores
        )
        columns = [*scores, "tenure"]
        return SQL(
            """
            WITH staged AS MATERIALIZED (
                SELECT partner_id, first_date, last_date, purchases, spend
                  FROM %(stage)s WHERE company_id = %(company)s
            ), %(ctes)s,
            k AS (
                SELECT s.partner_id, s.first_date, %(histogram_columns)s,
                       RANK() OVER (ORDER BY s.spend) - 1 AS m_below,
                       COUNT(*) OVER (PARTITION BY s.spend) AS m_ties
                  FROM staged s %(joins)s
            )
            UPDATE %(stage)s st SET %(assignments)s, fresh = TRUE
              FROM (SELECT k.partner_id, %(score_columns)s,
                           ROUND((%(today)s - k.first_date) / %(days)s, 1) AS tenure
                      FROM k, (SELECT COUNT(*) AS total FROM staged) t) n
             WHERE st.company_id = %(company)s AND st.partner_id = n.partner_id
               AND (%(current)s) IS DISTINCT FROM (%(new)s)
            """,
            stage=SQL.identifier(VALUE_STAGE),
            ctes=ctes,
            histogram_columns=histogram_columns,
            joins=joins,
            assignments=SQL(", ").join(
                SQL("%s = n.%s", SQL.identifier(col), SQL.identifier(col)) for col in columns
            ),
            score_columns=score_columns,
            today=today,
            days=DAYS_PER_YEAR,
            company=company.id,
            current=SQL(", ").join(SQL("st.%s", SQL.identifier(col)) for col in columns),
            new=SQL(", ").join(SQL("n.%s", SQL.identifier(col)) for col in columns),
        )

    @api.model
    def _vip_value_apply_sql(self, company, ids):
        """Write the staged values of the customers ``ids`` where they changed."""
        partner_fields = self._fields
        columns = list(VALUE_FIELDS)

        def cast(col):
            return SQL("v.%s::%s", SQL.identifier(col), SQL(partner_fields[col].column_type[1]))

        return SQL(
            """
            WITH scored AS (
                -- the tenure on the run's day: the rank step stored it
                SELECT partner_id, spend, purchases, first_date, r, f, m, tenure
                  FROM %(stage)s
                 WHERE company_id = %(company)s AND partner_id = ANY(%(ids)s)
            ),
            v AS (
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
            )
            UPDATE res_partner rp
               SET %(assignments)s, write_date = NOW() AT TIME ZONE 'UTC'
              FROM v
             WHERE rp.id = v.id
               AND (%(current)s) IS DISTINCT FROM (%(new)s)
            """,
            stage=SQL.identifier(VALUE_STAGE),
            company=company.id,
            ids=ids,
            segment=self._vip_segment_sql(SQL("r"), SQL("f"), SQL("m")),
            assignments=SQL(", ").join(
                SQL("%s = %s", SQL.identifier(col), cast(col)) for col in columns
            ),
            current=SQL(", ").join(SQL("rp.%s", SQL.identifier(col)) for col in columns),
            new=SQL(", ").join(cast(col) for col in columns),
        )
