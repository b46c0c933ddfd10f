"""The key moment ``points_expiring``: points of a customer expire soon.

It replaces the former expiry-warning cron. One occasion covers every lot of
the customer that expires within the rule's ``within_days``: its key names the
last expiry date it covers (``expiry:<date>``), so the customer hears once
about all the points then in the window, and again only when a lot expiring
after that date enters the window (never twice about the same lot). The mail
template of the built-in rule lists those lots
(``res.partner.vip_loyalty_expiring_lot_ids``).
"""

import datetime

from odoo import api, fields, models
from odoo.tools import SQL

# context keys of the e-mail being rendered: the day and the last expiry date
# of its window; per customer, the last expiry date already announced
EXPIRY_WINDOW_KEY = "vip_loyalty_expiry_window"
EXPIRY_ANNOUNCED_KEY = "vip_loyalty_expiry_announced"
KEY_PREFIX = "expiry:"


class VipMomentEngine(models.AbstractModel):
    _inherit = "vip.moment.engine"

    @api.model
    def _points_expiring_until(self, rule, today):
        """The last expiry date the rule announces today: ``within_days`` after the
        end of its cycle period (plus its days ahead)."""
        return self._horizon(rule, today) + datetime.timedelta(days=rule.within_days)

    @api.model
    def _moment_sql_points_expiring(self, rule, today, horizon):
        """Customers with open points expiring after today and at the latest
        ``within_days`` after ``horizon``, that no occasion of this rule announced yet
        (an occasion announces the lots expiring up to the date of its key).

        ``occasion_key``: ``expiry:<last expiry date in the window>``;
        ``occasion_date``: the first of those dates (the task is due before it).
        """
        until = horizon + datetime.timedelta(days=rule.within_days)
        return SQL(
            """
            SELECT a.partner_id,
                   %(prefix)s || MAX(m.expiry_date)::varchar AS occasion_key,
                   MIN(m.expiry_date) AS occasion_date
              FROM vip_loyalty_move m
              JOIN vip_loyalty_account a ON a.id = m.account_id
             WHERE a.company_id = %(company)s
               AND m.remaining_points > 0
               AND m.expiry_date > %(today)s
               AND m.expiry_date <= %(until)s
               AND m.expiry_date > COALESCE((
                       SELECT MAX(substring(o.occasion_key FROM %(start)s)::date)
                         FROM vip_moment_occurrence o
                        WHERE o.rule_id = %(rule)s
                          AND o.partner_id = a.partner_id
                          AND o.occasion_key LIKE %(like)s
                   ), '-infinity'::date)
             GROUP BY a.partner_id
            """,
            prefix=KEY_PREFIX,
            company=rule.company_id.id,
            today=today,
            until=until,
            start=len(KEY_PREFIX) + 1,
            rule=rule.id,
            like=f"{KEY_PREFIX}%",
        )

    @api.model
    def _deadline(self, rule, today, occasion_date):
        """A points-expiring task is due before the first points lapse (they expire
        on their expiry date), never before today."""
        deadline = super()._deadline(rule, today, occasion_date)
        if rule.trigger_type == "points_expiring" and occasion_date:
            deadline = max(today, min(deadline, occasion_date - datetime.timedelta(days=1)))
        return deadline

    @api.model
    def _points_expiring_announced(self, rule, partner_ids):
        """``((partner id, last expiry date announced), ...)`` by the occasions of
        ``rule`` (one query)."""
        if not partner_ids:
            return ()
        self.env["vip.moment.occurrence"].flush_model(["rule_id", "partner_id", "occasion_key"])
        self.env.cr.execute(
            SQL(
                """
                SELECT partner_id, MAX(substring(occasion_key FROM %(start)s)::date)
                  FROM vip_moment_occurrence
                 WHERE rule_id = %(rule)s AND partner_id = ANY(%(partners)s)
                   AND occasion_key LIKE %(like)s
                 GROUP BY partner_id
                """,
                start=len(KEY_PREFIX) + 1,
                rule=rule.id,
                partners=list(partner_ids),
                like=f"{KEY_PREFIX}%",
            )
        )
        return tuple(
            sorted(
                (partner_id, fields.Date.to_string(day))
                for partner_id, day in self.env.cr.fetchall()
            )
        )

    @api.model
    def _fire(self, rule, rows, today):
        """The e-mail of a points-expiring rule lists the lots of its window not
        announced yet (the customer hears once about each lot)."""
        if rule.trigger_type == "points_expiring":
            window = (
                fields.Date.to_string(today),
                fields.Date.to_string(self._points_expiring_until(rule, today)),
            )
            announced = self._points_expiring_announced(rule, [row[0] for row in rows])
            rule = rule.with_context(**{EXPIRY_WINDOW_KEY: window, EXPIRY_ANNOUNCED_KEY: announced})
        return super()._fire(rule, rows, today)
