"""The VIP tier engine: one run over the customers of a company.

``_recompute`` evaluates customers in batches within the transaction: the
aggregate query, the per-customer evaluation (the hooks of
``vip_tier_engine.py``) and the writes. The nightly cron calls it with one
batch per call (``vip_tier_engine_cron.py``).
"""

import datetime
import logging

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools.vip_rules import months_ago, recency_change_days, window_exit_date
from .vip_tier_engine import BATCH_SIZE, CHURN_COLUMNS, STATE_COLUMNS

_logger = logging.getLogger(__name__)


def _normalizer(field):
    """How a column's old and new values are compared and written: amounts to
    the cent, counts as integers, empty values (None, False) alike."""
    sql_type = field.column_type[0]
    if sql_type in ("numeric", "float8"):
        return lambda value: round(float(value), 2) if value else 0.0
    if field.type == "many2one":
        return lambda value: int(value) if value else None
    if sql_type == "int4":
        return lambda value: int(value) if value else 0
    if sql_type == "bool":
        return bool
    return lambda value: value or None


class VipTierEngine(models.AbstractModel):
    _inherit = "vip.tier.engine"  # pylint: disable=consider-merging-classes-inherited

    # ------------------------------------------------------------------
    # Evaluation
    # ------------------------------------------------------------------
    @api.model
    def _recompute_partners(self, partners):
        """Re-evaluate some customers now, in their program's company."""
        partners.check_access("read")
        by_company = {}
        for partner in partners.commercial_partner_id:
            company = partner.vip_company_id or partner.company_id or self.env.company
            by_company.setdefault(company, self.env["res.partner"])
            by_company[company] |= partner
        result = {"evaluated": 0, "changed": 0}
        for company, company_partners in by_company.items():
            stats = self._recompute(company, partner_ids=company_partners.ids)
            result["evaluated"] += stats["evaluated"]
            result["changed"] += stats["changed"]
        return result

    @api.model
    def _recompute(self, company, partner_ids=None, batch_size=BATCH_SIZE, today=None):
        """Evaluate now, in this transaction, the customers of ``company``
        (every one, or only ``partner_ids``), ``batch_size`` at a time.

        The nightly cron calls it with one batch of ``partner_ids`` per call
        (see ``_cron_recompute_tiers``); a customer's "Re-evaluate now", a
        merge and the demo call it directly. It never commits. Memory stays
        bounded whatever the number of customers: each batch is found by
        keyset (the next ``batch_size`` customer ids), aggregated and written
        before the next one is read.

        :param today: the evaluation date (default: today)
        :return: ``{"evaluated": n, "changed": number of tier changes}``
        """
        today = today or fields.Date.context_today(self)
        self = self.sudo().with_company(company)  # rules decide, not the caller: see docstring
        context = self._prepare_run_context(company, today)
        stats = {"evaluated": 0, "changed": 0}
        for ids in self._iter_batches(company, partner_ids, batch_size, today):
            # the marks before the purchases: one made from now on is kept (_write_sql)
            marks = self._read_marks(ids)
            rows = self._fetch_rows(
                company, context["windows"], context, context["horizon"], ids
            )
            stats["changed"] += self._process_batch(
                company, rows, context["rules"], context["windows"], context, marks=marks
            )
            stats["evaluated"] += len(rows)
            # their lifetime purchases may have changed: the next customer value
            # refresh aggregates them again (an incremental one only these)
            self.env["res.partner"]._vip_value_mark_dirty(company, ids)
        _logger.info(
            "VIP tiers of %s: %s customers evaluated, %s tier changes",
            company.name,
            stats["evaluated"],
            stats["changed"],
        )
        return stats

    def _read_marks(self, ids):
        """``{partner_id: vip_eval_mark}`` of a batch, read before its purchases."""
        self.env["res.partner"].flush_model(["vip_eval_mark"])
        rows = self.env.execute_query(
            SQL(
                "SELECT id, COALESCE(vip_eval_mark, 0) FROM res_partner WHERE id = ANY(%s)",
                list(ids),
            )
        )
        return dict(rows)

    def _iter_batches(self, company, partner_ids, batch_size, today):
        """The ids of each batch: ``partner_ids`` in slices, or every customer
        of ``company`` by keyset (``id > last``), one query per batch."""
        if partner_ids is not None:
            ids = sorted(set(partner_ids))
            for start in range(0, len(ids), batch_size):
                yield ids[start : start + batch_size]
            return
        cursor = 0
        while True:
            ids = self._pending_customers(company, cursor, today, limit=batch_size, count=False)[0]
            if not ids:
                return
            yield ids
            if len(ids) < batch_size:
                return
            cursor = ids[-1]

    @api.model
    def _prepare_run_context(self, company, today):
        """The values every customer of ``company`` is evaluated with on ``today``."""
        tiers = self.env["vip.tier"].search([("company_id", "=", company.id)])
        rules = [tier._to_rule() for tier in tiers]
        window = max(company.vip_window_months or 12, 1)
        windows = sorted({window, *(rule.window_months for rule in rules)})
        context = {
            "company": company,
            "rules": rules,
            "windows": windows,
            "today": today,
            "window": window,
            "window_start": months_ago(today, window),
            "prev_start": months_ago(today, 2 * window),
            "window_days": (today - months_ago(today, window)).days,
            "medium": company.vip_churn_medium_threshold,
            "high": company.vip_churn_high_threshold,
        }
        context["horizon"] = min(context["prev_start"], *(months_ago(today, w) for w in windows))
        # the windows a purchase leaves (the previous window too): the days the
        # incremental night re-evaluates a customer (_next_evaluation_date)
        context["boundaries"] = sorted({*windows, 2 * window})
        # the usual interval of a customer with fewer than two purchases is the
        # window's length in days, which moves with the calendar
        day = today + datetime.timedelta(days=1)
        while (day - months_ago(day, window)).days == context["window_days"] and (
            day - today
        ).days < 800:
            day += datetime.timedelta(days=1)
        context["window_days_change"] = day
        return context

    @api.model
    def _get_raw_columns(self):
        """``{field name: field}`` of the columns :meth:`_write_sql` writes: the
        metric columns (:meth:`_get_metric_columns`), the pending downgrade,
        program company and lock, and the churn columns."""
        partner_fields = self.env["res.partner"]._fields
        names = dict.fromkeys((*self._get_metric_columns(), *STATE_COLUMNS, *CHURN_COLUMNS))
        return {name: partner_fields[name] for name in names}

    # ------------------------------------------------------------------
    # The aggregate
    # ------------------------------------------------------------------
    def _customers_where(self, company):
        """Which partners are ``company``'s customers to evaluate (with the
        purchases in ``agg``/``purchases`` or a place in the program):
        commercial partners of that company or shared, not in another
        company's program."""
        return SQL(
            """rp.id = rp.commercial_partner_id
               AND (rp.company_id IS NULL OR rp.company_id = %(company)s)
               AND (rp.vip_company_id IS NULL OR rp.vip_company_id = %(company)s)""",
            company=company.id,
        )

    def _purchases_sql(self, company, horizon):
        sources = self._get_purchase_sources(company, horizon)
        return SQL(" UNION ALL ").join(SQL("(%s)", source) for source in sources)

    def _fetch_rows(self, company, windows, context, horizon, partner_ids=None):
        self.env["account.move"].flush_model()
        self.env["res.partner"].flush_model()
        today = context["today"]
        window_columns = []
        for months in windows:
            start = months_ago(today, months)
            window_columns.append(
                SQL(
                    "SUM(p.amount) FILTER (WHERE p.date >= %(start)s AND p.date <= %(today)s) "
                    "AS %(spend)s, "
                    "SUM(p.purchase_count) FILTER (WHERE p.date >= %(start)s "
                    "AND p.date <= %(today)s) AS %(count)s",
                    start=start,
                    today=today,
                    spend=SQL.identifier(f"spend_{months}"),
                    count=SQL.identifier(f"count_{months}"),
                )
            )
        for months in context["boundaries"]:
            window_columns.append(
                SQL(
                    "MIN(p.date) FILTER (WHERE p.date >= %(start)s AND p.date <= %(today)s) "
                    "AS %(oldest)s",
                    start=months_ago(today, months),
                    today=today,
                    oldest=SQL.identifier(f"oldest_{months}"),
                )
            )
        partner_filter = purchase_filter = SQL("TRUE")
        if partner_ids is not None:
            ids = list(partner_ids)
            # the id range too: with it PostgreSQL reads the batch's slice of the
            # purchase index and the partners by key, instead of estimating a handful
            # of rows and scanning res_partner (half the time of a batch at 200k)
            low, high = (min(ids), max(ids)) if ids else (0, 0)
            partner_filter = SQL("rp.id BETWEEN %s AND %s AND rp.id = ANY(%s)", low, high, ids)
            purchase_filter = SQL(
                "p.partner_id BETWEEN %s AND %s AND p.partner_id = ANY(%s)", low, high, ids
            )
        # Two queries merged here rather than one join: the planner estimates the
        # batch's purchases from statistics, and for customers whose purchases came
        # after the last ANALYZE (new customers buying at once, a bulk load) it
        # expects none, joins by nested loop and aggregates the batch's purchases
        # again for every customer (11.5 s instead of 27 ms for 2,000 customers of a
        # fresh id range). Each query alone has one plan: the index slice aggregated
        # once, the partners by key.
        self.env.cr.execute(
            SQL(
                """
                WITH purchases AS (%(purchases)s)
                SELECT p.partner_id,
                       %(window_columns)s,
                       SUM(p.amount) FILTER (WHERE p.date >= %(prev)s AND p.date < %(start)s)
                           AS prev_spend,
                       SUM(p.purchase_count)
                           FILTER (WHERE p.date >= %(prev)s AND p.date < %(start)s)
                           AS prev_count,
                       MIN(p.date) FILTER (WHERE p.date >= %(start)s AND p.date <= %(today)s
                                             AND p.purchase_count > 0)
                           AS first_date,
                       MAX(p.date) FILTER (WHERE p.date <= %(today)s AND p.purchase_count > 0)
                           AS last_date,
                       MIN(p.date) FILTER (WHERE p.date <= %(today)s AND p.purchase_count > 0)
                           AS horizon_first,
                       SUM(p.purchase_count) FILTER (WHERE p.date <= %(today)s) AS horizon_count,
                       COUNT(*) FILTER (WHERE p.date <= %(today)s) AS current_rows,
                       MIN(p.date) FILTER (WHERE p.date > %(today)s) AS next_purchase_date
                  FROM purchases p
                 WHERE %(purchase_filter)s
                 GROUP BY p.partner_id
                """,
                purchases=self._purchases_sql(company, horizon),
                window_columns=SQL(", ").join(window_columns),
                prev=context["prev_start"],
                start=context["window_start"],
                today=today,
                purchase_filter=purchase_filter,
            )
        )
        no_purchase = dict.fromkeys(column.name for column in self.env.cr.description)
        aggregates = {row["partner_id"]: row for row in self.env.cr.dictfetchall()}
        self.env.cr.execute(
            SQL(
                """
                SELECT rp.id, rp.vip_tier_id AS tier_id, rp.vip_company_id AS program_company_id,
                       rp.vip_downgrade_date AS cur_downgrade_date,
                       rp.vip_account_manager_id, rp.user_id,
                       %(current_columns)s
                  FROM res_partner rp
                 WHERE %(customers)s AND %(partner_filter)s
                 ORDER BY rp.id
                """,
                current_columns=SQL(", ").join(
                    SQL("rp.%s AS %s", SQL.identifier(col), SQL.identifier(f"cur_{col}"))
                    for col in self._get_raw_columns()
                ),
                customers=self._customers_where(company),
                partner_filter=partner_filter,
            )
        )
        rows = []
        for row in self.env.cr.dictfetchall():  # one batch of customers at most
            purchases = aggregates.get(row["id"])
            # a customer with purchases, or one of this program without any (yet)
            if purchases is None and row["program_company_id"] != company.id:
                continue
            row.update(purchases or no_purchase)
            rows.append(row)
        return rows

    # ------------------------------------------------------------------
    # One batch
    # ------------------------------------------------------------------
    def _process_batch(self, company, rows, rules, windows, context, marks=None):
        """Evaluate ``rows`` (see :meth:`_evaluate_customer`) and write what
        changed: the engine's columns raw, tier changes through ``write()``.

        :param marks: ``{partner_id: vip_eval_mark}`` of the customers the
            batch was asked for, read before their purchases: a customer marked
            since keeps its earlier evaluation date; one without a row (no
            purchase left, not in the program) has nothing left to evaluate
        :return: the number of tier changes
        """
        context = dict(context, company=company, rules=rules, windows=windows)
        columns = self._get_raw_columns()
        normalizers = [(col, _normalizer(field)) for col, field in columns.items()]
        # a customer whose purchases are all in the future waits for the first one
        waiting = [
            row
            for row in rows
            if not row.get("current_rows") and row["program_company_id"] != company.id
        ]
        waiting_ids = {row["id"] for row in waiting}
        rows = [row for row in rows if row["id"] not in waiting_ids]
        ids = [row["id"] for row in rows]
        signals = self._get_churn_signals(company, ids) if ids else {}
        signal_dates = self._get_churn_signal_dates(company, ids) if ids else {}
        marks = marks or {}
        updates = []
        tier_changes = []
        new_episodes = []
        for row in rows:
            result = self._evaluate_customer(row, context, signals.get(row["id"], []))
            vals = result["vals"]
            vals["vip_eval_date"] = self._next_evaluation_date(
                row, vals, context, signal_dates.get(row["id"])
            )
            unknown = vals.keys() - columns.keys()
            if unknown:
                raise ValueError(
                    f"vip.tier.engine: {sorted(unknown)} are not engine columns; "
                    "declare metrics in _get_metric_columns()"
                )
            new = tuple(
                norm(vals[col] if col in vals else row[f"cur_{col}"]) for col, norm in normalizers
            )
            old = tuple(norm(row[f"cur_{col}"]) for col, norm in normalizers)
            if new != old:
                updates.append((row["id"], new))
            if result["tier_change"]:
                tier_changes.append(
                    dict(result["tier_change"], partner_id=row["id"], old_tier_id=row["tier_id"])
                )
            if result["new_churn_episode"]:
                new_episodes.append(row)
        if updates:
            self._write_sql(updates, columns, marks=marks)
        nothing_here = marks.keys() - {row["id"] for row in rows + waiting}
        later = self._left_to_later_runs(company, nothing_here, context)
        dates = dict.fromkeys(nothing_here - later)
        dates.update(
            (row["id"], row["next_purchase_date"])
            for row in waiting
            if row["cur_vip_eval_date"] != row["next_purchase_date"]
        )
        self._write_eval_dates(dates, marks)
        if tier_changes:
            self._apply_tier_changes(company, tier_changes, context["today"])
        self._signal_moments(tier_changes, new_episodes, context["today"])
        self.env.flush_all()
        return len(tier_changes)

    def _left_to_later_runs(self, company, partner_ids, context):
        """Of ``partner_ids`` (customers ``company`` found nothing to evaluate
        for), the ones another company may still evaluate: shared partners
        (no company) in no program, while a company after this one has its run
        of the day to come. They keep their evaluation day for that run (one
        may have bought there only); the last run clears it. Outside the
        nightly run (a "Re-evaluate now" made in one company, a merge) they
        always keep it: the next night's runs decide."""
        if not partner_ids:
            return set()
        if self.env.context.get("vip_night_run"):
            companies = self._get_recompute_companies(context["today"])
            if not any(other.id > company.id for other in companies):
                return set()
        self.env["res.partner"].flush_model(["company_id", "vip_company_id"])
        rows = self.env.execute_query(
            SQL(
                """SELECT id FROM res_partner
                    WHERE id = ANY(%s) AND company_id IS NULL AND vip_company_id IS NULL""",
                list(partner_ids),
            )
        )
        return {row[0] for row in rows}

    def _write_eval_dates(self, dates, marks):
        """The evaluation date of the customers of a batch not evaluated: the
        day of their first purchase (all in the future), or none (nothing left
        to evaluate); a customer marked since the batch was read keeps its
        earlier date."""
        if not dates:
            return
        ids = list(dates)
        self.env.cr.execute(
            SQL(
                """UPDATE res_partner rp
                      SET vip_eval_date = CASE
                              WHEN COALESCE(rp.vip_eval_mark, 0) = v.mark THEN v.day
                              ELSE LEAST(rp.vip_eval_date, v.day) END
                     FROM unnest(%(ids)s::int4[], %(days)s::date[], %(marks)s::int4[])
                          AS v(id, day, mark)
                    WHERE rp.id = v.id""",
                ids=ids,
                days=[dates[pid] for pid in ids],
                marks=[marks.get(pid, 0) for pid in ids],
            )
        )
        self.env["res.partner"].browse(ids).invalidate_recordset(["vip_eval_date"])

    def _next_evaluation_date(self, row, vals, context, signal_date=None):
        """The next day this customer's result can change with no new data
        (stored as ``vip_eval_date``; the incremental night evaluates the
        customers whose day has come):

        * the oldest purchase of a window (or of the previous window) leaves it;
        * the next purchase dated in the future counts;
        * a pending downgrade takes effect, a lock ends;
        * the recency component of the churn score moves up a step (with the
          window's length as usual interval, also the day that length changes);
        * a dated churn signal ends (:meth:`_get_churn_signal_dates`).

        Override together with :meth:`_prepare_churn_vals` or
        :meth:`_decide_tier` when they depend on the date in another way.

        :return: a date after ``context["today"]``, or None (nothing changes
            until something is posted or edited)
        """
        today = context["today"]
        # a signal date not after today: evaluated again at the next night
        signal_date = signal_date and max(signal_date, today + datetime.timedelta(days=1))
        candidates = [signal_date, row.get("next_purchase_date")]
        for months in context["boundaries"]:
            oldest = row.get(f"oldest_{months}")
            if oldest:
                candidates.append(window_exit_date(oldest, months))
        candidates.append(vals.get("vip_downgrade_date"))
        locked = vals.get("vip_locked", row["cur_vip_locked"])
        until = vals.get("vip_lock_until", row["cur_vip_lock_until"])
        if locked and until:
            candidates.append(until + datetime.timedelta(days=1))
        last_date = row.get("last_date")
        if last_date:
            first_date = row.get("horizon_first")
            count = int(row.get("horizon_count") or 0)
            if count >= 2 and first_date and last_date > first_date:
                usual = (last_date - first_date).days / (count - 1)
            else:
                usual = context["window_days"]
                candidates.append(context["window_days_change"])
            step = recency_change_days((today - last_date).days, max(usual, 1.0))
            if step:
                candidates.append(today + datetime.timedelta(days=step))
        later = [day for day in candidates if day and day > today]
        return min(later) if later else None

    def _signal_moments(self, tier_changes, new_episodes, today):
        """The key moments of the batch act at once: tier up / tier down for the
        customers whose tier changed, churn risk became high for the new risk
        episodes (the built-in retention call). The nightly key-moment run
        catches anything missed."""
        Partner = self.env["res.partner"].sudo()
        Engine = self.env["vip.moment.engine"].sudo()
        if tier_changes:
            Engine._signal(
                ["tier_up", "tier_down"],
                Partner.browse([change["partner_id"] for change in tier_changes]),
                today=today,
            )
        if new_episodes:
            Engine._signal(
                ["churn_high"], Partner.browse([row["id"] for row in new_episodes]), today=today
            )

    def _write_sql(self, updates, columns=None, marks=None):
        """One ``UPDATE ... FROM unnest(arrays)`` for the batch's changed rows:
        one array parameter per column, whatever the number of rows.

        The raw path of the nightly metrics: ``res.partner.write()`` of the
        same values for every customer whose metrics moved would dominate the
        run. It only writes the engine's own columns (:meth:`_get_raw_columns`):
        fields of this module that nothing tracks and no stored compute
        depends on, so skipping ``write()`` skips nobody's logic (checked by
        ``test_raw_columns_are_hooked_by_nobody``). Tracked or hooked fields,
        the tier first, go through ``write()``.

        :param updates: ``[(partner_id, values in the order of columns)]``
        :param columns: ``{field name: field}`` (default :meth:`_get_raw_columns`)
        :param marks: ``{partner_id: vip_eval_mark}`` read before the batch's
            purchases: a customer marked since (a purchase posted meanwhile)
            keeps its evaluation date when earlier than the new one
        """
        columns = columns or self._get_raw_columns()
        names = list(columns)
        arrays = [[partner_id for partner_id, _values in updates]] + [
            [values[index] for _partner_id, values in updates] for index in range(len(names))
        ]
        sql_types = ["int4"] + [field.column_type[0] for field in columns.values()]
        marks = marks or {}
        arrays.append([marks.get(partner_id, 0) for partner_id, _values in updates])
        sql_types.append("int4")
        self.env.cr.execute(
            SQL(
                "UPDATE res_partner rp SET %(assignments)s, write_date = NOW() AT TIME ZONE 'UTC' "
                "FROM unnest(%(arrays)s) AS v(id, %(names)s) WHERE rp.id = v.id",
                assignments=SQL(", ").join(
                    SQL(
                        "vip_eval_date = CASE "
                        "WHEN COALESCE(rp.vip_eval_mark, 0) = v.old_mark "
                        "THEN v.vip_eval_date "
                        "ELSE LEAST(rp.vip_eval_date, v.vip_eval_date) END"
                    )
                    if col == "vip_eval_date"
                    else SQL("%s = v.%s", SQL.identifier(col), SQL.identifier(col))
                    for col in names
                ),
                arrays=SQL(", ").join(
                    SQL("%s::" + sql_type + "[]", array)
                    for array, sql_type in zip(arrays, sql_types, strict=True)
                ),
                names=SQL(", ").join([*(SQL.identifier(col) for col in names), SQL("old_mark")]),
            )
        )
        # what the cache holds of these columns is stale, and so are the
        # non-stored fields computed from them (the downgrade banner, "at risk")
        partners = self.env["res.partner"].browse(arrays[0])
        partners.invalidate_recordset(names)
        partners.modified(names)
