"""The service tickets' triggers of the key-moment engine (see vip_customer's
``vip.moment.engine``): one SQL query of candidates per trigger type.

- ``ticket_closed``: a ticket that is not a complaint closed in the last
  ``EVENT_LOOKBACK_DAYS`` days - the account manager's follow-up call (it replaces
  the follow-up activity the ticket used to schedule itself on closing);
- ``complaint_closed``: a complaint closed in the last days;
- ``sla_breached``: a ticket whose SLA was breached in the last days (one moment
  per ticket, whichever of its deadlines was missed first).

The occasion is the ticket (``ticket:<id>``; a reopened ticket closed again is a
new occasion, ``ticket:<id>/<times reopened>``; a breach is ``sla:<id>``). The
ticket's customer account is the customer of the moment. The ticket signals its
closing (``vip.service.ticket._vip_signal_moments``) and the escalation cron the
breaches it finds, so the task comes at once; the nightly run catches the rest.
"""

import datetime

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL

from odoo.addons.vip_customer.models.vip_moment_engine import EVENT_LOOKBACK_DAYS

# trigger types whose occasion is a ticket (key ``ticket:<id>...`` or ``sla:<id>``)
TICKET_TRIGGERS = ("ticket_closed", "complaint_closed", "sla_breached")


class VipMomentEngine(models.AbstractModel):
    _inherit = "vip.moment.engine"

    # ------------------------------------------------------------------
    # Candidates
    # ------------------------------------------------------------------
    @api.model
    def _moment_sql_ticket_closing(self, rule, today, complaint):
        """The tickets of the rule's company closed in the last days, complaints or not
        (no upper bound: ``today`` is the user's day, ``close_date`` a UTC time, and
        nothing closes in the future)."""
        since = today - datetime.timedelta(days=EVENT_LOOKBACK_DAYS)
        return SQL(
            """
            SELECT t.commercial_partner_id AS partner_id,
                   'ticket:' || t.id
                   || CASE WHEN COALESCE(t.reopen_count, 0) > 0
                           THEN '/' || t.reopen_count ELSE '' END AS occasion_key,
                   t.close_date::date AS occasion_date
              FROM vip_service_ticket t
             WHERE t.company_id = %(company)s
               AND t.active
               AND t.is_closed
               AND t.commercial_partner_id IS NOT NULL
               AND COALESCE(t.is_complaint, FALSE) = %(complaint)s
               AND t.close_date::date >= %(since)s
            """,
            company=rule.company_id.id,
            complaint=complaint,
            since=since,
        )

    @api.model
    def _moment_sql_ticket_closed(self, rule, today, horizon):
        """A ticket (not a complaint: its loop has its own follow-up visit) closed in
        the last days: the account manager calls the customer about it."""
        return self._moment_sql_ticket_closing(rule, today, complaint=False)

    @api.model
    def _moment_sql_complaint_closed(self, rule, today, horizon):
        """A complaint closed in the last days."""
        return self._moment_sql_ticket_closing(rule, today, complaint=True)

    @api.model
    def _moment_sql_sla_breached(self, rule, today, horizon):
        """A ticket whose SLA is breached (the stored status, one definition:
        ``vip.service.sla.engine._get_breached_domain``), breached in the last days:
        dated by the first deadline it missed (the first response when it was
        answered late or not yet, else the resolution)."""
        since = today - datetime.timedelta(days=EVENT_LOOKBACK_DAYS)
        breached = (
            self.env["vip.service.ticket"]
            .sudo()
            .with_context(active_test=True)
            ._search(self.env["vip.service.sla.engine"]._get_breached_domain())
        )
        return SQL(
            """
            SELECT partner_id, occasion_key, occasion_date
              FROM (
                SELECT t.commercial_partner_id AS partner_id,
                       'sla:' || t.id AS occasion_key,
                       (CASE WHEN t.first_response_deadline IS NOT NULL
                                  AND COALESCE(t.first_response_date, t.close_date,
                                               t.sla_paused_since, %(now)s)
                                      > t.first_response_deadline
                             THEN t.first_response_deadline
                             ELSE COALESCE(t.resolution_deadline, t.close_date)
                        END)::date AS occasion_date
                  FROM vip_service_ticket t
                 WHERE t.company_id = %(company)s
                   AND t.commercial_partner_id IS NOT NULL
                   AND t.id IN %(breached)s
              ) b
             WHERE b.occasion_date >= %(since)s
            """,
            now=fields.Datetime.now(),
            company=rule.company_id.id,
            breached=breached.subselect(),
            since=since,
        )

    # ------------------------------------------------------------------
    # The ticket in the task
    # ------------------------------------------------------------------
    @api.model
    def _fire(self, rule, rows, today):
        engine = self
        if rule.trigger_type in TICKET_TRIGGERS and rows:
            # the task names the ticket of the occasion (see _prepare_activity_vals)
            tickets = {row[0]: self._ticket_of_key(row[1]) for row in rows}
            # one existence check for the batch (a ticket deleted meanwhile is not named)
            existing = set(
                self.env["vip.service.ticket"]
                .sudo()
                .browse(set(tickets.values()) - {None})
                .exists()
                .ids
            )
            tickets = {pid: tid for pid, tid in tickets.items() if tid in existing}
            engine = self.with_context(vip_moment_tickets=tickets)
        return super(VipMomentEngine, engine)._fire(rule, rows, today)

    @api.model
    def _ticket_of_key(self, occasion_key):
        """The ticket id of an occasion key of the ticket triggers (``ticket:42``,
        ``ticket:42/1``, ``sla:42``), else None."""
        prefix, _sep, rest = (occasion_key or "").partition(":")
        ticket_id = rest.split("/")[0]
        if prefix in ("ticket", "sla") and ticket_id.isdigit():
            return int(ticket_id)
        return None

    @api.model
    def _prepare_activity_vals(self, rule, partner, user, deadline, occasion_date):
        vals = super()._prepare_activity_vals(rule, partner, user, deadline, occasion_date)
        tickets = self.env.context.get("vip_moment_tickets") or {}
        ticket_id = tickets.get(partner.id)
        if ticket_id and rule.trigger_type in TICKET_TRIGGERS:
            # the batch's tickets read together, not one query per task
            ticket = (
                self.env["vip.service.ticket"]
                .sudo()
                .browse(ticket_id)
                .with_prefetch(tuple(tickets.values()))
            )
            if ticket:
                env = rule.with_context(lang=user.lang or self.env.lang or "en_US").env
                line = env._(
                    "Ticket %(number)s: %(subject)s", number=ticket.number, subject=ticket.name
                )
                vals["note"] = Markup("<p>%s</p>") % line + (vals.get("note") or "")
        return vals
