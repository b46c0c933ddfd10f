"""The VIP tier engine.

One run per company: a single aggregate query over every purchase source
(posted customer invoices minus refunds by default) gives each commercial
partner's spend and purchase count per window; the pure rules in
``tools.vip_rules`` decide tiers and churn risk; only the customers whose
values change are written, in batches:

* metrics, churn and pending downgrades with one ``UPDATE ... FROM (VALUES)``
  per batch (they change for many customers as the window rolls);
* tier changes through the ORM, grouped by new tier, with a tier history row
  and a chatter note per customer created in batch.

Extension points (override on ``vip.tier.engine``):

* :meth:`_get_purchase_sources` - add purchase sources, e.g. POS orders: return
  more ``SQL`` queries yielding ``partner_id, date, amount, purchase_count``;
* :meth:`_get_churn_signals` - add churn signals (open complaints, detractors);
* :meth:`_prepare_metrics_vals` - store more metrics from the aggregate row.
"""

import datetime
import logging
import threading
from collections import defaultdict

from markupsafe import escape

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools.vip_rules import (
    churn_level,
    churn_score,
    decide_tier,
    months_ago,
)

_logger = logging.getLogger(__name__)

BATCH_SIZE = 5000
# time of day of the notes of a run for a past date (midday: the same day in every time zone)
NOTE_TIME = datetime.time(12, 0)

# Columns the engine writes with raw SQL, with their SQL types. Every one of
# them is a plain stored field of res.partner declared in this module.
SQL_COLUMNS = {
    "vip_tier_id": "int4",
    "vip_tier_since": "date",
    "vip_spend": "numeric",
    "vip_purchase_count": "int4",
    "vip_avg_purchase": "numeric",
    "vip_first_purchase_date": "date",
    "vip_last_purchase_date": "date",
    "vip_prev_spend": "numeric",
    "vip_prev_purchase_count": "int4",
    "vip_pending_tier_id": "int4",
    "vip_downgrade_date": "date",
    "vip_churn_score": "int4",
    "vip_churn_recency_score": "int4",
    "vip_churn_frequency_score": "int4",
    "vip_churn_spend_score": "int4",
    "vip_churn_signal_score": "int4",
    "vip_churn_signal_note": "varchar",
    "vip_churn_level": "varchar",
    "vip_churn_high_since": "date",
    "vip_company_id": "int4",
    "vip_locked": "bool",
    "vip_lock_reason": "varchar",
    "vip_lock_until": "date",
}


# Many2one columns: empty is NULL, never 0.
ID_COLUMNS = {"vip_tier_id", "vip_pending_tier_id", "vip_company_id"}


def _normalizer(col, sql_type):
    """How a column's old and new values are compared and written: amounts to
    the cent, counts as integers, empty values (None, False) alike."""
    if sql_type == "numeric":
        return lambda value: round(float(value), 2) if value else 0.0
    if col in ID_COLUMNS:
        return lambda value: int(value) if value else None
    if sql_type == "int4":
        return lambda value: int(value) if value else 0
    if sql_type == "bool":
        return bool
    return lambda value: value or None


NORMALIZERS = tuple((col, _normalizer(col, sql_type)) for col, sql_type in SQL_COLUMNS.items())


