"""Follow-up plans and retention calls become key moments (#12).

Before 18.0.1.2.0 each tier had one follow-up cadence (``followup_interval_days``
and ``followup_channel`` on ``vip_tier``), a nightly cron planned one follow-up
activity per due date (``res_partner.vip_followup_activity_date`` remembered
it) ``res_company.vip_followup_lead_days`` ahead, and the tier engine gave
each new churn risk episode one retention activity. Odoo keeps the columns of
removed fields: they are read here, once.

- every company gets its built-in key moments (the retention call, the
  quarterly minimum, those of the other VIP add-ons);
- each tier's cadence becomes a ``cadence`` rule of that tier (same interval,
  the company's lead time, the summary of its channel);
- each open follow-up activity becomes the open occurrence of that rule for
  its due date (so the engine does not plan it a second time), a planned due
  date whose activity was deleted a dismissed one (the next contact comes a
  cadence later, as a deleted task does now);
- each customer whose churn risk is high gets the occurrence of the
  retention rule for their episode: open with their open retention activity,
  processed without one (the call was made before the upgrade);
- the follow-up cron goes (a ``noupdate`` record: Odoo would keep it).
"""

import logging

from odoo import SUPERUSER_ID, api, fields
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

ENGINE_CONTEXT = {"vip_moment_engine": True, "active_test": False}


def _columns(cr, table, names):
    cr.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = %s AND column_name IN %s",
        (table, tuple(names)),
    )
    return {row[0] for row in cr.fetchall()}


def _create_tier_cadences(env):
    """``{tier id: rule}``: the cadence rule of each tier that had a plan."""
    cr = env.cr
    if "followup_interval_days" not in _columns(cr, "vip_tier", ["followup_interval_days"]):
        return {}
    lead_days = {}
    if _columns(cr, "res_company", ["vip_followup_lead_days"]):
        cr.execute("SELECT id, vip_followup_lead_days FROM res_company")
        lead_days = dict(cr.fetchall())
    has_channel = bool(_columns(cr, "vip_tier", ["followup_channel"]))
    cr.execute(
        SQL(
            "SELECT id, followup_interval_days, %s FROM vip_tier "
            "WHERE followup_interval_days > 0 ORDER BY company_id, level DESC, id",
            SQL("followup_channel") if has_channel else SQL("NULL"),
        )
    )
    rows = cr.fetchall()
    Tier = env["vip.tier"].with_context(active_test=False)
    Rule = env["vip.moment.rule"].with_context(active_test=False, lang="en_US")
    followup_type = env.ref("vip_customer.mail_activity_type_vip_followup")
    existing = Rule.search([("trigger_type", "=", "cadence"), ("tier_ids", "!=", False)])
    langs = [code for code, _name in env["res.lang"].get_installed() if code != "en_US"]
    rules = {}
    for tier_id, interval, channel in rows:
        tier = Tier.browse(tier_id)
        # a second run finds the rule of the first
        done = existing.filtered(
            lambda r, t=tier, i=interval: r.tier_ids == t and r.interval_days == i
        )
        if done:
            rules[tier_id] = done[0]
            continue
        texts = tier.with_context(lang="en_US")._vip_cadence_rule_texts(channel)
        lead = lead_days.get(tier.company_id.id)
        rule = Rule.create(
            {
                **texts,
                "company_id": tier.company_id.id,
                "trigger_type": "cadence",
                "interval_days": interval,
                "lead_days": min(max(lead if lead is not None else 7, 0), 365),
                "tier_ids": [(6, 0, tier.ids)],
                "activity_type_id": followup_type.id,
                "sequence": 10,
            }
        )
        for lang in langs:
            for fname, value in (
                tier.with_context(lang=lang)._vip_cadence_rule_texts(channel).items()
            ):
                if value != texts[fname]:
                    rule.update_field_translations(fname, {lang: value})
        rules[tier_id] = rule
    _logger.info("VIP key moments: %s tier follow-up plans became cadence rules", len(rules))
    return rules


def _occurrence_keys(env, rules):
    env["vip.moment.occurrence"].flush_model()
    env.cr.execute(
        "SELECT rule_id, partner_id, occasion_key, state FROM vip_moment_occurrence "
        "WHERE rule_id = ANY(%s)",
        (rules.ids,),
    )
    rows = env.cr.fetchall()
    return {(r, p, k) for r, p, k, _s in rows}, {(r, p) for r, p, _k, s in rows if s == "open"}


