"""SLA of the VIP service tickets: deadlines on working calendars, pauses, status,
first response, closing results and the escalation ladder.

Everything here works on recordsets: deadlines for many tickets cost one interval
computation per calendar (see ``vip.service.sla._plan_work_hours``) and one
``UPDATE ... FROM (VALUES ...)`` per batch; the escalation cron selects the due
tickets with one indexed query on ``next_escalation_date``.
"""

import logging
from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

SLA_STATUSES = [
    ("on_track", "On Track"),
    ("at_risk", "At Risk"),
    ("breached", "Breached"),
    ("met", "Met"),
]
# Ticket fields that decide which policy applies.
SLA_MATCH_FIELDS = {"partner_id", "vip_tier_id", "category_id", "priority", "team_id", "company_id"}
# Fields the SLA engine writes in batch.
SLA_WRITE_FIELDS = [
    "sla_id",
    "first_response_deadline",
    "first_response_warning_date",
    "resolution_deadline",
    "resolution_warning_date",
    "next_escalation_date",
]
ESCALATION_BATCH_SIZE = 2000
PRIORITY_MAX = "3"


class VipServiceTicket(models.Model):
    _inherit = "vip.service.ticket"

    sla_id = fields.Many2one(
        "vip.service.sla",
        string="SLA Policy",
        copy=False,
        index="btree_not_null",
        check_company=True,
        readonly=True,
    )
    sla_start_date = fields.Datetime(
        string="SLA Start",
        required=True,
        readonly=True,
        copy=False,
        default=fields.Datetime.now,
        help="When the SLA clock started: the creation of the ticket.",
    )
    first_response_deadline = fields.Datetime(readonly=True, copy=False)
    first_response_warning_date = fields.Datetime(
        string="First Response At Risk From", readonly=True, copy=False
    )
    first_response_date = fields.Datetime(
        readonly=True, copy=False, help="First public reply of staff to the customer."
    )
    resolution_deadline = fields.Datetime(readonly=True, copy=False, index="btree_not_null")
    resolution_warning_date = fields.Datetime(
        string="Resolution At Risk From", readonly=True, copy=False
    )
    sla_paused_since = fields.Datetime(
        string="Waiting Since",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The ticket waits for the customer: the SLA clock is stopped since then.",
    )
    sla_paused_hours = fields.Float(
        string="Paused (working hours)",
        readonly=True,
        copy=False,
        help="Working hours the ticket spent waiting for the customer; the deadlines were "
        "moved by as much.",
    )
    sla_status = fields.Selection(
        SLA_STATUSES,
        string="SLA Status",
        compute="_compute_sla_status",
        search="_search_sla_status",
    )
    sla_met = fields.Boolean(
        string="SLA Met",
        readonly=True,
        copy=False,
        help="Set on closing: both targets were reached in time.",
    )
    first_response_work_hours = fields.Float(
        string="First Response Time (working hours)",
        readonly=True,
        copy=False,
        aggregator="avg",
    )
    resolution_work_hours = fields.Float(
        string="Resolution Time (working hours)",
        readonly=True,
        copy=False,
        aggregator="avg",
        help="Working hours from opening to closing, pauses excluded.",
    )
    next_escalation_date = fields.Datetime(
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="When the next step of the escalation ladder is due.",
    )
    escalation_level = fields.Integer(readonly=True, copy=False, aggregator="max")
    escalation_ids = fields.One2many(
        "vip.service.ticket.escalation", "ticket_id", string="Escalations", readonly=True
    )

    # ------------------------------------------------------------------
    # Status
    # ------------------------------------------------------------------
    @api.depends(
        "sla_id",
        "is_closed",
        "sla_met",
        "sla_paused_since",
        "first_response_date",
        "first_response_deadline",
        "first_response_warning_date",
        "resolution_deadline",
        "resolution_warning_date",
    )
    def _compute_sla_status(self):
        now = fields.Datetime.now()
        for ticket in self:
            ticket.sla_status = ticket._get_sla_status(now)

    def _get_sla_status(self, now):
        self.ensure_one()
        if not self.sla_id:
            return False
        if self.is_closed:
            return "met" if self.sla_met else "breached"
        ref = self.sla_paused_since or now
        frd = self.first_response_deadline
        if (frd and (self.first_response_date or ref) > frd) or (
            self.resolution_deadline and ref > self.resolution_deadline
        ):
            return "breached"
        if (
            not self.first_response_date
            and self.first_response_warning_date
            and ref >= self.first_response_warning_date
        ) or (self.resolution_warning_date and ref >= self.resolution_warning_date):
            return "at_risk"
        return "on_track"

    def _search_sla_status(self, operator, value):
        if operator in ("=", "!="):
            values = {value}
        elif operator in ("in", "not in"):
            values = set(value)
        else:
            raise NotImplementedError(operator)
        self.flush_model()
        ref = SQL("COALESCE(t.sla_paused_since, %s)", fields.Datetime.now())
        breached = SQL(
            "((t.first_response_deadline IS NOT NULL"
            " AND COALESCE(t.first_response_date, %(ref)s) > t.first_response_deadline)"
            " OR (t.resolution_deadline IS NOT NULL AND %(ref)s > t.resolution_deadline))",
            ref=ref,
        )
        at_risk = SQL(
            "((t.first_response_date IS NULL AND t.first_response_warning_date <= %(ref)s)"
            " OR t.resolution_warning_date <= %(ref)s)",
            ref=ref,
        )
        conditions = {
            "met": SQL("(t.is_closed AND t.sla_met)"),
            "breached": SQL(
                "((t.is_closed AND NOT COALESCE(t.sla_met, FALSE))"
                " OR (NOT COALESCE(t.is_closed, FALSE) AND %s))",
                breached,
            ),
            "at_risk": SQL(
                "(NOT COALESCE(t.is_closed, FALSE) AND NOT %s AND %s)", breached, at_risk
            ),
            "on_track": SQL(
                "(NOT COALESCE(t.is_closed, FALSE) AND NOT %s AND NOT COALESCE(%s, FALSE))",
                breached,
                at_risk,
            ),
        }
        selected = [conditions[v] for v in values if v in conditions]
        where = SQL(" OR ").join(selected) if selected else SQL("FALSE")
        query = SQL(
            "(SELECT t.id FROM vip_service_ticket t WHERE t.sla_id IS NOT NULL AND (%s))", where
        )
        if False in values:
            query = SQL(
                "(SELECT t.id FROM vip_service_ticket t WHERE t.sla_id IS NULL OR (%s))", where
            )
        return [("id", "not in" if operator in ("!=", "not in") else "in", query)]

    # ------------------------------------------------------------------
    # Deadlines
    # ------------------------------------------------------------------
    def _get_sla_calendar(self):
        """Calendar the ticket's SLA counts on: the team's, else the company's (hook)."""
        self.ensure_one()
        if self.team_id:
            return self.team_id._get_sla_calendar()
        return self.company_id.resource_calendar_id

    def _sla_on_create(self):
        self._sla_compute_deadlines(match=True)

    def _sla_on_write(self, vals):
        if self.env.context.get("vip_sla_keep"):
            return
        if SLA_MATCH_FIELDS & vals.keys():
            self.filtered(lambda t: not t.is_closed)._sla_compute_deadlines(match=True)

    def action_recompute_sla(self):
        """Match the policy again and recompute the deadlines (after a policy change)."""
        self.filtered(lambda t: not t.is_closed)._sla_compute_deadlines(match=True)

    def _sla_compute_deadlines(self, match=True):
        """Policy, deadlines, warning dates and next escalation of open tickets, in batch.

        Deadlines count the working hours of the ticket's calendar from the SLA start,
        plus the working hours already spent waiting for the customer.
        """
        tickets = self.filtered(lambda t: not t.is_closed)
        if not tickets:
            return
        policies = (
            self.env["vip.service.sla"]._match_tickets(tickets)
            if match
            else {ticket: ticket.sla_id for ticket in tickets}
        )
        requests = []
        calendars = {}
        for ticket in tickets:
            sla = policies[ticket]
            calendar = calendars.setdefault(ticket.team_id, ticket._get_sla_calendar())
            start, paused = ticket.sla_start_date, ticket.sla_paused_hours
            share = sla.warning_percent / 100.0
            if sla.first_response_hours and not ticket.first_response_date:
                requests.append(
                    ((ticket.id, "frd"), calendar, start, sla.first_response_hours + paused)
                )
                requests.append(
                    ((ticket.id, "frw"), calendar, start, sla.first_response_hours * share + paused)
                )
            if sla.resolution_hours:
                requests.append(((ticket.id, "rd"), calendar, start, sla.resolution_hours + paused))
                requests.append(
                    ((ticket.id, "rw"), calendar, start, sla.resolution_hours * share + paused)
                )
        planned = self.env["vip.service.sla"]._plan_work_hours(requests)
        values = {}
        for ticket in tickets:
            keep_first = ticket.first_response_date
            values[ticket.id] = {
                "sla_id": policies[ticket].id or None,
                "first_response_deadline": ticket.first_response_deadline
                if keep_first
                else planned.get((ticket.id, "frd")),
                "first_response_warning_date": ticket.first_response_warning_date
                if keep_first
                else planned.get((ticket.id, "frw")),
                "resolution_deadline": planned.get((ticket.id, "rd")),
                "resolution_warning_date": planned.get((ticket.id, "rw")),
            }
        tickets._sla_write(values)
        tickets._sla_schedule_escalations()

    def _sla_write(self, values):
        """Write engine values ``{ticket id: {field: value}}`` in one UPDATE per batch.

        The values are plain column values; these fields have no dependents, so
        the ORM's bookkeeping reduces to flushing before and invalidating after.
        """
        if not values:
            return
        fnames = sorted({fname for vals in values.values() for fname in vals})
        tickets = self.browse(list(values))
        tickets.flush_recordset(fnames)
        tickets._write_multi(
            [
                {fname: (vals[fname] if vals[fname] is not False else None) for fname in vals}
                for vals in values.values()
            ]
        )
        tickets.invalidate_recordset(fnames + ["write_date", "write_uid", "sla_status"])

    # ------------------------------------------------------------------
    # Pause, first response, closing
    # ------------------------------------------------------------------
    def _sla_working_hours(self, starts, stop):
        """Working hours from ``starts[ticket]`` to ``stop`` for each ticket, in batch."""
        return self.env["vip.service.sla"]._work_hours_between(
            [
                (ticket.id, ticket._get_sla_calendar(), starts[ticket], stop)
                for ticket in self
                if starts.get(ticket)
            ]
        )

    def _sla_resume(self, now):
        """Leaving a waiting stage: add the paused working hours and push the deadlines."""
        paused = self._sla_working_hours({t: t.sla_paused_since for t in self}, now)
        for ticket in self:
            hours = paused.get(ticket.id, 0.0)
            ticket.with_context(vip_sla_keep=True).write(
                {
                    "sla_paused_since": False,
                    "sla_paused_hours": ticket.sla_paused_hours + hours,
                }
            )
            if hours:
                shown = f"{hours:.2f}"
                ticket.message_post(
                    body=self.env._(
                        "The customer answered after %(hours)s working hours: the SLA deadlines "
                        "move by as much.",
                        hours=shown,
                    ),
                    subtype_xmlid="mail.mt_note",
                )
        self.filtered(lambda t: not t.is_closed)._sla_compute_deadlines(match=False)

    def _sla_on_close(self, now):
        """Closing: working-hour durations and whether the SLA was met, stored for analysis."""
        resolution = self._sla_working_hours({t: t.sla_start_date for t in self}, now)
        first = {}
        first_stop = {
            ticket.id: ticket.first_response_date for ticket in self if ticket.first_response_date
        }
        if first_stop:
            first = self.env["vip.service.sla"]._work_hours_between(
                [
                    (
                        ticket.id,
                        ticket._get_sla_calendar(),
                        ticket.sla_start_date,
                        first_stop[ticket.id],
                    )
                    for ticket in self
                    if ticket.id in first_stop
                ]
            )
        for ticket in self:
            frd, rd = ticket.first_response_deadline, ticket.resolution_deadline
            first_ok = not frd or (ticket.first_response_date or now) <= frd
            ticket.with_context(vip_sla_keep=True).write(
                {
                    "close_date": now,
                    "sla_met": bool(ticket.sla_id) and first_ok and (not rd or now <= rd),
                    "resolution_work_hours": max(
                        resolution.get(ticket.id, 0.0) - ticket.sla_paused_hours, 0.0
                    ),
                    "first_response_work_hours": first.get(ticket.id, 0.0),
                    "next_escalation_date": False,
                    "sla_paused_since": False,
                }
            )

    # ------------------------------------------------------------------
    # Escalation ladder
    # ------------------------------------------------------------------
    def _sla_step_dates(self):
        """Pending escalation steps of the tickets and when each is due.

        :return: ``{ticket: [(step, due datetime)]}`` without the steps already fired,
            nor the first-response steps of tickets staff already answered.
        """
        fired = {
            (ticket.id, step.id)
            for ticket, step in self.env["vip.service.ticket.escalation"]
            .sudo()
            ._read_group([("ticket_id", "in", self.ids)], ["ticket_id", "step_id"])
        }
        pending = defaultdict(list)
        requests = []
        for ticket in self:
            if ticket.is_closed or not ticket.sla_id or ticket.sla_paused_since:
                continue
            for step in ticket.sla_id.escalation_ids:
                if (ticket.id, step.id) in fired:
                    continue
                if step.deadline_type == "first_response":
                    if ticket.first_response_date:
                        continue
                    deadline = ticket.first_response_deadline
                    warning = ticket.first_response_warning_date
                else:
                    deadline = ticket.resolution_deadline
                    warning = ticket.resolution_warning_date
                if not deadline:
                    continue
                if step.trigger == "warning":
                    pending[ticket].append((step, warning))
                elif step.trigger == "breach":
                    pending[ticket].append((step, deadline))
                else:
                    requests.append(
                        (
                            (ticket.id, step.id),
                            ticket._get_sla_calendar(),
                            deadline,
                            step.delay_hours,
                        )
                    )
                    pending[ticket].append((step, (ticket.id, step.id)))
        planned = self.env["vip.service.sla"]._plan_work_hours(requests) if requests else {}
        return {
            ticket: [
                (step, planned.get(due) if isinstance(due, tuple) else due)
                for step, due in steps
                if (planned.get(due) if isinstance(due, tuple) else due)
            ]
            for ticket, steps in pending.items()
        }

    def _sla_schedule_escalations(self, step_dates=None):
        """Store when the next escalation step of each ticket is due (the cron's index)."""
        if step_dates is None:
            step_dates = self._sla_step_dates()
        values = {}
        for ticket in self:
            dates = [due for _step, due in step_dates.get(ticket, [])]
            next_date = min(dates) if dates else None
            if ticket.next_escalation_date != next_date:
                values[ticket.id] = {"next_escalation_date": next_date}
        self._sla_write(values)

    def _sla_escalate(self, now=None):
        """Fire the escalation steps due by ``now``, each once per ticket.

        The steps are logged (a unique row per ticket and step makes a second firing
        impossible), noted on the chatter, and acted upon in batch: activities for the
        people to notify, one write per new assignee and priority for reassignments.
        """
        now = now or fields.Datetime.now()
        step_dates = self._sla_step_dates()
        due = [
            (ticket, step)
            for ticket, steps in step_dates.items()
            for step, date in sorted(steps, key=lambda item: (item[0].level, item[0].sequence))
            if date <= now
        ]
        if due:
            self._sla_fire_steps(due, now)
        self._sla_schedule_escalations()
        return len(due)

    def _sla_fire_steps(self, due, now):
        Escalation = self.env["vip.service.ticket.escalation"].sudo()
        Escalation.create(
            [
                {
                    "ticket_id": ticket.id,
                    "step_id": step.id,
                    "level": step.level,
                    "action": step.action,
                    "deadline_type": step.deadline_type,
                    "date": now,
                    "company_id": ticket.company_id.id,
                }
                for ticket, step in due
            ]
        )
        activity_type = self.env.ref("vip_service_ticket.mail_activity_type_sla_escalation")
        model_id = self.env["ir.model"]._get_id(self._name)
        activities = []
        bodies = defaultdict(list)
        reassign = defaultdict(self.browse)  # (leader, priority) -> tickets
        levels = {}
        for ticket, step in due:
            levels[ticket] = max(levels.get(ticket, ticket.escalation_level), step.level)
            notify = ticket._get_escalation_recipients(step)
            if step.action == "reassign_leader" and ticket.team_id.leader_id:
                priority = str(min(int(ticket.priority) + 1, int(PRIORITY_MAX)))
                reassign[(ticket.team_id.leader_id, priority)] |= ticket
            summary = self.env._(
                "SLA escalation level %(level)s on %(ticket)s: %(step)s",
                level=step.level,
                ticket=ticket.number,
                step=step.name,
            )
            bodies[ticket.id].append(
                Markup("<li>%s</li>") % summary
                + (
                    Markup(" <small>%s</small>")
                    % self.env._("Notified: %(users)s", users=", ".join(notify.mapped("name")))
                    if notify
                    else ""
                )
            )
            activities.extend(
                {
                    "res_model_id": model_id,
                    "res_id": ticket.id,
                    "activity_type_id": activity_type.id,
                    "summary": summary,
                    "user_id": user.id,
                    "date_deadline": now.date(),
                }
                for user in notify
            )
        for (leader, priority), tickets in reassign.items():
            tickets.with_context(
                vip_assignment_kind="escalation",
                vip_assignment_reason=self.env._("SLA breached: escalated to the team leader"),
                vip_sla_keep=True,
                mail_notrack=True,
                # the leader gets an escalation activity: no "assigned to you" mail per ticket
                mail_auto_subscribe_no_notify=True,
            ).write({"user_id": leader.id, "priority": priority})
        self._sla_write(
            {ticket.id: {"escalation_level": level} for ticket, level in levels.items()}
        )
        if activities:
            # sudo: the cron notifies people the current user may not schedule for
            self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True).create(
                activities
            )
        self._message_log_batch(
            bodies={
                ticket_id: Markup("<ul>%s</ul>") % Markup("").join(items)
                for ticket_id, items in bodies.items()
            },
        )

    def _get_escalation_recipients(self, step):
        """Users an escalation ``step`` notifies about this ticket (hook)."""
        self.ensure_one()
        users = self.env["res.users"]
        team = self.team_id
        if step.action == "notify_assignee":
            users = self.user_id or team.leader_id
        elif step.action == "reassign_leader":
            users = team.leader_id
        elif step.action == "notify_managers":
            users = self.account_manager_id | (team.service_manager_id or team.leader_id)
        return users.filtered(lambda user: user.active and not user.share)

    @api.model
    def _cron_escalate(self):
        """Every few minutes: fire the escalation steps that fell due.

        One indexed query picks the due tickets; they are handled in batches and the
        cron reports the remaining ones, so Odoo calls it again at once when a backlog
        remains.
        """
        self.env["vip.service.ticket"].flush_model(
            ["next_escalation_date", "is_closed", "sla_paused_since"]
        )
        rows = self.env.execute_query(
            SQL(
                """
                SELECT id FROM vip_service_ticket
                 WHERE next_escalation_date <= %s
                   AND NOT COALESCE(is_closed, FALSE)
                   AND sla_paused_since IS NULL
                   AND active
                 ORDER BY next_escalation_date, id
                """,
                fields.Datetime.now(),
            )
        )
        ids = [row[0] for row in rows]
        batch = self.browse(ids[:ESCALATION_BATCH_SIZE])
        fired = batch._sla_escalate()
        _logger.info("SLA escalation: %s steps fired on %s tickets", fired, len(batch))
        self.env["ir.cron"]._notify_progress(
            done=len(batch), remaining=max(len(ids) - len(batch), 0)
        )