class VipTierEngine(models.AbstractModel):
    _name = "vip.tier.engine"
    _description = "VIP Tier Engine"

    # ------------------------------------------------------------------
    # Hooks
    # ------------------------------------------------------------------
    @api.model
    def _get_purchase_sources(self, company, date_from):
        """Queries yielding one row per purchase event of ``company`` since
        ``date_from``, with the columns ``partner_id`` (commercial partner),
        ``date``, ``amount`` (company currency, negative for refunds) and
        ``purchase_count`` (1 for a purchase, 0 for a refund or adjustment).

        Override and append to the list to count other sources. The engine
        wraps them in ``UNION ALL`` and aggregates once.
        """
        amount = (
            SQL("m.amount_total_signed")
            if company.vip_spend_basis == "total"
            else SQL("m.amount_untaxed_signed")
        )
        return [
            SQL(
                """
                SELECT m.commercial_partner_id AS partner_id,
                       m.invoice_date AS date,
                       %(amount)s AS amount,
                       CASE WHEN m.move_type = 'out_invoice'
                             AND m.payment_state IS DISTINCT FROM 'reversed'
                            THEN 1 ELSE 0 END AS purchase_count
                  FROM account_move m
                 WHERE m.company_id = %(company)s
                   AND m.state = 'posted'
                   AND m.move_type IN ('out_invoice', 'out_refund')
                   AND m.invoice_date >= %(date_from)s
                   AND m.commercial_partner_id IS NOT NULL
                """,
                amount=amount,
                company=company.id,
                date_from=date_from,
            )
        ]

    @api.model
    def _get_churn_signals(self, company, partner_ids):
        """Extra churn risk points per customer: ``{partner_id: [(points, label)]}``.

        Called once per batch with the batch's partner ids: answer with one
        set-based query, not one per partner. The points are added to the
        weighted score (capped at 100) and the labels shown on the customer.
        """
        return {}

    @api.model
    def _prepare_metrics_vals(self, row, context):
        """Metric values to store from an aggregate ``row`` (a dict).

        ``context`` holds ``today``, ``window`` (company window in months) and
        the date bounds. Override to store more metrics; the keys must be
        columns listed in ``SQL_COLUMNS`` or stored fields of res.partner.
        """
        window = context["window"]
        spend = float(row.get(f"spend_{window}") or 0.0)
        count = int(row.get(f"count_{window}") or 0)
        return {
            "vip_spend": round(spend, 2),
            "vip_purchase_count": count,
            "vip_avg_purchase": round(spend / count, 2) if count else 0.0,
            "vip_first_purchase_date": row.get("first_date"),
            "vip_last_purchase_date": row.get("last_date"),
            "vip_prev_spend": round(float(row.get("prev_spend") or 0.0), 2),
            "vip_prev_purchase_count": int(row.get("prev_count") or 0),
        }

    # ------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------
    @api.model
    def _cron_recompute_tiers(self):
        """Nightly run over every company with a VIP program.

        Commits after each batch and records the last partner done on the
        company: a scheduled run called again the same day (after a worker was
        killed by the time limit) resumes there, and once the day's run is
        complete does nothing more that day. Run by hand ("Run Manually"), it
        evaluates every customer again. The log says which, per company; the
        cron's progress counts the customers evaluated.
        """
        manual = self._is_manual_cron_run()
        # every company: a handful of records
        companies = self.env["res.company"].sudo().search([])  # pylint: disable=no-search-all
        auto_commit = not getattr(threading.current_thread(), "testing", False)
        done = 0
        for company in companies:
            done += self._recompute(company, full=manual, auto_commit=auto_commit)["evaluated"]
        self.env["ir.cron"]._notify_progress(done=done, remaining=0)

    @api.model
    def _is_manual_cron_run(self):
        """True when the cron runs from "Run Manually" (``ir.cron.method_direct_trigger``).

        Odoo's scheduler runs a job with ``cron_id`` in the context; the manual
        trigger runs it with a progress record (``ir_cron_progress_id``) but no
        ``cron_id``. Neither reaches here from RPC: the cron method is private.
        """
        context = self.env.context
        return bool(context.get("ir_cron_progress_id")) and not context.get("cron_id")

    @api.model
    def _recompute_partners(self, partners):
        """Re-evaluate some customers now, in their program's company."""
        partners.check_access("read")
        by_company = defaultdict(lambda: self.env["res.partner"])
        for partner in partners.commercial_partner_id:
            company = partner.vip_company_id or partner.company_id or self.env.company
            by_company[company] |= partner
        result = {"evaluated": 0, "changed": 0}
        for company, company_partners in by_company.items():
            stats = self._recompute(company, partner_ids=company_partners.ids, full=True)
            result["evaluated"] += stats["evaluated"]
            result["changed"] += stats["changed"]
        return result

    @api.model
    def _recompute(
        self,
        company,
        partner_ids=None,
        full=False,
        auto_commit=False,
        batch_size=BATCH_SIZE,
        today=None,
    ):
        """Evaluate the customers of ``company`` (or only ``partner_ids``).

        :param full: ignore the resume point of an interrupted nightly run,
            and evaluate even if the nightly run of ``today`` is complete
        :param auto_commit: commit after each batch (crons only)
        :return: ``{"evaluated": n, "changed": number of tier changes, "mode":
            "full" | "resumed" | "done today" | "customers"}``
        """
        today = today or fields.Date.context_today(self)
        self = self.sudo().with_company(company)  # rules decide, not the caller: see docstring
        cursor_id = 0
        mode = "customers" if partner_ids is not None else "full"
        if partner_ids is None and not full and company.vip_recompute_date == today:
            if not company.vip_recompute_cursor:
                _logger.info(
                    "VIP tiers of %s: already evaluated today, nothing to do "
                    "(run the cron by hand to evaluate again)",
                    company.name,
                )
                return {"evaluated": 0, "changed": 0, "mode": "done today"}
            cursor_id = company.vip_recompute_cursor
            mode = "resumed"
            _logger.info(
                "VIP tiers of %s: resuming today's interrupted run after customer #%s",
                company.name,
                cursor_id,
            )
        elif partner_ids is None:
            _logger.info(
                "VIP tiers of %s: %s run, evaluating every customer",
                company.name,
                "manual" if full else "nightly",
            )
        tiers = self.env["vip.tier"].search([("company_id", "=", company.id)])
        rules = [tier._to_rule() for tier in tiers]
        window = max(company.vip_window_months or 12, 1)
        windows = sorted({window, *(rule.window_months for rule in rules)})
        context = {
            "today": today,
            "window": window,
            "window_start": months_ago(today, window),
            "prev_start": months_ago(today, 2 * window),
            "window_days": (today - months_ago(today, window)).days,
            "medium": company.vip_churn_medium_threshold,
            "high": company.vip_churn_high_threshold,
        }
        horizon = min(context["prev_start"], *(months_ago(today, w) for w in windows))
        rows = self._fetch_rows(company, windows, context, horizon, partner_ids, cursor_id)
        stats = {"evaluated": 0, "changed": 0, "mode": mode}
        total = len(rows)
        for start in range(0, total, batch_size):
            batch = rows[start : start + batch_size]
            stats["changed"] += self._process_batch(company, batch, rules, windows, context)
            stats["evaluated"] += len(batch)
            if partner_ids is None:
                self._save_resume_point(company, batch[-1]["id"], today)
            if auto_commit:
                self.env["ir.cron"]._notify_progress(
                    done=stats["evaluated"], remaining=total - stats["evaluated"]
                )
                self.env.cr.commit()  # pylint: disable=invalid-commit
        if partner_ids is None:
            self._save_resume_point(company, 0, today)
        _logger.info(
            "VIP tiers of %s (%s): %s customers evaluated, %s tier changes",
            company.name,
            mode,
            stats["evaluated"],
            stats["changed"],
        )
        return stats

    def _save_resume_point(self, company, partner_id, today):
        # Plain SQL: res.company.write() does far more than these two columns need.
        self.env.cr.execute(
            SQL(
                "UPDATE res_company SET vip_recompute_cursor = %s, vip_recompute_date = %s "
                "WHERE id = %s",
                partner_id,
                today,
                company.id,
            )
        )
        company.invalidate_recordset(["vip_recompute_cursor", "vip_recompute_date"])

    # ------------------------------------------------------------------
    # The aggregate
    # ------------------------------------------------------------------
    def _fetch_rows(self, company, windows, context, horizon, partner_ids, cursor_id):
        self.env["account.move"].flush_model()
        self.env["res.partner"].flush_model()
        sources = self._get_purchase_sources(company, horizon)
        purchases = SQL(" UNION ALL ").join(SQL("(%s)", source) for source in sources)
        today = context["today"]
        window_columns = []
        for months in windows:
            start = months_ago(today, months)
            window_columns.append(
                SQL(
                    "SUM(p.amount) FILTER (WHERE p.date >= %(start)s) AS %(spend)s, "
                    "SUM(p.purchase_count) FILTER (WHERE p.date >= %(start)s) AS %(count)s",
                    start=start,
                    spend=SQL.identifier(f"spend_{months}"),
                    count=SQL.identifier(f"count_{months}"),
                )
            )
        partner_filter = SQL("TRUE")
        if partner_ids is not None:
            partner_filter = SQL("rp.id = ANY(%s)", list(partner_ids))
        query = SQL(
            """
            WITH purchases AS (%(purchases)s),
            agg AS (
                SELECT p.partner_id,
                       %(window_columns)s,
                       SUM(p.amount) FILTER (WHERE p.date >= %(prev)s AND p.date < %(start)s)
                           AS prev_spend,
                       SUM(p.purchase_count)
                           FILTER (WHERE p.date >= %(prev)s AND p.date < %(start)s)
                           AS prev_count,
                       MIN(p.date) FILTER (WHERE p.date >= %(start)s AND p.purchase_count > 0)
                           AS first_date,
                       MAX(p.date) FILTER (WHERE p.purchase_count > 0) AS last_date,
                       MIN(p.date) FILTER (WHERE p.purchase_count > 0) AS horizon_first,
                       SUM(p.purchase_count) AS horizon_count
                  FROM purchases p
                 WHERE p.partner_id > %(cursor)s AND p.date <= %(today)s
                 GROUP BY p.partner_id
            )
            SELECT rp.id, rp.vip_tier_id AS tier_id, rp.vip_company_id AS program_company_id,
                   rp.vip_downgrade_date AS cur_downgrade_date,
                   rp.vip_account_manager_id, rp.user_id,
                   %(current_columns)s,
                   agg.*
              FROM res_partner rp
              LEFT JOIN agg ON agg.partner_id = rp.id
             WHERE rp.id > %(cursor)s
               AND rp.id = rp.commercial_partner_id
               AND (rp.company_id IS NULL OR rp.company_id = %(company)s)
               AND (rp.vip_company_id IS NULL OR rp.vip_company_id = %(company)s)
               AND (agg.partner_id IS NOT NULL OR rp.vip_company_id = %(company)s)
               AND %(partner_filter)s
             ORDER BY rp.id
            """,
            purchases=purchases,
            window_columns=SQL(", ").join(window_columns),
            prev=context["prev_start"],
            start=context["window_start"],
            cursor=cursor_id,
            today=today,
            current_columns=SQL(", ").join(
                SQL("rp.%s AS %s", SQL.identifier(col), SQL.identifier(f"cur_{col}"))
                for col in SQL_COLUMNS
            ),
            company=company.id,
            partner_filter=partner_filter,
        )
        self.env.cr.execute(query)
        return self.env.cr.dictfetchall()

    # ------------------------------------------------------------------
    # One batch
    # ------------------------------------------------------------------
    def _process_batch(self, company, rows, rules, windows, context):
        today = context["today"]
        ids = [row["id"] for row in rows]
        signals = self._get_churn_signals(company, ids) if ids else {}
        updates = []
        tier_changes = []
        new_episodes = []
        for row in rows:
            vals = self._prepare_metrics_vals(row, context)
            vals["vip_company_id"] = company.id
            metrics = {
                months: (
                    float(row.get(f"spend_{months}") or 0.0),
                    int(row.get(f"count_{months}") or 0),
                )
                for months in windows
            }
            locked = row["cur_vip_locked"]
            if locked and row["cur_vip_lock_until"] and row["cur_vip_lock_until"] < today:
                locked = False
                vals.update(vip_locked=False, vip_lock_reason=False, vip_lock_until=False)
            if locked or not rules:
                vals.update(vip_pending_tier_id=None, vip_downgrade_date=None)
            else:
                decision = decide_tier(
                    rules, metrics, row["tier_id"], row["cur_downgrade_date"], today
                )
                vals.update(
                    vip_pending_tier_id=decision.pending_tier_id,
                    vip_downgrade_date=decision.downgrade_date,
                )
                if decision.change:
                    vals.update(
                        vip_tier_id=decision.tier_id,
                        vip_tier_since=today if decision.tier_id else None,
                    )
                    rule = decision.rule
                    spend, count = metrics.get(
                        rule.window_months if rule else context["window"], (0.0, 0)
                    )
                    tier_changes.append(
                        {
                            "partner_id": row["id"],
                            "old_tier_id": row["tier_id"],
                            "new_tier_id": decision.tier_id,
                            "spend": spend,
                            "purchase_count": count,
                            "window_months": rule.window_months if rule else context["window"],
                        }
                    )
            # churn
            partner_signals = signals.get(row["id"], [])
            score = churn_score(
                today,
                row.get("last_date"),
                row.get("horizon_first"),
                int(row.get("horizon_count") or 0),
                vals["vip_purchase_count"],
                vals["vip_prev_purchase_count"],
                vals["vip_spend"],
                vals["vip_prev_spend"],
                context["window_days"],
                signals=sum(points for points, _label in partner_signals),
            )
            level = churn_level(score.total, context["medium"], context["high"])
            high_since = row["cur_vip_churn_high_since"]
            if level == "high" and not high_since:
                high_since = today
                new_episodes.append(row)
            elif level != "high":
                high_since = None
            vals.update(
                vip_churn_score=score.total,
                vip_churn_recency_score=score.recency,
                vip_churn_frequency_score=score.frequency,
                vip_churn_spend_score=score.spend,
                vip_churn_signal_score=score.signals,
                vip_churn_signal_note=", ".join(label for _p, label in partner_signals) or None,
                vip_churn_level=level,
                vip_churn_high_since=high_since,
            )
            new = tuple(
                norm(vals[col] if col in vals else row[f"cur_{col}"]) for col, norm in NORMALIZERS
            )
            old = tuple(norm(row[f"cur_{col}"]) for col, norm in NORMALIZERS)
            if new != old:
                updates.append((row["id"], new))
        if updates:
            self._write_sql(updates)
        if tier_changes:
            self._apply_tier_changes(company, tier_changes, today)
        if new_episodes:
            self._schedule_retention_activities(new_episodes)
        self.env.flush_all()
        return len(tier_changes)

    def _write_sql(self, updates):
        """One ``UPDATE ... FROM unnest(arrays)`` for the batch's changed rows:
        one array parameter per column, whatever the number of rows."""
        columns = list(SQL_COLUMNS)
        arrays = [[partner_id for partner_id, _values in updates]] + [
            [values[index] for _partner_id, values in updates] for index in range(len(columns))
        ]
        self.env.cr.execute(
            SQL(
                "UPDATE res_partner rp SET %(assignments)s, write_date = NOW() AT TIME ZONE 'UTC' "
                "FROM unnest(%(arrays)s) AS v(id, %(names)s) WHERE rp.id = v.id",
                assignments=SQL(", ").join(
                    SQL("%s = v.%s", SQL.identifier(col), SQL.identifier(col)) for col in columns
                ),
                arrays=SQL(", ").join(
                    SQL("%s::" + sql_type + "[]", array)
                    for array, sql_type in zip(arrays, ["int4", *SQL_COLUMNS.values()], strict=True)
                ),
                names=SQL(", ").join(SQL.identifier(col) for col in columns),
            )
        )
        self.env["res.partner"].invalidate_model(columns)

    # ------------------------------------------------------------------
    # Tier changes
    # ------------------------------------------------------------------
    def _apply_tier_changes(self, company, changes, today):
        Partner = self.env["res.partner"].with_context(vip_engine=True, tracking_disable=True)
        Tier = self.env["vip.tier"]
        partners = Partner.browse([change["partner_id"] for change in changes])
        old_tiers = {change["partner_id"]: Tier.browse(change["old_tier_id"]) for change in changes}
        # The tier columns were written with the batch's UPDATE: copy the tier
        # onto the customers' contacts, then let the ORM recompute what depends
        # on it (next follow-up date, other add-ons' stored fields).
        self.env.cr.execute(
            SQL(
                """
                UPDATE res_partner contact
                   SET vip_tier_id = parent.vip_tier_id
                  FROM res_partner parent
                 WHERE parent.id = ANY(%(ids)s)
                   AND contact.commercial_partner_id = parent.id
                   AND contact.id != parent.id
                   AND contact.vip_tier_id IS DISTINCT FROM parent.vip_tier_id
             RETURNING contact.id
                """,
                ids=partners.ids,
            )
        )
        contacts = Partner.browse([row[0] for row in self.env.cr.fetchall()])
        Partner.invalidate_model(["vip_tier_id"])
        partners.modified(["vip_tier_id", "vip_tier_since"])
        contacts.modified(["vip_tier_id"])
        # dedicated account manager for tiers that require one
        needing = partners.filtered(
            lambda p: (
                p.vip_tier_id.account_manager_required
                and not p.vip_account_manager_id
                and p.user_id
                # only VIP users may be account managers (see res.partner)
                and p.user_id._has_group("vip_customer.group_vip_user")
            )
        )
        for user, group in needing.grouped("user_id").items():
            group.write({"vip_account_manager_id": user.id})
        self._log_tier_changes(
            [
                {
                    "partner": Partner.browse(change["partner_id"]),
                    "old_tier": old_tiers[change["partner_id"]],
                    "new_tier": Tier.browse(change["new_tier_id"]),
                    "reason": "rule",
                    "date": today,
                    "spend": change["spend"],
                    "purchase_count": change["purchase_count"],
                    "window_months": change["window_months"],
                }
                for change in changes
            ]
        )
        self._apply_tier_pricelists(partners, old_tiers)

    @api.model
    def _log_tier_changes(self, changes):
        """Tier history rows and chatter notes for a batch of changes.

        ``changes``: dicts with ``partner``, ``old_tier``, ``new_tier``,
        ``reason`` and optionally ``date`` (the evaluation date, default today),
        ``spend``, ``purchase_count``, ``window_months`` and ``note``. Without
        metrics (a tier set by hand or imported) the row records the customer's
        current ones, so the history always shows what the customer stood at.

        Each note is written in the language of the people who read the
        customer's chatter (see ``res.partner._vip_get_note_lang``).
        """
        if not changes:
            return
        History = self.env["vip.tier.history"].sudo()  # audit rows are created for the rules too
        today = fields.Date.context_today(self)
        history_vals = []
        by_lang = defaultdict(list)
        for change in changes:
            partner = change["partner"]
            old, new = change["old_tier"], change["new_tier"]
            company = (new or old).company_id or self.env.company
            direction = History._direction(old, new)
            has_metrics = "spend" in change or "purchase_count" in change
            history_vals.append(
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "date": change.get("date") or today,
                    "old_tier_id": old.id or False,
                    "new_tier_id": new.id or False,
                    "direction": direction,
                    "reason": change["reason"],
                    "spend": change.get("spend") if has_metrics else partner.vip_spend,
                    "purchase_count": (
                        change.get("purchase_count")
                        if has_metrics
                        else partner.vip_purchase_count
                    ),
                    "window_months": change.get("window_months")
                    or (partner.vip_company_id or company).vip_window_months
                    or 12,
                    "note": change.get("note") or False,
                    "user_id": self.env.uid,
                }
            )
            by_lang[partner._vip_get_note_lang()].append((partner, old, new, direction, change))
        bodies, dates = {}, {}
        for lang, lang_changes in by_lang.items():
            engine = self.with_context(lang=lang)
            for partner, old, new, direction, change in lang_changes:
                bodies[partner.id] = engine._prepare_tier_note(
                    old, new, direction, change["reason"]
                )
                # a run for a past date (a replay, the demo) notes the change on that day
                if change.get("date") and change["date"] < today:
                    dates[partner.id] = datetime.datetime.combine(change["date"], NOTE_TIME)
        self._insert_history(history_vals)
        self._insert_notes(bodies, dates)

    def _prepare_tier_note(self, old_tier, new_tier, direction, reason):
        """Hook: the chatter note of one tier change, in the language of the
        context (tier names, direction and reason translated)."""
        env = self.env
        History = env["vip.tier.history"]
        directions = dict(History._fields["direction"]._description_selection(env))
        reasons = dict(History._fields["reason"]._description_selection(env))
        return env._(
            "VIP tier: %(old)s → %(new)s (%(direction)s, %(reason)s)",
            old=old_tier.with_env(env).display_name or env._("none"),
            new=new_tier.with_env(env).display_name or env._("none"),
            direction=directions[direction],
            reason=reasons[reason],
        )

    def _insert_history(self, vals_list):
        """The history rows in one INSERT: an audit table written for every
        change of a nightly run, where create() per row would dominate."""
        columns = {
            "partner_id": "int4",
            "company_id": "int4",
            "date": "date",
            "old_tier_id": "int4",
            "new_tier_id": "int4",
            "direction": "varchar",
            "reason": "varchar",
            "spend": "numeric",
            "purchase_count": "int4",
            "window_months": "int4",
            "note": "varchar",
            "user_id": "int4",
        }
        arrays = SQL(", ").join(
            SQL("%s::" + sql_type + "[]", [vals[col] or None for vals in vals_list])
            for col, sql_type in columns.items()
        )
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO vip_tier_history (%(names)s, create_uid, write_uid,
                                              create_date, write_date)
                SELECT v.*, %(uid)s, %(uid)s,
                       NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC'
                  FROM unnest(%(arrays)s) AS v(%(names)s)
                """,
                names=SQL(", ").join(SQL.identifier(col) for col in columns),
                uid=self.env.uid,
                arrays=arrays,
            )
        )
        self.env["res.partner"].invalidate_model(["vip_tier_history_ids"])

    def _insert_notes(self, bodies, dates=None):
        """Chatter notes on the customers through ``mail.thread._message_log_batch``
        (a note, no notification), so ``mail``'s own logic and other modules'
        overrides of message creation apply. ``dates``: the message date per
        customer when not now (a replay of past days notes the change on that day).
        """
        dates = dates or {}
        if not bodies:
            return
        # sudo: the engine writes the notes of customers the cron user may not read
        partners = self.env["res.partner"].sudo().browse(list(bodies))
        messages = partners._message_log_batch(
            {res_id: escape(body) for res_id, body in bodies.items()}
        )
        by_date = defaultdict(self.env["mail.message"].sudo)
        for message in messages:
            if dates.get(message.res_id):
                by_date[dates[message.res_id]] |= message
        for date, dated in by_date.items():
            dated.write({"date": date})

    @api.model
    def _apply_tier_pricelists(self, partners, old_tiers):
        """Set the tier's pricelist on customers entering a tier that has one;
        customers leaving it get their default pricelist back if they still had
        the old tier's one."""
        to_set = defaultdict(lambda: self.env["res.partner"])
        for partner in partners:
            old = old_tiers.get(partner.id) or self.env["vip.tier"]
            new = partner.vip_tier_id
            company = (new or old).company_id
            if not company:
                continue
            current = partner.with_company(company).specific_property_product_pricelist
            if new.pricelist_id and current != new.pricelist_id:
                to_set[(company, new.pricelist_id.id)] |= partner
            elif not new.pricelist_id and old.pricelist_id and current == old.pricelist_id:
                to_set[(company, False)] |= partner
        for (company, pricelist_id), group in to_set.items():
            # sudo: the tier decides the pricelist, also on contacts the caller cannot edit
            contacts = group | self.env["res.partner"].sudo().search(
                [("commercial_partner_id", "in", group.ids)]
            )
            contacts.sudo().with_company(company).write(
                {"specific_property_product_pricelist": pricelist_id}
            )

    # ------------------------------------------------------------------
    # Churn activities
    # ------------------------------------------------------------------
    def _schedule_retention_activities(self, rows):
        """One retention activity per high-risk episode, for the account manager."""
        activity_type = self.env.ref(
            "vip_customer.mail_activity_type_vip_retention", raise_if_not_found=False
        )
        if not activity_type:
            return
        model_id = self.env["ir.model"]._get_id("res.partner")
        deadline = fields.Date.context_today(self) + datetime.timedelta(
            days=activity_type.delay_count or 3
        )
        vals_list = []
        users = self.env["res.users"].browse(
            {row["vip_account_manager_id"] or row["user_id"] for row in rows} - {None}
        )
        # the summary is read by the assignee: in their language
        summaries = {
            lang: self.with_context(lang=lang).env._("Churn risk is high: call the customer")
            for lang in {user.lang or self.env.lang for user in users}
        }
        for row in rows:
            user = users.browse(row["vip_account_manager_id"] or row["user_id"])
            if not user:
                continue
            vals_list.append(
                {
                    "res_model_id": model_id,
                    "res_id": row["id"],
                    "activity_type_id": activity_type.id,
                    "user_id": user.id,
                    "date_deadline": deadline,
                    "summary": summaries[user.lang or self.env.lang],
                }
            )
        if vals_list:
            self.env["mail.activity"].with_context(mail_activity_quick_update=True).create(
                vals_list
            )
