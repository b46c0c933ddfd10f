"""SLA policies and the working-time engine behind their deadlines.

Deadlines are computed in batch: the tickets are grouped by calendar, the work
intervals of each calendar are fetched once for the whole period they need
(``_work_intervals_batch``), and ``tools.work_time.WorkTimeline`` answers every
deadline with a binary search, instead of one ``plan_hours`` per ticket.
"""

from collections import defaultdict
from datetime import timedelta

from pytz import utc

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools.work_time import ContinuousTimeline, WorkTimeline

# Working hours a person may type in one target or delay: ten years of round-the-clock work,
# far above any real SLA, far below what overflows a date.
MAX_WORK_HOURS = 87_600

PRIORITIES = [("0", "Low"), ("1", "Normal"), ("2", "High"), ("3", "Urgent")]

# Days of calendar fetched past the last start; widened when a target falls beyond.
TIMELINE_SPAN_DAYS = 45
TIMELINE_MAX_DAYS = 800


class VipServiceSla(models.Model):
    _name = "vip.service.sla"
    _inherit = ["vip.bounds.mixin", "vip.company.guard.mixin"]
    _description = "VIP Service SLA Policy"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(
        default=10, help="Among equally specific policies, the lowest sequence applies."
    )
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    description = fields.Text(translate=True)
    tier_ids = fields.Many2many(
        "vip.tier",
        string="Tiers",
        check_company=True,
        help="Customers of these tiers. Empty: any customer, VIP or not.",
    )
    category_ids = fields.Many2many(
        "vip.service.category", string="Categories", help="Empty: any category."
    )
    team_ids = fields.Many2many(
        "vip.service.team", string="Teams", check_company=True, help="Empty: any team."
    )
    priority = fields.Selection(PRIORITIES, help="Only tickets of this priority. Empty: any.")
    first_response_hours = fields.Float(
        string="First Response (working hours)",
        help="Working hours from the creation of the ticket to the first public reply of "
        "staff. 0: no first-response target.",
    )
    resolution_hours = fields.Float(
        string="Resolution (working hours)",
        help="Working hours from the creation of the ticket to its closing, pauses excluded. "
        "0: no resolution target.",
    )
    warning_percent = fields.Float(
        string="At Risk From (%)",
        default=75.0,
        help="Share of the budget after which a ticket is at risk and the warning steps fire.",
    )
    escalation_ids = fields.One2many(
        "vip.service.sla.escalation", "sla_id", string="Escalation Ladder", copy=True
    )
    ticket_count = fields.Integer(compute="_compute_ticket_count")

    _sql_constraints = [
        (
            "targets_positive",
            "CHECK(first_response_hours >= 0 AND resolution_hours >= 0)",
            "SLA targets cannot be negative.",
        ),
        (
            "warning_percent_range",
            "CHECK(warning_percent > 0 AND warning_percent < 100)",
            "The at-risk threshold is a share of the budget between 0 and 100%.",
        ),
    ]

    @api.model
    def _get_vip_bounds(self):
        return {
            "first_response_hours": (0, MAX_WORK_HOURS),
            "resolution_hours": (0, MAX_WORK_HOURS),
            "warning_percent": (0, 100),
        }

    def _compute_ticket_count(self):
        counts = dict(
            self.env["vip.service.ticket"]._read_group(
                [("sla_id", "in", self.ids)], ["sla_id"], ["__count"]
            )
        )
        for sla in self:
            sla.ticket_count = counts.get(sla, 0)

    def action_view_tickets(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_service_ticket.vip_service_ticket_action"
        )
        action["domain"] = [("sla_id", "=", self.id)]
        action["context"] = {}
        return action

    # ------------------------------------------------------------------
    # Matching
    # ------------------------------------------------------------------
    def _get_match_criteria(self):
        """The criteria of the policy: ``{ticket field: allowed values}`` (hook).

        A criterion left empty matches any ticket; the more criteria a policy sets,
        the more specific it is. Override to add criteria (e.g. a product line).
        """
        self.ensure_one()
        criteria = {
            "vip_tier_id": set(self.tier_ids.ids),
            "category_id": set(self.category_ids.ids),
            "team_id": set(self.team_ids.ids),
            "priority": {self.priority} if self.priority else set(),
        }
        return {fname: values for fname, values in criteria.items() if values}

    @api.model
    def _match_tickets(self, tickets):
        """The policy of each ticket: ``{ticket: sla or empty}``.

        All the policies of the tickets' companies are read once; the most specific
        matching policy wins, the sequence breaks ties.
        """
        policies = self.search([("company_id", "in", tickets.company_id.ids)])
        ranked = sorted(
            ((sla, sla._get_match_criteria()) for sla in policies),
            key=lambda item: (-len(item[1]), item[0].sequence, item[0].id),
        )
        ranked = [(sla, sla.company_id.id, list(criteria.items())) for sla, criteria in ranked]
        fnames = {fname for _sla, _company, criteria in ranked for fname, _allowed in criteria}
        # criteria on columns are read in one query, others through the ORM
        columns = {
            fname
            for fname in fnames
            if tickets._fields[fname].store and tickets._fields[fname].column_type
        }
        rows = tickets._sla_rows(tuple(sorted(columns | {"company_id"})))
        empty = self.browse()
        result = {}
        for ticket in tickets:
            values = rows[ticket.id]
            for fname in fnames - columns:
                value = ticket[fname]
                values[fname] = value.id if isinstance(value, models.BaseModel) else value
            company_id = values["company_id"]
            result[ticket] = next(
                (
                    sla
                    for sla, sla_company_id, criteria in ranked
                    if sla_company_id == company_id
                    and all(values[fname] in allowed for fname, allowed in criteria)
                ),
                empty,
            )
        return result

    # ------------------------------------------------------------------
    # Working time
    # ------------------------------------------------------------------
    @api.model
    def _get_timeline(self, calendar, start, stop):
        """The work intervals of ``calendar`` between two naive UTC datetimes.

        Public holidays and closures (calendar leaves without resource) are removed.
        Without calendar, every hour counts.
        """
        if not calendar:
            return ContinuousTimeline()
        intervals = calendar._work_intervals_batch(utc.localize(start), utc.localize(stop))[False]
        return WorkTimeline(
            [
                (
                    begin.astimezone(utc).replace(tzinfo=None),
                    end.astimezone(utc).replace(tzinfo=None),
                )
                for begin, end, _meta in intervals
            ],
            period_start=start,
            period_stop=stop,
        )

    @api.model
    def _plan_work_hours(self, requests):
        """Add working hours to datetimes, in batch.

        :param requests: iterable of ``(key, calendar, start, hours)`` with naive UTC ``start``
        :return: ``{key: naive UTC datetime}``

        One interval computation per calendar for the whole batch; a calendar whose period
        is too short for some target is fetched again, over a longer period, only for them.
        """
        by_calendar = defaultdict(list)
        for key, calendar, start, hours in requests:
            by_calendar[calendar].append((key, start, hours))
        result = {}
        for calendar, items in by_calendar.items():
            span = TIMELINE_SPAN_DAYS
            while items:
                first = min(start for _key, start, _hours in items)
                last = max(start for _key, start, _hours in items)
                timeline = self._get_timeline(
                    calendar, first - timedelta(days=1), last + timedelta(days=span)
                )
                missing = []
                for key, start, hours in items:
                    target = timeline.plan(start, hours)
                    if target is None:
                        missing.append((key, start, hours))
                    else:
                        result[key] = target
                items = missing
                if items and span >= TIMELINE_MAX_DAYS:
                    raise UserError(
                        self.env._(
                            "The working hours %(calendar)s have no working time in the coming "
                            "%(days)s days: SLA deadlines cannot be computed on them.",
                            calendar=calendar.display_name,
                            days=span,
                        )
                    )
                span *= 4
        return result

    @api.model
    def _work_hours_between(self, requests):
        """Working hours between pairs of datetimes, in batch.

        :param requests: iterable of ``(key, calendar, start, stop)`` (naive UTC)
        :return: ``{key: hours}``
        """
        by_calendar = defaultdict(list)
        for key, calendar, start, stop in requests:
            by_calendar[calendar].append((key, start, stop))
        result = {}
        for calendar, items in by_calendar.items():
            first = min(start for _key, start, _stop in items)
            last = max(stop for _key, _start, stop in items)
            timeline = self._get_timeline(
                calendar, first - timedelta(days=1), max(last, first) + timedelta(days=1)
            )
            for key, start, stop in items:
                result[key] = round(timeline.duration(start, stop), 4)
        return result
