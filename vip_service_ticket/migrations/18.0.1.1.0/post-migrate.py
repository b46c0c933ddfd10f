"""18.0.1.1.0: the follow-up call after a closed ticket is the built-in key moment
"ticket closed" (``res.company._vip_get_builtin_moment_rules_vals``) instead of an
activity the ticket scheduled itself on closing.

The tickets already followed up the old way become occurrences of the rule, so the
engine does not give the account manager a second task for them: a follow-up still
open is the occurrence's task (marking it done processes the moment), one done
makes a processed occurrence. Only the tickets the rule can still select matter
(closed in the last ``EVENT_LOOKBACK_DAYS`` days).
"""

import logging

from odoo import SUPERUSER_ID, api, fields
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

FOLLOWUP_TYPE = "vip_service_ticket.mail_activity_type_ticket_followup"


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    # the built-in rules of every company (idempotent; the data file runs at install only)
    env["res.company"]._vip_create_all_builtin_moment_rules()
    migrate_followup_type(env)
    created = migrate_followups(env)
    _logger.info("VIP key moments: %s ticket follow-ups recorded as key moments", len(created))


def migrate_followup_type(env):
    """The follow-up tasks are now on the customer (a noupdate record: not reloaded)."""
    activity_type = env.ref(FOLLOWUP_TYPE, raise_if_not_found=False)
    if activity_type and activity_type.res_model != "res.partner":
        activity_type.write({"res_model": "res.partner"})


def _followed_up_sql(engine, rule, today, followup_type_id):
    """The candidates of ``rule`` (the engine's own selection of "ticket closed")
    whose ticket had an old follow-up activity: ``partner_id, occasion_key,
    occasion_date, tier_id, activity_id, user_id, date_deadline, done_date``."""
    candidates = engine._moment_sql_ticket_closed(rule, today, engine._horizon(rule, today))
    tier_filter = (
        SQL("p.vip_tier_id IN %s", tuple(rule.tier_ids.ids))
        if rule.tier_ids
        else SQL("p.vip_tier_id IS NOT NULL")
    )
    return SQL(
        """
        SELECT c.partner_id, c.occasion_key::varchar, c.occasion_date, p.vip_tier_id,
               a.id, a.user_id, a.date_deadline, m.done_date, m.author_user_id
          FROM (%(candidates)s) c
          JOIN res_partner p ON p.id = c.partner_id
          LEFT JOIN LATERAL (
                SELECT ma.id, ma.user_id, ma.date_deadline
                  FROM mail_activity ma
                 WHERE ma.res_model = 'vip.service.ticket'
                   AND ma.res_id = split_part(split_part(c.occasion_key, ':', 2), '/', 1)::int
                   AND ma.activity_type_id = %(type)s
                   AND ma.active AND ma.date_done IS NULL
                 ORDER BY ma.id DESC LIMIT 1
          ) a ON TRUE
          LEFT JOIN LATERAL (
                SELECT mm.date::date AS done_date, u.id AS author_user_id
                  FROM mail_message mm
                  LEFT JOIN res_users u ON u.partner_id = mm.author_id
                 WHERE mm.model = 'vip.service.ticket'
                   AND mm.res_id = split_part(split_part(c.occasion_key, ':', 2), '/', 1)::int
                   AND mm.mail_activity_type_id = %(type)s
                   AND mm.date::date >= c.occasion_date
                 ORDER BY mm.id DESC LIMIT 1
          ) m ON TRUE
         WHERE p.active
           AND %(tier_filter)s
           AND p.vip_company_id = %(company)s
           AND (a.id IS NOT NULL OR m.done_date IS NOT NULL)
           AND NOT EXISTS (
               SELECT 1 FROM vip_moment_occurrence o
                WHERE o.rule_id = %(rule)s AND o.partner_id = c.partner_id
                  AND o.occasion_key = c.occasion_key::varchar
           )
        """,
        candidates=candidates,
        type=followup_type_id,
        tier_filter=tier_filter,
        company=rule.company_id.id,
        rule=rule.id,
    )


def migrate_followups(env, today=None):
    """Record the old follow-ups of closed tickets as occurrences of every
    "ticket closed" rule (the built-in one of each company after the upgrade).

    :return: the occurrences created
    """
    Occurrence = env["vip.moment.occurrence"].sudo().with_context(vip_moment_engine=True)
    followup_type = env.ref(FOLLOWUP_TYPE, raise_if_not_found=False)
    if not followup_type:
        return Occurrence
    today = today or fields.Date.context_today(Occurrence)
    engine = env["vip.moment.engine"].sudo()
    engine._flush_sources()
    rules = env["vip.moment.rule"].sudo().search([("trigger_type", "=", "ticket_closed")])
    created = Occurrence
    for rule in rules:
        env.cr.execute(_followed_up_sql(engine, rule, today, followup_type.id))
        vals_list = []
        seen = set()
        for (
            partner_id,
            key,
            occasion_date,
            tier_id,
            activity_id,
            user_id,
            date_deadline,
            done_date,
            author_user_id,
        ) in env.cr.fetchall():
            if (partner_id, key) in seen:
                continue
            seen.add((partner_id, key))
            is_open = bool(activity_id)
            vals_list.append(
                {
                    "rule_id": rule.id,
                    "partner_id": partner_id,
                    "occasion_key": key,
                    "occasion_date": occasion_date,
                    "tier_id": tier_id,
                    "date": occasion_date,
                    "date_deadline": date_deadline or occasion_date,
                    "user_id": user_id if is_open else author_user_id,
                    "activity_id": activity_id or False,
                    "state": "open" if is_open else "done",
                    "date_done": False if is_open else done_date,
                }
            )
        if vals_list:
            created |= Occurrence.create(vals_list)
    return created
