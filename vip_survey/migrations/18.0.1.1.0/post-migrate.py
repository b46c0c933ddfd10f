"""The passive follow-up becomes the built-in key moment "Passive answer".

Every company gets the built-in rules; the passive answers already followed up
(``vip_followup_scheduled``, a column the update drops afterwards) become
processed occurrences of the company's rule, so that no passive customer gets
a second follow-up task for the same answer across the upgrade.
"""

from odoo import SUPERUSER_ID, api, fields
from odoo.tools import SQL
from odoo.tools.sql import column_exists

from odoo.addons.vip_customer.models.vip_moment_occurrence import ENGINE_CONTEXT_KEY
from odoo.addons.vip_survey.models.res_company import NPS_PASSIVE_CODE


def migrate_passive_followups(env):
    """Rules for every company, occurrences from the answers followed up (idempotent).

    :return: the occurrences created
    """
    env["res.company"]._vip_create_all_builtin_moment_rules()
    rules = {
        rule.company_id.id: rule
        for rule in env["res.company"].search([])._vip_get_builtin_moment_rules(NPS_PASSIVE_CODE)
    }
    Occurrence = env["vip.moment.occurrence"].sudo().with_context(**{ENGINE_CONTEXT_KEY: True})
    if not rules or not column_exists(env.cr, "survey_user_input", "vip_followup_scheduled"):
        return Occurrence
    env.flush_all()
    # read-only on survey_user_input: the old flag of this add-on's own column
    env.cr.execute(
        SQL(
            """
            SELECT c.company_id, p.commercial_partner_id, ui.id,
                   COALESCE(ui.end_datetime, ui.create_date)::date
              FROM survey_user_input ui
              JOIN vip_survey_campaign c ON c.id = ui.vip_campaign_id
              JOIN res_partner p ON p.id = ui.partner_id
             WHERE ui.vip_followup_scheduled AND ui.vip_nps_class = 'passive'
            """
        )
    )
    rows = [row for row in env.cr.fetchall() if row[0] in rules]
    if not rows:
        return Occurrence
    existing = set(
        Occurrence.search([("rule_id", "in", [rule.id for rule in rules.values()])]).mapped(
            lambda o: (o.rule_id.id, o.partner_id.id, o.occasion_key)
        )
    )
    partners = env["res.partner"].browse({row[1] for row in rows})
    tiers = {partner.id: partner.vip_tier_id.id for partner in partners}
    vals_list = []
    for company_id, partner_id, answer_id, day in rows:
        rule = rules[company_id]
        key = f"answer:{answer_id}"
        if (rule.id, partner_id, key) in existing:
            continue
        existing.add((rule.id, partner_id, key))
        day = day or fields.Date.context_today(env["res.partner"])
        vals_list.append(
            {
                "rule_id": rule.id,
                "partner_id": partner_id,
                "occasion_key": key,
                "occasion_date": day,
                "tier_id": tiers.get(partner_id) or False,
                "date": day,
                "date_deadline": day,
                "state": "done",
                "date_done": day,
            }
        )
    return Occurrence.create(vals_list)


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    migrate_passive_followups(env)
