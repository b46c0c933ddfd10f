"""Care moments as key-moment triggers: birthdays, customer anniversaries and
fixed dates (holidays).

Each trigger is one SQL query of the customers whose yearly occasion falls
between today and the rule's horizon (end of the cycle period + days ahead),
keyed ``<type>:<year>`` so that an occasion happens once a year per customer.
The greeting is the rule's e-mail template, the gift a task of the type
*VIP Gift* (``mail_activity_type_vip_gift``); the engine does the rest.

A yearly occasion on 29 February falls on 28 February in common years (see
``tools.vip_rules.occasion_date``): leap-day birthdays are not skipped.
"""

from markupsafe import Markup

from odoo import api, models
from odoo.tools import SQL

from ..tools.vip_rules import occasion_date

# the yearly dates of the customer a trigger reads, and who carries them:
# birthdays are people's (VIP individuals and the contacts of VIP companies,
# who carry their company's tier), anniversaries the commercial partner's
YEARLY_DATE_COLUMNS = {
    "birthday": "vip_birthday",
    "anniversary": "vip_anniversary_date",
}


class VipMomentEngine(models.AbstractModel):
    _inherit = "vip.moment.engine"

    # ------------------------------------------------------------------
    # Triggers
    # ------------------------------------------------------------------
    @api.model
    def _moment_sql_yearly_date(self, rule, today, horizon):
        """The customers whose yearly date (``YEARLY_DATE_COLUMNS``) comes
        between ``today`` and ``horizon``, the first time a year after the date
        itself (a relationship started this year has no anniversary yet).

        The date of the occasion in a year is clamped to the last day of its
        month (29 February -> 28 February in common years), in SQL as in
        ``occasion_date``; the years of ``today`` and ``horizon`` are both
        looked at, so a horizon crossing the new year finds January's dates.
        """
        column = SQL.identifier("p", YEARLY_DATE_COLUMNS[rule.trigger_type])
        if rule.trigger_type == "birthday":
            who = SQL("p.is_company IS NOT TRUE AND cp.vip_company_id = %s", rule.company_id.id)
        else:
            who = SQL(
                "p.id = p.commercial_partner_id AND p.vip_company_id = %s", rule.company_id.id
            )
        return SQL(
            """
            SELECT p.id AS partner_id,
                   %(prefix)s::varchar || y.yr AS occasion_key,
                   d.occasion_date
              FROM res_partner p
              JOIN res_partner cp ON cp.id = p.commercial_partner_id
             CROSS JOIN generate_series(%(from_year)s, %(to_year)s) AS y(yr)
             CROSS JOIN LATERAL (
                   SELECT make_date(y.yr, EXTRACT(MONTH FROM %(column)s)::int, 1) AS first_day
             ) m
             CROSS JOIN LATERAL (
                   SELECT LEAST(
                       m.first_day + (EXTRACT(DAY FROM %(column)s)::int - 1),
                       (m.first_day + INTERVAL '1 month - 1 day')::date
                   ) AS occasion_date
             ) d
             WHERE %(column)s IS NOT NULL
               AND p.vip_tier_id IS NOT NULL
               AND %(who)s
               AND y.yr > EXTRACT(YEAR FROM %(column)s)
               AND d.occasion_date BETWEEN %(today)s AND %(horizon)s
            """,
            prefix=f"{rule.trigger_type}:",
            from_year=today.year,
            to_year=horizon.year,
            column=column,
            who=who,
            today=today,
            horizon=horizon,
        )

    @api.model
    def _moment_sql_birthday(self, rule, today, horizon):
        """A VIP person's birthday: VIP individuals and the contacts of VIP
        companies (companies have no birthday)."""
        return self._moment_sql_yearly_date(rule, today, horizon)

    @api.model
    def _moment_sql_anniversary(self, rule, today, horizon):
        """The yearly anniversary of the relationship (``vip_anniversary_date``)
        of a VIP customer, from the year after it started."""
        return self._moment_sql_yearly_date(rule, today, horizon)

    @api.model
    def _moment_sql_fixed_date(self, rule, today, horizon):
        """A holiday on the rule's month/day: every VIP customer of the
        company (the commercial partners)."""
        dates = [
            day
            for year in range(today.year, horizon.year + 1)
            if rule.month and rule.day
            for day in [occasion_date(rule.month, rule.day, year)]
            if today <= day <= horizon
        ]
        if not dates:
            return SQL(
                "SELECT NULL::integer AS partner_id, NULL::varchar AS occasion_key, "
                "NULL::date AS occasion_date WHERE FALSE"
            )
        return SQL(
            """
            SELECT p.id AS partner_id,
                   'fixed_date:' || EXTRACT(YEAR FROM d.occasion_date)::int AS occasion_key,
                   d.occasion_date
              FROM res_partner p
             CROSS JOIN unnest(%s::date[]) AS d(occasion_date)
             WHERE p.vip_company_id = %s
               AND p.id = p.commercial_partner_id
               AND p.vip_tier_id IS NOT NULL
            """,
            dates,
            rule.company_id.id,
        )

    # ------------------------------------------------------------------
    # Gift tasks
    # ------------------------------------------------------------------
    @api.model
    def _prepare_activity_vals(self, rule, partner, user, deadline, occasion_date):
        """A gift task also tells the customer's gift preferences (in the
        assignee's language, like the rest of the task)."""
        vals = super()._prepare_activity_vals(rule, partner, user, deadline, occasion_date)
        # the id only (cached): env.ref would check the record exists, a query per task
        gift_type_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "vip_customer.mail_activity_type_vip_gift", raise_if_not_found=False
        )
        if gift_type_id and vals.get("activity_type_id") == gift_type_id:
            preference = (
                partner.vip_gift_preference or partner.commercial_partner_id.vip_gift_preference
            )
            if preference:
                env = rule.with_context(lang=user.lang or self.env.lang or "en_US").env
                vals["note"] = (vals.get("note") or Markup("")) + Markup("<p>%s</p>") % env._(
                    "Gift preferences: %(pref)s", pref=preference
                )
        return vals

    @api.model
    def _care_gift_name(self, occasion):
        """The name of the gift task of ``occasion`` in the context's language
        (the upgrade names the gift rules of the former care occasions with it)."""
        return self.env._("Gift: %(occasion)s", occasion=occasion)
