"""Care occasions become key-moment rules, their log done key moments.

18.0.1.2.0 removes ``vip.care.occasion`` and ``vip.care.log``: birthdays,
customer anniversaries and holidays are key-moment rules (triggers
``birthday`` / ``anniversary`` / ``fixed_date``) run by the key-moment engine.
The old tables still exist during post-migrate (Odoo drops them at the end of
the upgrade): they are read with SQL here, the rules and occurrences are
created through the ORM.

* each occasion gives a rule of its company, tiers, days ahead, template,
  name (with its translations), sequence and archived state; its gift activity
  becomes a task of the type *VIP Gift*. An occasion whose gift went to a
  subset of its tiers ("Gift For Tiers") gives two rules: the greeting for all
  its tiers (no task), and the gift for the subset (no e-mail, named
  "Gift: <occasion>");
* each care log row gives a processed key moment of the rule(s) that did what
  it records, keyed ``<type>:<year>`` as the engine keys them, with whether the
  e-mail went and why not: the engine does not greet anyone twice for the same
  occasion across the upgrade, nor prepare a gift twice;
* the demo occasions of a demo database are replaced by the demo care rules
  (loaded by the upgrade): their log goes to those;
* the care cron goes (a ``noupdate`` record Odoo would not remove itself).
"""

import logging
from collections import defaultdict

from odoo import SUPERUSER_ID, Command, api
from odoo.tools.sql import table_exists

_logger = logging.getLogger(__name__)

TRIGGER_TYPES = {"birthday": "birthday", "anniversary": "anniversary", "fixed": "fixed_date"}
# the demo occasions: an upgraded demo database loads the demo care rules that
# replace them (demo/vip_moment_rule_care_demo.xml), their log goes to these
# ``{occasion xml id: [(rule xml id, mails, gifts)]}``
DEMO_RULES = {
    "vip_care_occasion_demo_birthday": [
        ("vip_moment_rule_demo_birthday_greeting", True, False),
        ("vip_moment_rule_demo_birthday_gift", False, True),
    ],
    "vip_care_occasion_demo_spring_festival": [
        ("vip_moment_rule_demo_spring_festival", True, True)
    ],
    "vip_care_occasion_demo_mid_autumn": [("vip_moment_rule_demo_mid_autumn", False, True)],
    "vip_care_occasion_demo_anniversary": [("vip_moment_rule_demo_anniversary", True, False)],
}
OCCURRENCE_BATCH_SIZE = 1000


def migrate(cr, version):
    if not version:
        return
    migrate_care(api.Environment(cr, SUPERUSER_ID, {}))


def _relation(cr, table, column1, column2):
    """``{id: {ids}}`` of an old many2many table (empty when it is gone)."""
    result = defaultdict(set)
    if table_exists(cr, table):
        cr.execute(f'SELECT "{column1}", "{column2}" FROM "{table}"')  # noqa: S608
        for left, right in cr.fetchall():
            result[left].add(right)
    return result


def _translate(rule, fname, values):
    """Give ``rule.fname`` the translations ``{lang: value}`` of the active
    languages (English is the value it was created with)."""
    installed = {code for code, _name in rule.env["res.lang"].get_installed()}
    translations = {
        lang: value for lang, value in values.items() if lang in installed and lang != "en_US"
    }
    if translations:
        rule.update_field_translations(fname, translations)


def _english(values):
    return values.get("en_US") or next(iter(values.values()), "") or "-"


def _migrate_occasion(env, occasion, tiers, gift_tiers):
    """The rules of one care occasion: ``[(rule, mails, gifts)]`` where
    ``mails`` / ``gifts`` say which care log rows the rule inherits (those of
    all customers greeted or not / those whose gift was planned)."""
    Rule = env["vip.moment.rule"].with_context(lang="en_US")
    Engine = env["vip.moment.engine"]
    names = occasion["name"] or {"en_US": "-"}
    trigger = TRIGGER_TYPES.get(occasion["occasion_type"], "birthday")
    template = occasion["mail_template_id"] if occasion["send_mail"] else False
    gift = bool(occasion["create_activity"])
    subset = gift_tiers.get(occasion["id"], set())
    all_tiers = tiers.get(occasion["id"], set())
    gift_rule_tiers = (subset & all_tiers if all_tiers else subset) if subset else all_tiers
    if subset and not gift_rule_tiers:
        gift = False  # the gift went to tiers the occasion does not care for: never
    split = gift and template and gift_rule_tiers != all_tiers
    gift_type = env.ref("vip_customer.mail_activity_type_vip_gift")
    gift_names = {
        lang: Engine.with_context(lang=lang)._care_gift_name(value) for lang, value in names.items()
    }
    base = {
        "company_id": occasion["company_id"],
        "trigger_type": trigger,
        "month": (occasion["month"] or 0) if trigger == "fixed_date" else 0,
        "day": (occasion["day"] or 0) if trigger == "fixed_date" else 0,
        "lead_days": min(max(occasion["days_before"] or 0, 0), 365),
        "sequence": occasion["sequence"] or 10,
        "cycle": "daily",
        "assign_to": "account_manager",
        "builtin": False,
    }
    gift_vals = {"create_activity": True, "activity_type_id": gift_type.id}
    result = []
    if split:
        greeting = Rule.create(
            {
                **base,
                "name": _english(names),
                "tier_ids": [Command.set(sorted(all_tiers))],
                "create_activity": False,
                "mail_template_id": template,
                "active": bool(occasion["active"]),
            }
        )
        _translate(greeting, "name", names)
        gift_rule = Rule.create(
            {
                **base,
                **gift_vals,
                "name": _english(gift_names),
                "tier_ids": [Command.set(sorted(gift_rule_tiers))],
                "active": bool(occasion["active"]),
            }
        )
        _translate(gift_rule, "name", gift_names)
        result += [(greeting, True, False), (gift_rule, False, True)]
    else:
        vals = {
            **base,
            "name": _english(names),
            "tier_ids": [Command.set(sorted(gift_rule_tiers if gift else all_tiers))],
            "mail_template_id": template,
            # an occasion that neither greets nor gifts does nothing: archived
            "active": bool(occasion["active"]) and bool(template or gift),
        }
        if gift:
            vals.update(gift_vals, activity_summary=_english(gift_names))
        else:
            vals["create_activity"] = False
        rule = Rule.create(vals)
        _translate(rule, "name", names)
        if gift:
            _translate(rule, "activity_summary", gift_names)
        result.append((rule, bool(template), gift))
    return result


