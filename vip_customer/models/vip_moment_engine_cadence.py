"""The follow-up cadence trigger of the key-moment engine.

A ``cadence`` rule contacts the customers of its tiers every
``interval_days`` since their last contact: the latest of their last
follow-up (``vip_last_followup_date``, set when a VIP follow-up task is
marked done), the day they entered their tier and the last occurrence of this
rule that was processed (its done date) or dismissed (its occasion: a deleted
task, or one nobody could be assigned and no message reached, skips that
contact; the next one comes a cadence later). The occasion is
the date of the next contact (``cadence:<date>``); a customer with an open
task of the rule gets no other one until it is done, and marking it done
moves the next one.

A tier may have several cadences (a phone call and an on-site visit every
quarter): one rule each. The built-in rule "Quarterly contact"
(``res.company.vip_followup_minimum``) covers every tier, but leaves out the
customers whom a cadence of their tier already contacts as often.

The customer's next follow-up (``res.partner.vip_next_followup_date``) is read
from the same query: :meth:`_cadence_next_dates`.
"""

import datetime

from markupsafe import Markup

from odoo import api, models
from odoo.tools import SQL

from .res_company import MINIMUM_CADENCE_CODE


class VipMomentEngine(models.AbstractModel):
    _inherit = "vip.moment.engine"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _cadence_next_sql(self, rule, partner_ids=None, horizon=None):
        """``partner_id, occasion_date``: the next contact of each customer of
        ``rule`` (its company and tiers) who has no open task of the rule.

        ``horizon``: only the customers whose next contact may fall by then.
        The last contact is the latest of the customer's own dates and of the
        rule's occurrences, so it is never before the customer's own dates: a
        customer whose last follow-up or tier start plus the interval is after
        the horizon is left out before the occurrences are read (a scan of
        the partners' columns instead of a probe per customer of the tiers)."""
        tier_field = rule._fields["tier_ids"]
        if rule.tier_ids:
            tier_filter = SQL("p.vip_tier_id IN %s", tuple(rule.tier_ids.ids))
        else:
            tier_filter = SQL("p.vip_tier_id IS NOT NULL")
        covered = SQL()
        if rule.builtin_code == MINIMUM_CADENCE_CODE:
            # "at least": not for customers a cadence of their tier (or of every
            # tier) already contacts as often
            covered = SQL(
                """
                AND NOT EXISTS (
                    SELECT 1 FROM vip_moment_rule r2
                     WHERE r2.active AND r2.trigger_type = 'cadence'
                       AND r2.company_id = %(company)s AND r2.id != %(rule)s
                       AND r2.interval_days <= %(interval)s
                       AND (NOT EXISTS (SELECT 1 FROM %(rel)s t WHERE t.%(col1)s = r2.id)
                            OR EXISTS (SELECT 1 FROM %(rel)s t
                                        WHERE t.%(col1)s = r2.id
                                          AND t.%(col2)s = p.vip_tier_id))
                )
                """,
                company=rule.company_id.id,
                rule=rule.id,
                interval=rule.interval_days,
                rel=SQL.identifier(tier_field.relation),
                col1=SQL.identifier(tier_field.column1),
                col2=SQL.identifier(tier_field.column2),
            )
        partner_filter = (
            SQL("AND p.id = ANY(%s)", list(partner_ids)) if partner_ids is not None else SQL()
        )
        due_filter = SQL()
        if horizon is not None:
            # GREATEST(a, b) + interval <= horizon, written per column so that
            # the planner estimates it from the columns' statistics
            latest = horizon - datetime.timedelta(days=rule.interval_days)
            due_filter = SQL(
                """AND (p.vip_last_followup_date IS NULL OR p.vip_last_followup_date <= %(d)s)
                   AND (p.vip_tier_since IS NULL OR p.vip_tier_since <= %(d)s)""",
                d=latest,
            )
        return SQL(
            """
            SELECT p.id AS partner_id, (l.last + %(interval)s)::date AS occasion_date
              FROM (
                   -- the customers first, on their own columns (OFFSET 0: the
                   -- occurrences are read for these rows only)
                   SELECT p.id, p.vip_last_followup_date, p.vip_tier_since, p.vip_tier_id
                     FROM res_partner p
                    WHERE p.vip_company_id = %(company)s
                      AND p.id = p.commercial_partner_id
                      AND p.active
                      AND %(tier_filter)s
                      %(due_filter)s
                      %(partner_filter)s
                   OFFSET 0
              ) p
             CROSS JOIN LATERAL (
                   SELECT GREATEST(
                       p.vip_last_followup_date,
                       p.vip_tier_since,
                       (SELECT MAX(CASE WHEN o.state = 'done'
                                             AND (o.user_id IS NOT NULL OR o.mail_sent
                                                  OR o.sms_sent OR o.skipped_reason IS NULL)
                                        THEN o.date_done ELSE o.occasion_date END)
                          FROM vip_moment_occurrence o
                         WHERE o.rule_id = %(rule)s AND o.partner_id = p.id
                           AND o.state IN ('done', 'cancelled'))
                   ) AS last
             ) l
             WHERE l.last IS NOT NULL
               AND NOT EXISTS (
                   SELECT 1 FROM vip_moment_occurrence o
                    WHERE o.rule_id = %(rule)s AND o.partner_id = p.id AND o.state = 'open'
               )
               %(covered)s
            """,
            interval=rule.interval_days,
            rule=rule.id,
            company=rule.company_id.id,
            tier_filter=tier_filter,
            due_filter=due_filter,
            covered=covered,
            partner_filter=partner_filter,
        )

    @api.model
    def _moment_sql_cadence(self, rule, today, horizon):
        """The customers whose next contact falls by the horizon (overdue ones
        included: a missed contact stays due until it is made)."""
        return SQL(
            """
            SELECT n.partner_id,
                   'cadence:' || to_char(n.occasion_date, 'YYYY-MM-DD') AS occasion_key,
                   n.occasion_date
              FROM (%s) n
             WHERE n.occasion_date <= %s
            """,
            self._cadence_next_sql(rule, horizon=horizon),
            horizon,
        )

    @api.model
    def _cadence_next_dates(self, partners):
        """``{partner id: date}``: the next follow-up of these customers, the
        earliest of their open cadence tasks' due dates and of the next
        contacts of the active cadence rules without an open task. One query."""
        if not partners:
            return {}
        self.env["vip.moment.occurrence"].flush_model()
        self.env["vip.moment.rule"].flush_model()
        partners.flush_recordset(
            [
                "vip_last_followup_date",
                "vip_tier_since",
                "vip_tier_id",
                "vip_company_id",
                "commercial_partner_id",
                "active",
            ]
        )
        rules = self._get_rules(["cadence"], partners.vip_company_id)
        parts = [
            SQL(
                """
                SELECT o.partner_id, o.date_deadline AS next_date
                  FROM vip_moment_occurrence o
                  JOIN vip_moment_rule r ON r.id = o.rule_id
                 WHERE r.trigger_type = 'cadence' AND o.state = 'open'
                   AND o.partner_id = ANY(%s)
                """,
                partners.ids,
            )
        ]
        parts += [self._cadence_next_sql(rule, partners.ids) for rule in rules]
        self.env.cr.execute(
            SQL(
                "SELECT partner_id, MIN(next_date) FROM (%s) n GROUP BY partner_id",
                SQL(" UNION ALL ").join(SQL("(%s)", part) for part in parts),
            )
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _prepare_activity_vals(self, rule, partner, user, deadline, occasion_date):
        """A follow-up task says the cadence and how the customer likes to be
        contacted (only the preferences known)."""
        vals = super()._prepare_activity_vals(rule, partner, user, deadline, occasion_date)
        if rule.trigger_type != "cadence":
            return vals
        lang = user.lang or self.env.lang or "en_US"
        env = self.with_context(lang=lang).env
        lines = [
            env._("Follow up every %(days)s days since the last contact.", days=rule.interval_days)
        ]
        partner_l = partner.with_context(lang=lang)
        fields_ = partner._fields
        if partner_l.vip_preferred_channel:
            channels = dict(fields_["vip_preferred_channel"]._description_selection(env))
            lines.append(
                env._(
                    "Preferred channel: %(channel)s.",
                    channel=channels[partner_l.vip_preferred_channel],
                )
            )
        if partner_l.vip_preferred_contact_time:
            times = dict(fields_["vip_preferred_contact_time"]._description_selection(env))
            lines.append(
                env._("Preferred time: %(time)s.", time=times[partner_l.vip_preferred_contact_time])
            )
        vals["note"] = Markup("%s%s") % (
            vals.get("note") or "",
            Markup("").join(Markup("<p>%s</p>") % line for line in lines),
        )
        return vals
