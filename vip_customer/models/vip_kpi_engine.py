"""The program KPI engine: per period, one snapshot row per VIP customer.

``_compute_period`` deletes the facts of one (company, period type, start)
and fills them again with one INSERT ... SELECT over the tier history and the
tier engine's purchase sources (plus the satisfaction and service hooks), then
refreshes that period's summary (``vip.kpi.period``) and, when the scorecard
model is installed, the account managers' scorecards.

Definitions (one row per customer VIP at the start or at the end of the
period; the tier "at the start" is the last tier history row dated before the
first day, "at the end" the last one dated on or before the last day):

* retention: customers VIP at the start (at or above the company's retention
  tier when set) -> 100 if still VIP (at or above that tier) at the end, else 0;
* renewal: customers VIP at the start -> 100 if they bought in the period;
* repeat purchase: VIP customers (start or end) who bought -> 100 with two
  purchases or more, 0 with one;
* movement compares the start and the end only: a customer who left and came
  back within the period "stayed"; one who entered and left within it is not
  a VIP row (it counts in the non-VIP bucket when it bought);
* the account manager is the customer's at the time of the computation: a
  manager change mid-period credits the whole period to the new manager.

The customers who bought without being VIP at the start or the end make one
bucket row (no partner) per period, so the spend share of the VIPs is exact.
"""

import logging

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from .vip_kpi_fact import ENGINE_CONTEXT_KEY

_logger = logging.getLogger(__name__)

PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}
# periods computed per cron call (Odoo's runner calls again while some remain)
KPI_BATCH_SIZE = 12
# "Recompute history" goes back this many months
HISTORY_MONTHS = 24
FACT_COLUMNS = (
    "company_id",
    "period_type",
    "date_start",
    "date_end",
    "partner_id",
    "customer_count",
    "tier_start_id",
    "tier_end_id",
    "manager_id",
    "movement",
    "is_vip_start",
    "is_vip_end",
    "retention_base",
    "retention_pct",
    "renewal_pct",
    "repeat_pct",
    "spend",
    "prev_spend",
    "purchase_count",
    "satisfaction",
    "satisfaction_count",
    "nps_pct",
    "has_nps",
    "ticket_count",
    "complaint_count",
    "sla_pct",
)


