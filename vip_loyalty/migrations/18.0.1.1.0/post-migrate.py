"""The expiry-warning cron becomes the built-in key moment "Points expiring".

* the e-mail becomes a template for contacts, as every key-moment template:
  its record is ``noupdate``, so it is loaded again here, once (its old body
  reads fields that are gone);
* the cron record goes (it was ``noupdate``: Odoo would keep it, calling a
  method that no longer exists);
* every company gets the built-in rule; its "within" days are the program's
  former warning delay, and a program that did not warn (0 days) gets it
  archived;
* the lots already announced (``warning_sent``, a column the update drops
  afterwards) become processed occurrences of the rule, so nobody is warned
  twice about the same points across the upgrade.
"""

from odoo import SUPERUSER_ID, api, fields
from odoo.tools import SQL
from odoo.tools.convert import convert_file
from odoo.tools.sql import column_exists

from odoo.addons.vip_customer.models.vip_moment_occurrence import ENGINE_CONTEXT_KEY
from odoo.addons.vip_loyalty.models.res_company import POINTS_EXPIRING_CODE
from odoo.addons.vip_loyalty.models.vip_moment_engine import KEY_PREFIX


def migrate_expiry_warnings(env, today=None):
    """Rules from the programs, occurrences from the warned lots (idempotent).

    :return: the occurrences created
    """
    today = today or fields.Date.context_today(env["res.partner"])
    template = env.ref("vip_loyalty.mail_template_points_expiry_warning", raise_if_not_found=False)
    if template and template.model != "res.partner":
        # "init" mode: the loader writes a record of a noupdate block that exists
        convert_file(
            env,
            "vip_loyalty",
            "data/mail_template_data.xml",
            {},
            mode="init",
            noupdate=True,
            kind="data",
        )
    cron = env.ref("vip_loyalty.ir_cron_vip_loyalty_expiry_warning", raise_if_not_found=False)
    if cron:
        cron.unlink()
    env["res.company"]._vip_create_all_builtin_moment_rules()
    rules = {
        rule.company_id.id: rule
        for rule in env["res.company"]
        .search([])
        ._vip_get_builtin_moment_rules(POINTS_EXPIRING_CODE)
    }
    programs = env["vip.loyalty.program"].search([])
    for program in programs:
        rule = rules.get(program.company_id.id)
        if not rule:
            continue
        if program.warning_days > 0:
            rule.write({"within_days": program.warning_days})
        else:
            rule.write({"active": False})
    Occurrence = env["vip.moment.occurrence"].sudo().with_context(**{ENGINE_CONTEXT_KEY: True})
    if not column_exists(env.cr, "vip_loyalty_move", "warning_sent"):
        return Occurrence
    env.flush_all()
    # the announced lots still open: per customer, the last expiry date announced
    env.cr.execute(
        SQL(
            """
            SELECT a.company_id, a.partner_id, MIN(m.expiry_date), MAX(m.expiry_date)
              FROM vip_loyalty_move m
              JOIN vip_loyalty_account a ON a.id = m.account_id
             WHERE m.warning_sent AND m.remaining_points > 0 AND m.expiry_date > %s
             GROUP BY a.company_id, a.partner_id
            """,
            today,
        )
    )
    rows = [row for row in env.cr.fetchall() if row[0] in rules]
    if not rows:
        return Occurrence
    existing = {
        (o.rule_id.id, o.partner_id.id, o.occasion_key)
        for o in Occurrence.search(
            [
                ("rule_id", "in", [rules[row[0]].id for row in rows]),
                ("partner_id", "in", [row[1] for row in rows]),
            ]
        )
    }
    partners = env["res.partner"].browse({row[1] for row in rows})
    tiers = {partner.id: partner.vip_tier_id.id for partner in partners}
    vals_list = []
    for company_id, partner_id, first, last in rows:
        rule = rules[company_id]
        key = f"{KEY_PREFIX}{fields.Date.to_string(last)}"
        if (rule.id, partner_id, key) in existing:
            continue
        vals_list.append(
            {
                "rule_id": rule.id,
                "partner_id": partner_id,
                "occasion_key": key,
                "occasion_date": first,
                "tier_id": tiers.get(partner_id) or False,
                "date": today,
                "date_deadline": today,
                "state": "done",
                "date_done": today,
                "mail_sent": True,
            }
        )
    return Occurrence.create(vals_list)


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    migrate_expiry_warnings(env)