def _demo_rules(env):
    """``{occasion id: [(rule, mails, gifts)]}`` of the demo occasions whose
    demo rules are loaded."""
    env.cr.execute(
        """
        SELECT res_id, name FROM ir_model_data
         WHERE module = 'vip_customer' AND model = 'vip.care.occasion' AND name IN %s
        """,
        (tuple(DEMO_RULES),),
    )
    result = {}
    for occasion_id, name in env.cr.fetchall():
        rules = [
            (env.ref(f"vip_customer.{xmlid}", raise_if_not_found=False), mails, gifts)
            for xmlid, mails, gifts in DEMO_RULES[name]
        ]
        if all(rule for rule, _mails, _gifts in rules):
            result[occasion_id] = rules
    return result


def _migrate_logs(env, rules_by_occasion):
    """One processed key moment per care log row and rule that did its part."""
    cr = env.cr
    Occurrence = env["vip.moment.occurrence"].sudo().with_context(vip_moment_engine=True)
    cr.execute(
        """
        SELECT l.occasion_id, l.partner_id, l.year, l.date, l.occasion_date,
               l.mail_sent, l.activity_created, l.skipped_reason, p.vip_tier_id
          FROM vip_care_log l
          JOIN res_partner p ON p.id = l.partner_id
         ORDER BY l.id
        """
    )
    vals_list, count = [], 0
    for row in cr.dictfetchall():
        for rule, mails, gifts in rules_by_occasion.get(row["occasion_id"], []):
            if not (mails or (gifts and row["activity_created"])):
                continue
            day = row["date"]
            vals_list.append(
                {
                    "rule_id": rule.id,
                    "partner_id": row["partner_id"],
                    "occasion_key": f"{rule.trigger_type}:{row['year']}",
                    "occasion_date": row["occasion_date"],
                    "tier_id": row["vip_tier_id"],
                    "date": day,
                    "date_deadline": row["occasion_date"] or day,
                    "state": "done",
                    "date_done": day,
                    "mail_sent": bool(mails and row["mail_sent"]),
                    "skipped_reason": (row["skipped_reason"] or False) if mails else False,
                }
            )
            if len(vals_list) >= OCCURRENCE_BATCH_SIZE:
                count += len(Occurrence.create(vals_list))
                vals_list = []
    if vals_list:
        count += len(Occurrence.create(vals_list))
    return count


def migrate_care(env):
    """Turn the care occasions and their log into rules and processed key
    moments; remove the care cron.

    :return: ``{occasion id: [rules]}``
    """
    cr = env.cr
    cron = env.ref("vip_customer.ir_cron_vip_care_moments", raise_if_not_found=False)
    if cron:
        cron.unlink()
    if not table_exists(cr, "vip_care_occasion"):
        return {}
    tiers = _relation(cr, "vip_care_occasion_vip_tier_rel", "vip_care_occasion_id", "vip_tier_id")
    gift_tiers = _relation(cr, "vip_care_occasion_activity_tier_rel", "occasion_id", "tier_id")
    cr.execute(
        """
        SELECT id, name, company_id, occasion_type, month, day, days_before, send_mail,
               mail_template_id, create_activity, active, sequence
          FROM vip_care_occasion
         ORDER BY company_id, sequence, id
        """
    )
    occasions = cr.dictfetchall()
    demo = _demo_rules(env)
    rules_by_occasion = {
        occasion["id"]: demo.get(occasion["id"])
        or _migrate_occasion(env, occasion, tiers, gift_tiers)
        for occasion in occasions
    }
    count = _migrate_logs(env, rules_by_occasion) if table_exists(cr, "vip_care_log") else 0
    _logger.info(
        "VIP care: %s care occasions became key-moment rules, %s care log rows processed "
        "key moments",
        len(rules_by_occasion),
        count,
    )
    return {
        occasion_id: [rule for rule, _mails, _gifts in rules]
        for occasion_id, rules in rules_by_occasion.items()
    }