def _migrate_followups(env, rules_by_tier):
    """Open follow-up activities -> open occurrences of their tier's rule; a
    due date planned whose activity is gone -> a dismissed occurrence."""
    if not rules_by_tier:
        return 0
    cr = env.cr
    followup_type = env.ref("vip_customer.mail_activity_type_vip_followup")
    rules = env["vip.moment.rule"].browse([rule.id for rule in rules_by_tier.values()])
    keys, open_pairs = _occurrence_keys(env, rules)
    env["mail.activity"].flush_model()
    env["res.partner"].flush_model()
    cr.execute(
        """
        SELECT a.id, a.res_id, a.user_id, a.date_deadline, a.create_date::date, p.vip_tier_id
          FROM mail_activity a
          JOIN res_partner p ON p.id = a.res_id
         WHERE a.res_model = 'res.partner' AND a.activity_type_id = %s
           AND a.active AND a.date_done IS NULL AND p.vip_tier_id IS NOT NULL
         ORDER BY a.date_deadline, a.id
        """,
        (followup_type.id,),
    )
    vals_list = []
    for activity_id, partner_id, user_id, deadline, created, tier_id in cr.fetchall():
        rule = rules_by_tier.get(tier_id)
        key = f"cadence:{fields.Date.to_string(deadline)}"
        if not rule or (rule.id, partner_id) in open_pairs or (rule.id, partner_id, key) in keys:
            continue
        open_pairs.add((rule.id, partner_id))
        keys.add((rule.id, partner_id, key))
        vals_list.append(
            {
                "rule_id": rule.id,
                "partner_id": partner_id,
                "tier_id": tier_id,
                "occasion_key": key,
                "occasion_date": deadline,
                "date": min(created or deadline, deadline),
                "date_deadline": deadline,
                "user_id": user_id,
                "activity_id": activity_id,
                "state": "open",
            }
        )
    if _columns(cr, "res_partner", ["vip_followup_activity_date"]):
        # a due date planned (the old plan: last follow-up or tier start + cadence)
        # whose activity is gone without being done: dismissed
        cr.execute(
            """
            SELECT p.id, p.vip_tier_id, p.vip_followup_activity_date
              FROM res_partner p
              JOIN vip_tier t ON t.id = p.vip_tier_id
             WHERE p.vip_followup_activity_date IS NOT NULL
               AND p.id = p.commercial_partner_id
               AND p.vip_followup_activity_date
                   = COALESCE(p.vip_last_followup_date, p.vip_tier_since)
                     + t.followup_interval_days
            """
        )
        for partner_id, tier_id, planned in cr.fetchall():
            rule = rules_by_tier.get(tier_id)
            key = f"cadence:{fields.Date.to_string(planned)}"
            if (
                not rule
                or (rule.id, partner_id) in open_pairs
                or (rule.id, partner_id, key) in keys
            ):
                continue
            keys.add((rule.id, partner_id, key))
            vals_list.append(
                {
                    "rule_id": rule.id,
                    "partner_id": partner_id,
                    "tier_id": tier_id,
                    "occasion_key": key,
                    "occasion_date": planned,
                    "date": planned,
                    "date_deadline": planned,
                    "state": "cancelled",
                }
            )
    env["vip.moment.occurrence"].with_context(**ENGINE_CONTEXT).create(vals_list)
    return len(vals_list)


def _migrate_churn_episodes(env):
    """Customers at high churn risk -> the occurrence of their episode."""
    cr = env.cr
    Rule = env["vip.moment.rule"].with_context(active_test=False)
    rules = Rule.search([("builtin_code", "=", "churn_retention")])
    if not rules:
        return 0
    by_company = {rule.company_id.id: rule for rule in rules}
    keys, _open_pairs = _occurrence_keys(env, rules)
    retention = env.ref("vip_customer.mail_activity_type_vip_retention", raise_if_not_found=False)
    env["mail.activity"].flush_model()
    env["res.partner"].flush_model()
    cr.execute(
        """
        SELECT p.id, p.vip_company_id, p.vip_tier_id, p.vip_churn_high_since,
               a.id, a.user_id, a.date_deadline
          FROM res_partner p
          LEFT JOIN LATERAL (
              SELECT a.id, a.user_id, a.date_deadline FROM mail_activity a
               WHERE a.res_model = 'res.partner' AND a.res_id = p.id
                 AND a.activity_type_id = %s AND a.active AND a.date_done IS NULL
               ORDER BY a.id DESC LIMIT 1
          ) a ON TRUE
         WHERE p.vip_churn_level = 'high' AND p.vip_churn_high_since IS NOT NULL
           AND p.vip_company_id IS NOT NULL AND p.id = p.commercial_partner_id
        """,
        (retention.id if retention else 0,),
    )
    vals_list = []
    for partner_id, company_id, tier_id, since, activity_id, user_id, deadline in cr.fetchall():
        rule = by_company.get(company_id)
        key = f"churn:{fields.Date.to_string(since)}"
        if not rule or (rule.id, partner_id, key) in keys:
            continue
        vals = {
            "rule_id": rule.id,
            "partner_id": partner_id,
            "tier_id": tier_id,
            "occasion_key": key,
            "occasion_date": since,
            "date": since,
        }
        if activity_id:
            vals.update(
                date_deadline=deadline, user_id=user_id, activity_id=activity_id, state="open"
            )
        else:
            vals.update(date_deadline=since, state="done", date_done=since)
        vals_list.append(vals)
    env["vip.moment.occurrence"].with_context(**ENGINE_CONTEXT).create(vals_list)
    return len(vals_list)


def migrate_key_moments(env):
    """The whole migration (also called by the tests on data set up with the
    old columns)."""
    env = env(su=True)
    env["res.company"]._vip_create_all_builtin_moment_rules()
    rules_by_tier = _create_tier_cadences(env)
    followups = _migrate_followups(env, rules_by_tier)
    episodes = _migrate_churn_episodes(env)
    cron = env.ref("vip_customer.ir_cron_vip_schedule_followups", raise_if_not_found=False)
    if cron:
        cron.unlink()
    # the next follow-up is the cadences' from now on
    partners = (
        env["res.partner"]
        .with_context(active_test=False)
        .search([("vip_tier_id", "!=", False), ("vip_company_id", "!=", False)])
    )
    env.add_to_compute(partners._fields["vip_next_followup_date"], partners)
    env.flush_all()
    _logger.info(
        "VIP key moments: %s follow-ups and %s churn episodes recorded as occurrences",
        followups,
        episodes,
    )
    return {"rules": rules_by_tier, "followups": followups, "episodes": episodes}


def migrate(cr, version):
    if not version:
        return
    migrate_key_moments(api.Environment(cr, SUPERUSER_ID, {}))
