from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models

# Churn points per open complaint / per SLA breach of the last BREACH_DAYS, and caps.
COMPLAINT_POINTS, COMPLAINT_CAP = 10, 30
BREACH_POINTS, BREACH_CAP = 5, 20
BREACH_DAYS = 90


class VipTierEngine(models.AbstractModel):
    _inherit = "vip.tier.engine"

    @api.model
    def _get_ticket_churn_counts(self, company, partner_ids):
        """``{customer id: (open complaints, breaches of the last BREACH_DAYS)}``.

        Counted with the SLA engine's domain builders (``_get_open_domain``,
        ``_get_breached_domain``): the same tickets the "Open" and "Breached" filters
        and the ticket's status show, a ticket waiting for the customer included as
        they judge it. Statuses the clock changed since the escalation cron last ran
        are refreshed first. Two grouped counts for the whole batch of customers.
        """
        Sla = self.env["vip.service.sla.engine"]
        # sudo: the churn signal counts every ticket of the customer, whoever recomputes
        Ticket = self.env["vip.service.ticket"].sudo()
        now = fields.Datetime.now()
        scope = [
            ("commercial_partner_id", "in", list(partner_ids)),
            ("company_id", "=", company.id),
        ]
        Sla._refresh_status(
            Ticket.with_context(active_test=False).search(scope + Sla._get_status_stale_domain(now))
        )
        complaints = Ticket._read_group(
            scope + [("is_complaint", "=", True)] + Sla._get_open_domain(),
            ["commercial_partner_id"],
            ["__count"],
        )
        breaches = Ticket._read_group(
            scope
            + [("sla_start_date", ">=", now - timedelta(days=BREACH_DAYS))]
            + Sla._get_breached_domain(),
            ["commercial_partner_id"],
            ["__count"],
        )
        counts = defaultdict(lambda: [0, 0])
        for partner, count in complaints:
            counts[partner.id][0] = count
        for partner, count in breaches:
            counts[partner.id][1] = count
        return counts

    @api.model
    def _get_churn_signal_dates(self, company, partner_ids):
        """A customer with an open ticket (its deadlines can pass) or a breach of
        the last BREACH_DAYS (it leaves the count) is evaluated every night
        while it lasts: a few customers, and the status needs no date arithmetic
        of its own."""
        dates = super()._get_churn_signal_dates(company, partner_ids)
        if not partner_ids:
            return dates
        Sla = self.env["vip.service.sla.engine"]
        Ticket = self.env["vip.service.ticket"].sudo()
        since = fields.Datetime.now() - timedelta(days=BREACH_DAYS)
        scope = [
            ("commercial_partner_id", "in", list(partner_ids)),
            ("company_id", "=", company.id),
        ]
        tomorrow = fields.Date.context_today(self) + timedelta(days=1)
        for domain in (
            Sla._get_open_domain(),
            [("sla_start_date", ">=", since)] + Sla._get_breached_domain(),
        ):
            for (partner,) in Ticket._read_group(scope + domain, ["commercial_partner_id"]):
                dates[partner.id] = min(tomorrow, dates.get(partner.id, tomorrow))
        return dates

    @api.model
    def _get_churn_signals(self, company, partner_ids):
        """Open complaints and recent SLA breaches raise the churn risk.

        Counted by ``_get_ticket_churn_counts`` (the SLA engine's one definition of
        "open" and "breached"), for the whole batch of customers at once.
        """
        signals = super()._get_churn_signals(company, partner_ids)
        if not partner_ids:
            return signals
        counts = self._get_ticket_churn_counts(company, partner_ids)
        rows = [
            (partner_id, *counts[partner_id]) for partner_id in partner_ids if partner_id in counts
        ]
        for partner_id, complaints, breaches in rows:
            if not (complaints or breaches):
                continue
            partner_signals = signals.setdefault(partner_id, [])
            if complaints:
                partner_signals.append(
                    (
                        min(complaints * COMPLAINT_POINTS, COMPLAINT_CAP),
                        self.env._("1 open complaint")
                        if complaints == 1
                        else self.env._("%(count)s open complaints", count=complaints),
                    )
                )
            if breaches:
                partner_signals.append(
                    (
                        min(breaches * BREACH_POINTS, BREACH_CAP),
                        self.env._("1 SLA breach in %(days)s days", days=BREACH_DAYS)
                        if breaches == 1
                        else self.env._(
                            "%(count)s SLA breaches in %(days)s days",
                            count=breaches,
                            days=BREACH_DAYS,
                        ),
                    )
                )
        return signals


# What a ticket's churn signal reads: a change has its customer evaluated at the next night.
SIGNAL_FIELDS = frozenset({"stage_id", "partner_id", "company_id", "active", "category_id"})


class VipServiceTicket(models.Model):
    _inherit = "vip.service.ticket"  # pylint: disable=consider-merging-classes-inherited

    @api.model_create_multi
    def create(self, vals_list):
        tickets = super().create(vals_list)
        tickets.commercial_partner_id.sudo()._vip_mark_for_evaluation()
        return tickets

    def write(self, vals):
        if not SIGNAL_FIELDS & vals.keys():
            return super().write(vals)
        before = self.commercial_partner_id
        result = super().write(vals)
        (before | self.commercial_partner_id).sudo()._vip_mark_for_evaluation()
        return result