class VipKpiEngine(models.AbstractModel):
    _name = "vip.kpi.engine"
    _description = "VIP Program KPI Engine"

    # ------------------------------------------------------------------
    # Periods
    # ------------------------------------------------------------------
    @api.model
    def _period_start(self, period_type, day):
        """First day of the period of ``period_type`` containing ``day``."""
        day = fields.Date.to_date(day)
        if period_type == "month":
            return day.replace(day=1)
        if period_type == "quarter":
            return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
        if period_type == "year":
            return day.replace(month=1, day=1)
        raise ValueError(f"unknown period type {period_type!r}")

    @api.model
    def _period_bounds(self, period_type, date_start):
        """``(start, last day, start of the previous period)`` of a period."""
        start = self._period_start(period_type, date_start)
        months = PERIOD_MONTHS[period_type]
        return (
            start,
            start + relativedelta(months=months, days=-1),
            start - relativedelta(months=months),
        )

    @api.model
    def _period_name(self, period_type, date_start):
        """ "2026-11", "2026 Q4" or "2026": a code, the same in every language."""
        if period_type == "month":
            return f"{date_start.year}-{date_start.month:02d}"
        if period_type == "quarter":
            return f"{date_start.year} Q{(date_start.month - 1) // 3 + 1}"
        return str(date_start.year)

    # ------------------------------------------------------------------
    # Hooks
    # ------------------------------------------------------------------
    @api.model
    def _get_satisfaction_sources(self, company, date_from, date_to):
        """Queries yielding the satisfaction answers of ``company`` between
        ``date_from`` and ``date_to`` (both included), one row per answer, with
        the columns ``partner_id`` (commercial partner), ``date`` (date),
        ``satisfaction`` (float 0-100 or NULL) and ``nps`` (int 0-10 or NULL).

        :return: a list of ``odoo.tools.SQL``, wrapped in ``UNION ALL``.

        The base module has no satisfaction data: vip_survey (survey answers)
        and vip_service_ticket (ticket ratings) append theirs, so vip_customer
        does not depend on them.
        """
        return []

    @api.model
    def _get_service_sources(self, company, date_from, date_to):
        """Queries yielding the tickets of ``company`` created between
        ``date_from`` and ``date_to`` (both included), one row per ticket, with
        the columns ``partner_id`` (commercial partner), ``date`` (creation
        date), ``is_complaint`` (bool) and ``sla_met`` (bool; NULL when the
        ticket is not closed or has no SLA).

        :return: a list of ``odoo.tools.SQL``, wrapped in ``UNION ALL``.

        The base module has no tickets: vip_service_ticket appends them.
        """
        return []

    # ------------------------------------------------------------------
    # Computation
    # ------------------------------------------------------------------
    @api.model
    def _union(self, queries, empty):
        if not queries:
            return empty
        return SQL(" UNION ALL ").join(SQL("(%s)", query) for query in queries)

    @api.model
    def _facts_query(self, company, period_type, start, end, prev_start):
        """The INSERT ... SELECT filling the facts of one period."""
        purchases = self._union(
            self.env["vip.tier.engine"]._get_purchase_sources(company, prev_start),
            SQL(
                "SELECT NULL::int AS partner_id, NULL::date AS date, "
                "NULL::numeric AS amount, NULL::int AS purchase_count WHERE FALSE"
            ),
        )
        answers = self._union(
            self._get_satisfaction_sources(company, start, end),
            SQL(
                "SELECT NULL::int AS partner_id, NULL::date AS date, "
                "NULL::float AS satisfaction, NULL::int AS nps WHERE FALSE"
            ),
        )
        tickets = self._union(
            self._get_service_sources(company, start, end),
            SQL(
                "SELECT NULL::int AS partner_id, NULL::date AS date, "
                "NULL::bool AS is_complaint, NULL::bool AS sla_met WHERE FALSE"
            ),
        )
        retention_tier = company.vip_kpi_retention_tier_id
        retention_level = retention_tier.level if retention_tier else None
        return SQL(
            """
            WITH h_start AS (
                SELECT DISTINCT ON (partner_id) partner_id, new_tier_id AS tier_id
                  FROM vip_tier_history
                 WHERE company_id = %(company)s AND date < %(start)s
                 ORDER BY partner_id, date DESC, id DESC
            ), h_end AS (
                SELECT DISTINCT ON (partner_id) partner_id, new_tier_id AS tier_id
                  FROM vip_tier_history
                 WHERE company_id = %(company)s AND date <= %(end)s
                 ORDER BY partner_id, date DESC, id DESC
            ), vips AS (
                SELECT COALESCE(s.partner_id, e.partner_id) AS partner_id,
                       s.tier_id AS tier_start_id, e.tier_id AS tier_end_id
                  FROM (SELECT * FROM h_start WHERE tier_id IS NOT NULL) s
                  FULL JOIN (SELECT * FROM h_end WHERE tier_id IS NOT NULL) e
                    ON e.partner_id = s.partner_id
            ), buys AS (
                SELECT p.partner_id,
                       COALESCE(SUM(p.amount) FILTER (WHERE p.date >= %(start)s), 0) AS spend,
                       COALESCE(SUM(p.amount) FILTER (WHERE p.date < %(start)s), 0) AS prev_spend,
                       COALESCE(SUM(p.purchase_count) FILTER (WHERE p.date >= %(start)s), 0)
                           AS purchase_count
                  FROM (%(purchases)s) p
                 WHERE p.date >= %(prev_start)s AND p.date <= %(end)s
                 GROUP BY p.partner_id
            ), answers AS (
                SELECT a.partner_id,
                       AVG(a.satisfaction) AS satisfaction,
                       COUNT(a.satisfaction) AS satisfaction_count,
                       (ARRAY_AGG(a.nps ORDER BY a.date DESC)
                            FILTER (WHERE a.nps IS NOT NULL))[1] AS nps
                  FROM (%(answers)s) a
                 WHERE a.date >= %(start)s AND a.date <= %(end)s
                 GROUP BY a.partner_id
            ), tickets AS (
                SELECT t.partner_id,
                       COUNT(*) AS ticket_count,
                       COUNT(*) FILTER (WHERE t.is_complaint) AS complaint_count,
                       100.0 * COUNT(*) FILTER (WHERE t.sla_met)
                           / NULLIF(COUNT(t.sla_met), 0) AS sla_pct
                  FROM (%(tickets)s) t
                 WHERE t.date >= %(start)s AND t.date <= %(end)s
                 GROUP BY t.partner_id
            ), facts AS (
                SELECT v.partner_id, v.tier_start_id, v.tier_end_id,
                       ts.level AS level_start, te.level AS level_end,
                       rp.vip_account_manager_id AS manager_id,
                       COALESCE(b.spend, 0) AS spend,
                       COALESCE(b.prev_spend, 0) AS prev_spend,
                       COALESCE(b.purchase_count, 0) AS purchase_count,
                       a.satisfaction, COALESCE(a.satisfaction_count, 0) AS satisfaction_count,
                       a.nps, COALESCE(t.ticket_count, 0) AS ticket_count,
                       COALESCE(t.complaint_count, 0) AS complaint_count, t.sla_pct
                  FROM vips v
                  JOIN res_partner rp ON rp.id = v.partner_id
                  LEFT JOIN vip_tier ts ON ts.id = v.tier_start_id
                  LEFT JOIN vip_tier te ON te.id = v.tier_end_id
                  LEFT JOIN buys b ON b.partner_id = v.partner_id
                  LEFT JOIN answers a ON a.partner_id = v.partner_id
                  LEFT JOIN tickets t ON t.partner_id = v.partner_id
            )
            INSERT INTO vip_kpi_fact (%(columns)s)
            SELECT %(company)s, %(period_type)s, %(start)s, %(end)s,
                   r.partner_id, 1, r.tier_start_id, r.tier_end_id, r.manager_id,
                   CASE WHEN r.tier_start_id IS NULL THEN 'new'
                        WHEN r.tier_end_id IS NULL THEN 'lost'
                        WHEN r.level_end > r.level_start THEN 'upgrade'
                        WHEN r.level_end < r.level_start THEN 'downgrade'
                        ELSE 'stayed' END,
                   r.tier_start_id IS NOT NULL, r.tier_end_id IS NOT NULL,
                   r.tier_start_id IS NOT NULL
                       AND r.level_start >= COALESCE(%(retention_level)s, r.level_start),
                   CASE WHEN r.tier_start_id IS NULL
                          OR r.level_start < COALESCE(%(retention_level)s, r.level_start)
                        THEN NULL
                        WHEN r.tier_end_id IS NOT NULL
                         AND r.level_end >= COALESCE(%(retention_level)s, r.level_end)
                        THEN 100.0 ELSE 0.0 END,
                   CASE WHEN r.tier_start_id IS NULL THEN NULL
                        WHEN r.purchase_count >= 1 THEN 100.0 ELSE 0.0 END,
                   CASE WHEN r.purchase_count < 1 THEN NULL
                        WHEN r.purchase_count >= 2 THEN 100.0 ELSE 0.0 END,
                   r.spend, r.prev_spend, r.purchase_count,
                   r.satisfaction, r.satisfaction_count,
                   CASE WHEN r.nps IS NULL THEN NULL
                        WHEN r.nps >= 9 THEN 100.0
                        WHEN r.nps >= 7 THEN 0.0 ELSE -100.0 END,
                   r.nps IS NOT NULL,
                   r.ticket_count, r.complaint_count, r.sla_pct
              FROM facts r
            UNION ALL
            SELECT %(company)s, %(period_type)s, %(start)s, %(end)s,
                   NULL, COUNT(*) FILTER (WHERE b.purchase_count > 0), NULL, NULL, NULL, NULL,
                   FALSE, FALSE, FALSE, NULL, NULL, NULL,
                   SUM(b.spend), SUM(b.prev_spend), SUM(b.purchase_count),
                   NULL, 0, NULL, FALSE, 0, 0, NULL
              FROM buys b
             WHERE NOT EXISTS (SELECT 1 FROM vips v WHERE v.partner_id = b.partner_id)
            HAVING COUNT(*) > 0
            """,
            company=company.id,
            period_type=period_type,
            start=start,
            end=end,
            prev_start=prev_start,
            purchases=purchases,
            answers=answers,
            tickets=tickets,
            retention_level=retention_level,
            columns=SQL(", ").join(SQL.identifier(c) for c in FACT_COLUMNS),
        )

    @api.model
    def _compute_period(self, company, period_type, date_start):
        """Compute the facts of one period of ``company`` again, then its
        summary and the account managers' scorecards.

        :param date_start: any day of the period (its first day usually)
        :return: the number of fact rows written
        """
        start, end, prev_start = self._period_bounds(period_type, date_start)
        # the sources are read with SQL: what the ORM holds must be in the tables
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(
            SQL(
                "DELETE FROM vip_kpi_fact "
                "WHERE company_id = %s AND period_type = %s AND date_start = %s",
                company.id,
                period_type,
                start,
            )
        )
        cr.execute(self._facts_query(company, period_type, start, end, prev_start))
        count = cr.rowcount
        self.env["vip.kpi.fact"].invalidate_model()
        self._compute_summary(company, period_type, start, end)
        if "vip.manager.scorecard" in self.env:
            self.env["vip.manager.scorecard"]._compute_period(company, period_type, start)
        return count

    @api.model
    def _compute_range(self, company, period_type, date_from, date_to):
        """Compute every period of ``period_type`` starting between
        ``date_from`` and ``date_to`` (both included).

        :return: the number of fact rows written
        """
        date_from = fields.Date.to_date(date_from)
        date_to = fields.Date.to_date(date_to)
        start = self._period_start(period_type, date_from)
        if start < date_from:
            start += relativedelta(months=PERIOD_MONTHS[period_type])
        count = 0
        while start <= date_to:
            count += self._compute_period(company, period_type, start)
            start += relativedelta(months=PERIOD_MONTHS[period_type])
        return count

    @api.model
    def _compute_summary(self, company, period_type, start, end):
        """Refresh the ``vip.kpi.period`` row of one period from its facts,
        with the company's targets of now."""
        self.env.cr.execute(
            SQL(
                """
                SELECT COUNT(*) FILTER (WHERE is_vip_start),
                       COUNT(*) FILTER (WHERE is_vip_end),
                       COUNT(*) FILTER (WHERE movement = 'new'),
                       COUNT(*) FILTER (WHERE movement = 'lost'),
                       AVG(retention_pct), AVG(renewal_pct), AVG(repeat_pct),
                       AVG(satisfaction), AVG(nps_pct),
                       COALESCE(SUM(spend) FILTER (WHERE partner_id IS NOT NULL), 0),
                       COALESCE(SUM(spend), 0)
                  FROM vip_kpi_fact
                 WHERE company_id = %s AND period_type = %s AND date_start = %s
                """,
                company.id,
                period_type,
                start,
            )
        )
        (
            vip_start,
            vip_end,
            new,
            lost,
            retention,
            renewal,
            repeat,
            satisfaction,
            nps,
            vip_spend,
            total_spend,
        ) = self.env.cr.fetchone()
        company = company.sudo()  # the targets are read for the summary, whoever computes
        targets = {
            "retention": (retention, company.vip_target_retention),
            "renewal": (renewal, company.vip_target_renewal),
            "repeat": (repeat, company.vip_target_repeat),
            "satisfaction": (satisfaction, company.vip_target_satisfaction),
            "nps": (nps, company.vip_target_nps),
        }
        vals = {
            "name": self._period_name(period_type, start),
            "date_end": end,
            "computed_at": fields.Datetime.now(),
            # the day the engine decides by (the cron's local day, as for what has ended),
            # not computed_at's UTC day: east of UTC a night run after the end is still
            # the period's last day in UTC
            "is_partial": fields.Date.context_today(self) <= end,
            "vip_start_count": vip_start,
            "vip_end_count": vip_end,
            "new_count": new,
            "lost_count": lost,
            "retention_rate": retention or 0.0,
            "renewal_rate": renewal or 0.0,
            "repeat_rate": repeat or 0.0,
            "satisfaction": satisfaction or 0.0,
            "nps": nps or 0.0,
            "vip_spend": vip_spend,
            "total_spend": total_spend,
            "vip_spend_share": (
                100.0 * vip_spend / total_spend
                if self.env["vip.kpi.period"]._is_spend_share_defined(vip_spend, total_spend)
                else 0.0
            ),
        }
        for key, (value, target) in targets.items():
            vals[f"target_{key}"] = target
            vals[f"has_{key}"] = value is not None
            vals[f"{key}_ok"] = value is not None and float(value) >= target
        # sudo + context: the summary is written by the engine only (see the mixin)
        periods = self.env["vip.kpi.period"].sudo().with_context(**{ENGINE_CONTEXT_KEY: True})
        period = periods.search(
            [
                ("company_id", "=", company.id),
                ("period_type", "=", period_type),
                ("date_start", "=", start),
            ]
        )
        if period:
            period.write(vals)
        else:
            period = periods.create(
                dict(vals, company_id=company.id, period_type=period_type, date_start=start)
            )
        return period

    # ------------------------------------------------------------------
    # Cron
    # ------------------------------------------------------------------
    @api.model
    def _get_kpi_companies(self):
        """The companies with VIP tiers (archived ones included: their
        customers' history still counts)."""
        tiers = self.env["vip.tier"].sudo().with_context(active_test=False)
        return [company for (company,) in tiers._read_group([], ["company_id"], order="company_id")]

    @api.model
    def _pending_kpi_work(self, company, today):
        """The periods the cron still has to compute for ``company`` today, in
        order, as ``(kind, [(period_type, date_start), ...])`` units: each
        history month (with its quarter and year when it starts one), then
        the day's step (the periods just ended, once, and the current ones)
        unless it is done already."""
        units = []
        cursor = company.vip_kpi_history_cursor
        month_start = self._period_start("month", today)
        while cursor and cursor < month_start:
            periods = [("month", cursor)]
            if cursor.month in (1, 4, 7, 10):
                periods.append(("quarter", cursor))
            if cursor.month == 1:
                periods.append(("year", cursor))
            units.append(("history", periods))
            cursor += relativedelta(months=1)
        if company.vip_kpi_date != today:
            periods = []
            for period_type in ("month", "quarter", "year"):
                current = self._period_start(period_type, today)
                last_run = company.vip_kpi_date
                if not last_run or last_run < current:
                    periods.append(
                        (period_type, current - relativedelta(months=PERIOD_MONTHS[period_type]))
                    )
                periods.append((period_type, current))
            units.append(("today", periods))
        return units

    @api.model
    def _cron_compute_kpis(self, batch_size=KPI_BATCH_SIZE):
        """Nightly: compute batches of at most ``batch_size`` periods (a day's
        step of one company is never split), report the progress and return;
        Odoo's runner commits and calls again while some remain. Called by the
        runner, a call sizes its batches by time (``ir.cron._vip_call_budget``,
        a first batch of one unit) until its share of the server's cron limit
        is spent; otherwise it is one batch.

        Each company with VIP tiers gets, once a day, its current month,
        quarter and year, and, on the first run after they end, the periods
        just ended (so the last days of a month are counted in it). A history
        recomputation (:meth:`_request_kpi_run`) adds its past months first.
        """
        budget = self.env["ir.cron"]._vip_call_budget(batch_size, 1)
        if budget.deferred:
            return self.env["ir.cron"]._vip_defer_call()
        today = fields.Date.context_today(self)
        done = remaining = 0
        for size in budget:
            count, remaining = self._compute_kpi_batch(today, size)
            budget.spent(count)
            done += count
            if not remaining:
                budget.stop()
        _logger.info("VIP KPIs: %s periods computed, %s remaining", done, remaining)
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done

    @api.model
    def _compute_kpi_batch(self, today, batch_size):
        """The next units of KPI work, in order, up to ``batch_size`` periods
        (at least one unit).

        :return: ``(periods computed, periods left)``
        """
        engine = self.sudo()  # every company's KPIs, whoever runs the job
        done = 0
        remaining = 0
        full = False  # once a unit does not fit, the ones after it wait too (in order)
        for company in engine._get_kpi_companies():
            company = company.sudo()
            for kind, periods in engine._pending_kpi_work(company, today):
                if full or (done and done + len(periods) > batch_size):
                    full = True
                    remaining += len(periods)
                    continue
                for period_type, date_start in periods:
                    engine._compute_period(company, period_type, date_start)
                done += len(periods)
                if kind == "history":
                    next_month = periods[0][1] + relativedelta(months=1)
                    company.vip_kpi_history_cursor = (
                        next_month if next_month < self._period_start("month", today) else False
                    )
                else:
                    company.vip_kpi_date = today
        return done, remaining

    @api.model
    def _request_kpi_run(self, companies, history=False):
        """Compute the KPIs of ``companies`` again in the background: their
        day's step starts over (and, with ``history``, the last 24 months
        too), and the KPI cron is triggered.

        :return: the ``ir.cron.trigger`` created
        """
        if not self.env.user.has_group("vip_customer.group_vip_manager"):
            raise AccessError(self.env._("Only VIP managers can recompute the program KPIs."))
        today = fields.Date.context_today(self)
        vals = {"vip_kpi_date": False}
        if history:
            vals["vip_kpi_history_cursor"] = self._period_start("month", today) - relativedelta(
                months=HISTORY_MONTHS
            )
        # sudo: VIP managers may not write companies; these are the cron's own fields
        companies.sudo().write(vals)
        # sudo: the cron is an admin record; the caller's rights were checked
        cron = self.env.ref("vip_customer.ir_cron_vip_compute_kpis").sudo()
        return cron._trigger()
