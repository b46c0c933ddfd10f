"""The VIP tier engine (``vip.tier.engine``): its model and its hooks.

The engine is split by concern:

* here: the extension points, each a small method with a docstring;
* ``vip_tier_engine_run.py``: one run over a company's customers (the
  aggregate query, the evaluation of a batch, the raw write of the engine's
  own columns);
* ``vip_tier_engine_tier_change.py``: what a tier change does (``write()``,
  so the tier reaches the contacts by Odoo's commercial sync; history, notes,
  pricelists, retention calls);
* ``vip_tier_engine_cron.py``: the nightly cron, one batch per call.

Extension points (override on ``vip.tier.engine``; each has a test that
overrides it in ``tests/test_tier_engine_hooks.py``):

* :meth:`_get_purchase_sources` - count other purchases (POS orders, ...);
* :meth:`_get_metric_columns` and :meth:`_prepare_metrics_vals` - store more
  metrics from the aggregate row;
* :meth:`_decide_tier` - the tier decision of one customer;
* :meth:`_get_churn_signals` and :meth:`_prepare_churn_vals` - churn risk;
* :meth:`_evaluate_customer` - everything decided for one customer.
"""

import datetime

from odoo import api, models
from odoo.tools import SQL

from ..tools.vip_rules import (
    AT_RISK_LEVEL,
    churn_level,
    churn_score,
    decide_tier,
)

BATCH_SIZE = 5000
# time of day of the notes of a run for a past date (midday: the same day in every time zone)
NOTE_TIME = datetime.time(12, 0)

