"""Anomaly triggers of the key-moment engine: spend drop, frequency drop,
long silence (异动时刻).

Each is one SQL query over the tier engine's purchase sources
(``vip.tier.engine._purchases_sql``: every invoice and refund, and the
purchases other add-ons add through ``_get_purchase_sources``), so a refund
lowers the spend and a reversed invoice is no purchase here exactly as in the
tiers and the churn score.

* ``spend_drop`` / ``frequency_drop``: the last ``window_days`` (today
  included) against the ``window_days`` before them. The moment fires when the
  last window is *at least* ``threshold_percent`` % below the previous one
  (``last <= previous x (1 - threshold / 100)``: exactly at the threshold
  fires) and the previous window had spend / purchases. One task per
  episode: the occasion is the window (``spend_drop:<first day of the last
  window>``), and a drop already signalled within the last window is the
  same episode (no new task until the windows compared no longer overlap the
  signalled one); the rule's cool-down can hold it back longer.
* ``silence``: no purchase for at least ``silence_factor`` times the
  customer's usual interval, the mean number of days between their purchase
  days (at least two distinct purchase days within ``SILENCE_HISTORY_DAYS``).
  The occasion is the last purchase (``silence:<date>``): a new purchase ends
  the episode, the next silence is a new one.
"""

import datetime

from odoo import api, models
from odoo.tools import SQL

# purchases older than this do not count in the usual interval of a customer
SILENCE_HISTORY_DAYS = 730


class VipMomentEngine(models.AbstractModel):
    _inherit = "vip.moment.engine"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _anomaly_purchases_sql(self, rule, date_from):
        """The purchase rows ``(partner_id, date, amount, purchase_count)`` of
        the rule's company since ``date_from``: the tier engine's sources."""
        return self.env["vip.tier.engine"]._purchases_sql(rule.company_id, date_from)

    @api.model
    def _anomaly_windows(self, rule, today):
        """``(start, previous start)``: the first days of the last window (which
        ends today) and of the window before it."""
        start = today - datetime.timedelta(days=rule.window_days - 1)
        return start, start - datetime.timedelta(days=rule.window_days)

    @api.model
    def _moment_sql_drop(self, rule, today, measure, prefix):
        start, prev_start = self._anomaly_windows(rule, today)
        # only the purchases of the rule's tiers are aggregated (the selection
        # keeps these customers only), and the episode's moment is looked for
        # once per customer with a drop, not once per purchase
        tier_filter = SQL()
        if rule.tier_ids:
            tier_filter = SQL(
                """AND p.partner_id IN (SELECT rp.id FROM res_partner rp
                                          WHERE rp.active AND rp.vip_tier_id IN %s)""",
                tuple(rule.tier_ids.ids),
            )
        # MATERIALIZED: the aggregate runs once; as a plain subquery under the
        # selection's parallel plan every worker ran all of it again
        return SQL(
            """
            WITH drops AS MATERIALIZED (
                   SELECT p.partner_id
                     FROM (%(purchases)s) p
                    WHERE p.date >= %(prev_start)s AND p.date <= %(today)s
                      %(tier_filter)s
                    GROUP BY p.partner_id
                   HAVING COALESCE(SUM(%(measure)s) FILTER (WHERE p.date < %(start)s), 0) > 0
                      AND COALESCE(SUM(%(measure)s) FILTER (WHERE p.date >= %(start)s), 0) * 100
                          <= SUM(%(measure)s) FILTER (WHERE p.date < %(start)s)
                             * (100 - %(threshold)s::numeric)
            )
            SELECT a.partner_id, %(prefix)s || %(start)s::varchar AS occasion_key,
                   %(today)s::date AS occasion_date
              FROM drops a
             WHERE NOT EXISTS (
                   SELECT 1 FROM vip_moment_occurrence o
                    WHERE o.rule_id = %(rule)s AND o.partner_id = a.partner_id
                      AND o.date >= %(start)s
               )
            """,
            prefix=prefix,
            start=start,
            today=today,
            purchases=self._anomaly_purchases_sql(rule, prev_start),
            prev_start=prev_start,
            tier_filter=tier_filter,
            rule=rule.id,
            measure=measure,
            threshold=rule.threshold_percent,
        )

    @api.model
    def _moment_sql_spend_drop(self, rule, today, horizon):
        """Spend of the last window at least ``threshold_percent`` % below the
        window before it (refunds lower the spend)."""
        return self._moment_sql_drop(rule, today, SQL("p.amount::numeric"), "spend_drop:")

    @api.model
    def _moment_sql_frequency_drop(self, rule, today, horizon):
        """Number of purchases of the last window at least ``threshold_percent``
        % below the window before it."""
        return self._moment_sql_drop(
            rule, today, SQL("p.purchase_count::numeric"), "frequency_drop:"
        )

    @api.model
    def _moment_sql_silence(self, rule, today, horizon):
        """No purchase for ``silence_factor`` x the customer's mean interval
        between purchase days (at least two purchase days)."""
        since = today - datetime.timedelta(days=SILENCE_HISTORY_DAYS)
        return SQL(
            """
            SELECT d.partner_id, 'silence:' || MAX(d.date)::varchar AS occasion_key,
                   (MAX(d.date) + CEIL(%(factor)s::numeric * (MAX(d.date) - MIN(d.date))
                                       / (COUNT(*) - 1))::int) AS occasion_date
              FROM (
                   SELECT p.partner_id, p.date
                     FROM (%(purchases)s) p
                    WHERE p.purchase_count > 0 AND p.date >= %(since)s AND p.date <= %(today)s
                    GROUP BY p.partner_id, p.date
              ) d
             GROUP BY d.partner_id
            HAVING COUNT(*) >= 2
               AND (%(today)s::date - MAX(d.date)) * (COUNT(*) - 1)
                   >= %(factor)s::numeric * (MAX(d.date) - MIN(d.date))
            """,
            factor=rule.silence_factor,
            purchases=self._anomaly_purchases_sql(rule, since),
            since=since,
            today=today,
        )