# The engine's columns on res.partner, written with raw SQL (see _write_sql).
# Every one is a plain stored field declared by this module that no stored
# compute depends on and nothing tracks (tests/test_tier_engine_hooks.py checks
# it for the add-ons installed). The tier itself (vip_tier_id, vip_tier_since)
# is not among them: it goes through write().
METRIC_COLUMNS = (
    "vip_spend",
    "vip_purchase_count",
    "vip_avg_purchase",
    "vip_first_purchase_date",
    "vip_last_purchase_date",
    "vip_prev_spend",
    "vip_prev_purchase_count",
)
STATE_COLUMNS = (
    "vip_pending_tier_id",
    "vip_downgrade_date",
    "vip_company_id",
    "vip_locked",
    "vip_lock_reason",
    "vip_lock_until",
    "vip_eval_date",
)
CHURN_COLUMNS = (
    "vip_churn_score",
    "vip_churn_recency_score",
    "vip_churn_frequency_score",
    "vip_churn_spend_score",
    "vip_churn_signal_score",
    "vip_churn_signal_note",
    "vip_churn_level",
    "vip_churn_high_since",
)
# The default raw columns with their SQL types (also read by bench/).
SQL_COLUMNS = {
    "vip_spend": "numeric",
    "vip_purchase_count": "int4",
    "vip_avg_purchase": "numeric",
    "vip_first_purchase_date": "date",
    "vip_last_purchase_date": "date",
    "vip_prev_spend": "numeric",
    "vip_prev_purchase_count": "int4",
    "vip_pending_tier_id": "int4",
    "vip_downgrade_date": "date",
    "vip_company_id": "int4",
    "vip_locked": "bool",
    "vip_lock_reason": "varchar",
    "vip_lock_until": "date",
    "vip_eval_date": "date",
    "vip_churn_score": "int4",
    "vip_churn_recency_score": "int4",
    "vip_churn_frequency_score": "int4",
    "vip_churn_spend_score": "int4",
    "vip_churn_signal_score": "int4",
    "vip_churn_signal_note": "varchar",
    "vip_churn_level": "varchar",
    "vip_churn_high_since": "date",
}


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

        :return: a list of ``odoo.tools.SQL``; the engine wraps them in
            ``UNION ALL`` and aggregates once per batch.

        Override and append to the list to count other sources (POS orders,
        sales of another system): they then count in every metric, tier and
        churn score.
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
    def _get_metric_columns(self):
        """The res.partner fields :meth:`_prepare_metrics_vals` fills.

        :return: a tuple of field names: plain stored fields of res.partner
            (not computed, not related, not translated, not tracked) that no
            stored compute depends on, since the engine writes them with raw
            SQL, skipping ``write()``.

        Override together with :meth:`_prepare_metrics_vals` to store another
        metric: append the new field's name here, its value there.
        """
        return METRIC_COLUMNS

    @api.model
    def _prepare_metrics_vals(self, row, context):
        """Metric values of one customer, from its aggregate ``row``.

        :param row: a dict: ``spend_<months>`` / ``count_<months>`` per window,
            ``prev_spend``, ``prev_count``, ``first_date``, ``last_date``,
            ``horizon_first``, ``horizon_count``, ``id`` and ``cur_<column>``
            (the values stored now)
        :param context: the run's values: ``today``, ``window`` (company window
            in months), ``window_start``, ``prev_start``, ``window_days``
        :return: ``{field name: value}`` for the fields named by
            :meth:`_get_metric_columns`; the engine stores them (when they
            changed) and scores churn on ``vip_spend``, ``vip_purchase_count``
            and their previous-window twins.

        Override to store another metric (declare its field in
        :meth:`_get_metric_columns`) or to compute one differently.
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

    @api.model
    def _decide_tier(self, row, rules, metrics, today):
        """The tier decision of one customer, from the pure rule
        ``tools.vip_rules.decide_tier``.

        :param row: the customer's aggregate row (see :meth:`_prepare_metrics_vals`):
            ``tier_id`` and ``cur_downgrade_date`` are what it holds now
        :param rules: the company's tiers as ``vip_rules.TierRule``
        :param metrics: ``{window_months: (spend, purchase_count)}``
        :param today: the evaluation date
        :return: a ``vip_rules.TierDecision``: the tier after this run, a pending
            downgrade and its date, the kind of change (None: the tier stays)
            and the rule whose window gives the metrics recorded.

        Override to decide differently for some customers (a partner category
        that never leaves a tier, a tier reserved to contracts) without
        copying the engine. Not called for locked customers.
        """
        return decide_tier(rules, metrics, row["tier_id"], row["cur_downgrade_date"], today)

    @api.model
    def _get_churn_signals(self, company, partner_ids):
        """Extra churn risk points per customer.

        Called once per batch with the batch's commercial partner ids: answer
        with one set-based query, not one per partner.

        :return: ``{partner_id: [(points, label)]}``; the points are added to
            the weighted score (capped at 100), the labels shown on the
            customer (``vip_churn_signal_note``).

        Override (calling super and adding to its result) to feed churn risk
        from another add-on: open complaints, detractor answers.
        """
        return {}

    @api.model
    def _get_churn_signal_dates(self, company, partner_ids):
        """The day the churn signals of each customer next change by the
        calendar alone (a breach or an answer leaving the look-back window).

        Called once per batch like :meth:`_get_churn_signals`; a signal that
        changes because a record changed (a ticket closed, an answer completed)
        marks its customer instead (``res.partner._vip_mark_for_evaluation``).

        :return: ``{partner_id: date}``; the incremental night evaluates the
            customer again on that day
        """
        return {}

    @api.model
    def _prepare_churn_vals(self, row, metrics_vals, signals, context):
        """Churn risk values of one customer.

        :param row: the customer's aggregate row (``last_date``,
            ``horizon_first``, ``horizon_count``, ``cur_vip_churn_high_since``)
        :param metrics_vals: what :meth:`_prepare_metrics_vals` returned
        :param signals: this customer's ``[(points, label)]`` from
            :meth:`_get_churn_signals`
        :param context: the run's values (``today``, ``window_days``,
            ``medium`` and ``high`` thresholds)
        :return: the values of the churn fields (``CHURN_COLUMNS``); a level
            ``high`` (:data:`AT_RISK_LEVEL`) without ``vip_churn_high_since`` before
            starts a risk episode: a retention call is planned.

        Override to weigh the components differently or add a component.
        """
        today = context["today"]
        score = churn_score(
            today,
            row.get("last_date"),
            row.get("horizon_first"),
            int(row.get("horizon_count") or 0),
            metrics_vals["vip_purchase_count"],
            metrics_vals["vip_prev_purchase_count"],
            metrics_vals["vip_spend"],
            metrics_vals["vip_prev_spend"],
            context["window_days"],
            signals=sum(points for points, _label in signals),
        )
        level = churn_level(score.total, context["medium"], context["high"])
        high_since = row["cur_vip_churn_high_since"] if level == AT_RISK_LEVEL else None
        if level == AT_RISK_LEVEL and not high_since:
            high_since = today
        return {
            "vip_churn_score": score.total,
            "vip_churn_recency_score": score.recency,
            "vip_churn_frequency_score": score.frequency,
            "vip_churn_spend_score": score.spend,
            "vip_churn_signal_score": score.signals,
            "vip_churn_signal_note": ", ".join(label for _p, label in signals) or None,
            "vip_churn_level": level,
            "vip_churn_high_since": high_since,
        }

    @api.model
    def _evaluate_customer(self, row, context, signals):
        """Everything the engine decides for one customer.

        :param row: the customer's aggregate row (see :meth:`_prepare_metrics_vals`)
        :param context: the run's values, with ``company``, ``rules`` (the
            tiers as ``TierRule``) and ``windows`` (the months of every window)
        :param signals: this customer's churn signals ``[(points, label)]``
        :return: a dict:

            * ``vals``: the engine's columns to store (metrics, churn, pending
              downgrade, program company, a lock that ended), by field name;
            * ``tier_change``: None, or ``{"new_tier_id", "spend",
              "purchase_count", "window_months"}`` when the tier changes;
            * ``new_churn_episode``: True when the customer just became at risk.

        Override to add a decision of your own for every customer (call super
        and complete its result).
        """
        today = context["today"]
        rules = context["rules"]
        vals = self._prepare_metrics_vals(row, context)
        vals["vip_company_id"] = context["company"].id
        metrics = {
            months: (
                float(row.get(f"spend_{months}") or 0.0),
                int(row.get(f"count_{months}") or 0),
            )
            for months in context["windows"]
        }
        tier_change = None
        locked = row["cur_vip_locked"]
        if locked and row["cur_vip_lock_until"] and row["cur_vip_lock_until"] < today:
            locked = False
            vals.update(vip_locked=False, vip_lock_reason=False, vip_lock_until=False)
        if locked or not rules:
            vals.update(vip_pending_tier_id=None, vip_downgrade_date=None)
        else:
            decision = self._decide_tier(row, rules, metrics, today)
            vals.update(
                vip_pending_tier_id=decision.pending_tier_id,
                vip_downgrade_date=decision.downgrade_date,
            )
            if decision.change:
                window = decision.rule.window_months if decision.rule else context["window"]
                spend, count = metrics.get(window, (0.0, 0))
                tier_change = {
                    "new_tier_id": decision.tier_id,
                    "spend": spend,
                    "purchase_count": count,
                    "window_months": window,
                }
        vals.update(self._prepare_churn_vals(row, vals, signals, context))
        return {
            "vals": vals,
            "tier_change": tier_change,
            "new_churn_episode": (
                vals["vip_churn_level"] == AT_RISK_LEVEL and not row["cur_vip_churn_high_since"]
            ),
        }
