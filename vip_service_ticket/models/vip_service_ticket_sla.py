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
from odoo.tools.mail import generate_tracking_message_id

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
# Ticket columns the deadline engine reads (one query per batch, see ``_sla_rows``).
TICKET_SLA_COLUMNS = (
    "sla_id",
    "team_id",
    "company_id",
    "is_closed",
    "sla_paused_since",
    "sla_start_date",
    "sla_paused_hours",
    "first_response_date",
    "first_response_deadline",
    "first_response_warning_date",
    "resolution_deadline",
    "resolution_warning_date",
    "next_escalation_date",
)
# ... and the escalation ladder.
ESCALATION_COLUMNS = (
    *TICKET_SLA_COLUMNS,
    "user_id",
    "priority",
    "escalation_level",
    "number",
    "name",
    "commercial_partner_id",
)
STEP_COLUMNS = (
    "id",
    "sla_id",
    "level",
    "sequence",
    "deadline_type",
    "trigger",
    "delay_hours",
    "action",
    "name",
)
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
        """Calendar the ticket's SLA counts on: the team's, else the company's (hook).

        The batch engine calls it once per team and company (see ``_sla_calendars``).
        """
        self.ensure_one()
        if self.team_id:
            return self.team_id._get_sla_calendar()
        return self.company_id.resource_calendar_id

    def _sla_rows(self, columns=TICKET_SLA_COLUMNS):
        """The SLA columns of the tickets as plain values, in one query: ``{id: row dict}``.

        The engine works on these rows instead of the records, so that a batch costs
        a few queries and no per-ticket ORM access.
        """
        if not self.ids:
            return {}
        self.flush_recordset(list(columns))
        rows = self.env.execute_query_dict(
            SQL(
                "SELECT id, %s FROM vip_service_ticket WHERE id = ANY(%s)",
                SQL(", ").join(SQL.identifier(column) for column in columns),
                list(self.ids),
            )
        )
        return {row["id"]: row for row in rows}

    def _sla_calendars(self, rows):
        """``{(team id, company id): calendar}`` for the ``rows`` (one hook call per key)."""
        calendars = {}
        for row in rows.values():
            key = (row["team_id"], row["company_id"])
            if key not in calendars:
                calendars[key] = self.browse(row["id"])._get_sla_calendar()
        return calendars

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
        return True

    def _sla_compute_deadlines(self, match=True):
        """Policy, deadlines, warning dates and next escalation of open tickets, in batch.

        Deadlines count the working hours of the ticket's calendar from the SLA start,
        plus the working hours already spent waiting for the customer. The tickets are
        read in one query, the deadlines planned with one interval computation per
        calendar, the next escalation derived from them in memory, and everything is
        written with one ``UPDATE ... FROM (VALUES ...)``.
        """
        rows = {
            ticket_id: row for ticket_id, row in self._sla_rows().items() if not row["is_closed"]
        }
        if not rows:
            return
        tickets = self.browse(list(rows))
        Sla = self.env["vip.service.sla"]
        if match:
            policies = {ticket.id: sla for ticket, sla in Sla._match_tickets(tickets).items()}
        else:
            slas = Sla.browse({row["sla_id"] for row in rows.values() if row["sla_id"]})
            by_id = {sla.id: sla for sla in slas}
            policies = {tid: by_id.get(row["sla_id"], Sla) for tid, row in rows.items()}
        targets = {
            sla.id: (sla.first_response_hours, sla.resolution_hours, sla.warning_percent / 100.0)
            for sla in set(policies.values())
            if sla
        }
        calendars = self._sla_calendars(rows)
        requests = []
        for tid, row in rows.items():
            if not policies[tid]:
                continue
            first_hours, resolution_hours, share = targets[policies[tid].id]
            calendar = calendars[(row["team_id"], row["company_id"])]
            start, paused = row["sla_start_date"], row["sla_paused_hours"] or 0.0
            if first_hours and not row["first_response_date"]:
                requests.append(((tid, "frd"), calendar, start, first_hours + paused))
                requests.append(((tid, "frw"), calendar, start, first_hours * share + paused))
            if resolution_hours:
                requests.append(((tid, "rd"), calendar, start, resolution_hours + paused))
                requests.append(((tid, "rw"), calendar, start, resolution_hours * share + paused))
        planned = Sla._plan_work_hours(requests)
        for tid, row in rows.items():
            row["sla_id"] = policies[tid].id or None
            if not row["first_response_date"]:
                row["first_response_deadline"] = planned.get((tid, "frd"))
                row["first_response_warning_date"] = planned.get((tid, "frw"))
            row["resolution_deadline"] = planned.get((tid, "rd"))
            row["resolution_warning_date"] = planned.get((tid, "rw"))
        step_dates = tickets._sla_step_dates(rows=rows, calendars=calendars)
        values = {}
        for tid, row in rows.items():
            dates = [due for _step, due in step_dates.get(tid, ())]
            values[tid] = {fname: row[fname] for fname in SLA_WRITE_FIELDS[:-1]}
            values[tid]["next_escalation_date"] = min(dates) if dates else None
        tickets._sla_write(values)

    def _sla_write(self, values):
        """Write engine values ``{ticket id: {field: value}}`` with one UPDATE per batch.

        The values are plain column values of fields without stored dependents; the
        ORM's bookkeeping reduces to flushing before, and marking the fields modified
        and invalidating them after. Tickets giving other sets of fields get an UPDATE
        per set.
        """
        by_fields = defaultdict(dict)
        for ticket_id, vals in values.items():
            by_fields[tuple(sorted(vals))][ticket_id] = vals
        for fnames, group in by_fields.items():
            tickets = self.browse(list(group))
            tickets.flush_recordset(list(fnames))
            columns = [SQL.identifier("id")] + [SQL.identifier(fname) for fname in fnames]
            self.env.cr.execute(
                SQL(
                    "UPDATE vip_service_ticket t SET %(sets)s, write_date = %(now)s, "
                    "write_uid = %(uid)s FROM (VALUES %(rows)s) AS v(%(columns)s) "
                    "WHERE t.id = v.id",
                    sets=SQL(", ").join(
                        SQL(
                            "%s = v.%s::%s",
                            SQL.identifier(fname),
                            SQL.identifier(fname),
                            SQL(self._fields[fname].column_type[1]),
                        )
                        for fname in fnames
                    ),
                    now=self.env.cr.now(),
                    uid=self.env.uid,
                    rows=SQL(", ").join(
                        SQL(
                            "%s",
                            (ticket_id,)
                            + tuple(
                                None if vals[fname] is False else vals[fname] for fname in fnames
                            ),
                        )
                        for ticket_id, vals in group.items()
                    ),
                    columns=SQL(", ").join(columns),
                )
            )
            tickets.modified(list(fnames))
            tickets.invalidate_recordset([*fnames, "write_date", "write_uid", "sla_status"])

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
    @api.model
    def _sla_escalation_steps(self, sla_ids):
        """The ladders of the policies as plain rows: ``{sla id: [step row]}``, in order."""
        if not sla_ids:
            return {}
        self.env["vip.service.sla.escalation"].flush_model(STEP_COLUMNS[1:])
        steps = defaultdict(list)
        for step in self.env.execute_query_dict(
            SQL(
                "SELECT %s FROM vip_service_sla_escalation WHERE sla_id = ANY(%s)"
                " ORDER BY sla_id, level, sequence, id",
                SQL(", ").join(SQL.identifier(column) for column in STEP_COLUMNS),
                list(sla_ids),
            )
        ):
            steps[step["sla_id"]].append(step)
        return steps

    def _sla_fired_steps(self):
        """``{(ticket id, step id)}`` of the steps already fired on the tickets."""
        if not self.ids:
            return set()
        self.env["vip.service.ticket.escalation"].flush_model(["ticket_id", "step_id"])
        return set(
            self.env.execute_query(
                SQL(
                    "SELECT ticket_id, step_id FROM vip_service_ticket_escalation"
                    " WHERE ticket_id = ANY(%s)",
                    list(self.ids),
                )
            )
        )

    def _sla_step_dates(self, rows=None, calendars=None):
        """Pending escalation steps of the tickets and when each is due.

        :param rows: the tickets' ``_sla_rows()`` (read when not given)
        :return: ``{ticket id: [(step row, due datetime)]}`` without the steps already
            fired, nor the first-response steps of tickets staff already answered.
        """
        if rows is None:
            rows = self._sla_rows()
        if calendars is None:
            calendars = self._sla_calendars(rows)
        steps = self._sla_escalation_steps({row["sla_id"] for row in rows.values()} - {None})
        fired = self.browse(list(rows))._sla_fired_steps() if steps else set()
        pending = defaultdict(list)
        requests = []
        for tid, row in rows.items():
            if row["is_closed"] or not row["sla_id"] or row["sla_paused_since"]:
                continue
            for step in steps.get(row["sla_id"], ()):
                if (tid, step["id"]) in fired:
                    continue
                if step["deadline_type"] == "first_response":
                    if row["first_response_date"]:
                        continue
                    deadline = row["first_response_deadline"]
                    warning = row["first_response_warning_date"]
                else:
                    deadline = row["resolution_deadline"]
                    warning = row["resolution_warning_date"]
                if not deadline:
                    continue
                if step["trigger"] == "warning":
                    due = warning
                elif step["trigger"] == "breach":
                    due = deadline
                else:
                    due = (tid, step["id"])
                    calendar = calendars[(row["team_id"], row["company_id"])]
                    requests.append((due, calendar, deadline, step["delay_hours"]))
                pending[tid].append((step, due))
        planned = self.env["vip.service.sla"]._plan_work_hours(requests) if requests else {}
        result = {}
        for tid, items in pending.items():
            dated = [
                (step, planned.get(due) if isinstance(due, tuple) else due) for step, due in items
            ]
            result[tid] = [(step, due) for step, due in dated if due]
        return result

    def _sla_schedule_escalations(self):
        """Store when the next escalation step of each ticket is due (the cron's index)."""
        rows = self._sla_rows()
        step_dates = self._sla_step_dates(rows=rows)
        values = {}
        for tid, row in rows.items():
            dates = [due for _step, due in step_dates.get(tid, ())]
            next_date = min(dates) if dates else None
            if row["next_escalation_date"] != next_date:
                values[tid] = {"next_escalation_date": next_date}
        self._sla_write(values)

    def _sla_escalate(self, now=None):
        """Fire the escalation steps due by ``now``, each once per ticket.

        Set-based: the tickets, ladders and fired steps are read with a few queries;
        the steps are logged with one ``INSERT ... ON CONFLICT DO NOTHING`` (a unique
        row per ticket and step: a step inserted by a concurrent run is not acted upon
        twice), then acted upon in batch: one note per ticket, one activity per person
        to notify, the assignee and priority changes of the reassignments, the level
        and the next escalation date of every ticket in one UPDATE.
        """
        now = now or fields.Datetime.now()
        self.env.flush_all()
        rows = self._sla_rows(ESCALATION_COLUMNS)
        step_dates = self._sla_step_dates(rows=rows)
        due = [
            (tid, step)
            for tid, steps in step_dates.items()
            for step, date in sorted(
                steps, key=lambda item: (item[0]["level"], item[0]["sequence"])
            )
            if date <= now
        ]
        values = {}
        if due:
            values = self._sla_fire_steps(rows, due, now)
        due_pairs = {(tid, step["id"]) for tid, step in due}
        for tid, row in rows.items():
            dates = [
                date for step, date in step_dates.get(tid, ()) if (tid, step["id"]) not in due_pairs
            ]
            next_date = min(dates) if dates else None
            if tid in values or row["next_escalation_date"] != next_date:
                values.setdefault(
                    tid,
                    {
                        "escalation_level": row["escalation_level"] or 0,
                        "user_id": row["user_id"],
                        "priority": row["priority"],
                    },
                )["next_escalation_date"] = next_date
        self._sla_write(values)
        return len(due)

    def _sla_fire_steps(self, rows, due, now):
        """Log and act upon the ``due`` ``[(ticket id, step row)]`` of the ``rows``.

        :return: ``{ticket id: {field: value}}`` the ticket changes (level, assignee and
            priority) for the caller's UPDATE.
        """
        cr = self.env.cr
        uid = self.env.uid
        # sudo: the cron notifies people the current user may not see
        inserted = cr.execute(
            SQL(
                """
                INSERT INTO vip_service_ticket_escalation
                       (ticket_id, step_id, level, action, deadline_type, date, company_id,
                        team_id, create_uid, create_date, write_uid, write_date)
                SELECT v.ticket_id, v.step_id, v.level, v.action, v.deadline_type, %(now)s,
                       v.company_id, v.team_id, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM unnest(%(tickets)s::int[], %(steps)s::int[], %(levels)s::int[],
                              %(actions)s::varchar[], %(types)s::varchar[],
                              %(companies)s::int[], %(teams)s::int[])
                       AS v(ticket_id, step_id, level, action, deadline_type, company_id, team_id)
                    ON CONFLICT (ticket_id, step_id) DO NOTHING
             RETURNING ticket_id, step_id
                """,
                now=now,
                uid=uid,
                tickets=[tid for tid, _step in due],
                steps=[step["id"] for _tid, step in due],
                levels=[step["level"] for _tid, step in due],
                actions=[step["action"] for _tid, step in due],
                types=[step["deadline_type"] for _tid, step in due],
                companies=[rows[tid]["company_id"] for tid, _step in due],
                teams=[rows[tid]["team_id"] for tid, _step in due],
            )
        )
        inserted = set(cr.fetchall())
        self.env["vip.service.ticket.escalation"].invalidate_model()
        due = [(tid, step) for tid, step in due if (tid, step["id"]) in inserted]
        if not due:
            return {}
        recipients, team_leaders = self._get_escalation_recipients(rows, due)
        user_ids = {uid_ for users in recipients.values() for uid_ in users}
        user_ids |= set(team_leaders.values())
        # sudo: escalation targets (leaders, managers) may be users the cron user cannot read
        users = {
            user.id: user
            for user in self.env["res.users"]
            .sudo()
            .with_context(active_test=False)
            .browse(user_ids)
        }
        summary_tmpl = self.env._("SLA escalation level %(level)s on %(ticket)s: %(step)s")
        notified_tmpl = self.env._("Notified: %(users)s")
        bodies = defaultdict(list)
        activities = []  # (ticket id, summary, user id)
        values = {}
        for tid, step in due:
            row = rows[tid]
            vals = values.setdefault(
                tid,
                {
                    "escalation_level": row["escalation_level"] or 0,
                    "user_id": row["user_id"],
                    "priority": row["priority"],
                },
            )
            vals["escalation_level"] = max(vals["escalation_level"], step["level"])
            leader = team_leaders.get(row["team_id"])
            if step["action"] == "reassign_leader" and leader:
                vals["user_id"] = leader
                vals["priority"] = str(min(int(row["priority"] or 0) + 1, int(PRIORITY_MAX)))
            notify = recipients.get((tid, step["id"]), [])
            summary = summary_tmpl % {
                "level": step["level"],
                "ticket": row["number"],
                "step": step["name"],
            }
            item = Markup("<li>%s</li>") % summary
            if notify:
                names = ", ".join(users[user_id].name for user_id in notify)
                item += Markup(" <small>%s</small>") % (notified_tmpl % {"users": names})
            bodies[tid].append(item)
            activities.extend((tid, summary, user_id) for user_id in notify)
        self._sla_log_escalation_notes(
            {tid: Markup("<ul>%s</ul>") % Markup("").join(items) for tid, items in bodies.items()},
            now,
        )
        followers = defaultdict(set)  # partner id -> ticket ids
        for tid, _summary, user_id in activities:
            followers[users[user_id].partner_id.id].add(tid)
        self._sla_create_escalation_activities(rows, activities, users, now)
        reassigned = {
            tid: vals["user_id"]
            for tid, vals in values.items()
            if vals["user_id"] != rows[tid]["user_id"]
        }
        for tid, user_id in reassigned.items():
            followers[users[user_id].partner_id.id].add(tid)
        if reassigned:
            self._sla_log_escalation_assignments(rows, reassigned, now)
        self._sla_subscribe_partners(followers)
        return values

    def _get_escalation_recipients(self, rows, due):
        """Users each fired step notifies (hook), in batch.

        :param rows: ``_sla_rows(ESCALATION_COLUMNS)`` of the tickets
        :param due: ``[(ticket id, step row)]``
        :return: ``({(ticket id, step id): [user ids]}, {team id: leader id})``; only
            active internal users are notified.
        """
        teams = (
            self.env["vip.service.team"].sudo().browse({rows[tid]["team_id"] for tid, _s in due})
        )
        leaders = {team.id: team.leader_id.id for team in teams if team.leader_id}
        managers = {
            team.id: (team.service_manager_id or team.leader_id).id
            for team in teams
            if team.service_manager_id or team.leader_id
        }
        # sudo: the customers' account managers, whatever the escalating user may read
        commercial = (
            self.env["res.partner"]
            .sudo()
            .browse({rows[tid]["commercial_partner_id"] for tid, _s in due} - {None})
        )
        account_managers = {
            partner.id: partner.vip_account_manager_id.id
            for partner in commercial
            if partner.vip_account_manager_id
        }
        wanted = {}
        for tid, step in due:
            row = rows[tid]
            team_id = row["team_id"]
            if step["action"] == "notify_assignee":
                users = [row["user_id"] or leaders.get(team_id)]
            elif step["action"] == "reassign_leader":
                users = [leaders.get(team_id)]
            elif step["action"] == "notify_managers":
                users = [account_managers.get(row["commercial_partner_id"]), managers.get(team_id)]
            else:
                users = []
            wanted[(tid, step["id"])] = list(dict.fromkeys(user for user in users if user))
        # sudo: checking that notified users are active, not reading their data
        candidates = (
            self.env["res.users"]
            .sudo()
            .with_context(active_test=False)
            .browse({user for users in wanted.values() for user in users})
        )
        valid = {user.id for user in candidates if user.active and not user.share}
        return (
            {key: [user for user in users if user in valid] for key, users in wanted.items()},
            leaders,
        )

    def _sla_log_escalation_notes(self, bodies, now):
        """One internal note per ticket, as ``_message_log_batch`` would, in one INSERT."""
        if not bodies:
            return
        author_id, email_from = self._message_compute_author(raise_on_email=False)
        reply_to = self.env["mail.thread"]._notify_get_reply_to(default=email_from)[False]
        self.env["mail.message"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO mail_message
                       (model, res_id, body, author_id, email_from, message_type, is_internal,
                        subtype_id, email_add_signature, message_id, reply_to, date,
                        create_uid, create_date, write_uid, write_date)
                SELECT %(model)s, v.res_id, v.body, %(author)s, %(email_from)s, 'notification',
                       TRUE, %(subtype)s, FALSE, %(message_id)s, %(reply_to)s, %(now)s,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM unnest(%(ids)s::int[], %(bodies)s::text[]) AS v(res_id, body)
                """,
                model=self._name,
                author=author_id or None,
                email_from=email_from or None,
                subtype=self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note"),
                message_id=generate_tracking_message_id("message-notify"),
                reply_to=reply_to or None,
                now=now,
                uid=self.env.uid,
                ids=list(bodies),
                bodies=[str(body) for body in bodies.values()],
            )
        )
        self.env["mail.message"].invalidate_model()
        self.browse(list(bodies)).invalidate_recordset(["message_ids"])

    def _sla_create_escalation_activities(self, rows, activities, users, now):
        """The escalation activities ``[(ticket id, summary, user id)]``, in one INSERT.

        Like ``mail.activity.create`` under ``mail_activity_quick_update``: no assignment
        mail; the users' activity counters are refreshed with one bus message each.
        """
        if not activities:
            return
        activity_type = self.env.ref("vip_service_ticket.mail_activity_type_sla_escalation")
        self.env["mail.activity"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO mail_activity
                       (res_model_id, res_model, res_id, res_name, activity_type_id, summary,
                        user_id, user_tz, date_deadline, active, create_uid, create_date,
                        write_uid, write_date)
                SELECT %(model_id)s, %(model)s, v.res_id, v.res_name, %(type)s, v.summary,
                       v.user_id, v.user_tz, %(today)s, TRUE, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM unnest(%(ids)s::int[], %(names)s::varchar[], %(summaries)s::varchar[],
                              %(users)s::int[], %(tzs)s::varchar[])
                       AS v(res_id, res_name, summary, user_id, user_tz)
                """,
                model_id=self.env["ir.model"]._get_id(self._name),
                model=self._name,
                type=activity_type.id,
                today=now.date(),
                uid=self.env.uid,
                now=now,
                ids=[tid for tid, _summary, _user in activities],
                names=[
                    f"{rows[tid]['number']} {rows[tid]['name']}"
                    for tid, _summary, _user in activities
                ],
                summaries=[summary for _tid, summary, _user in activities],
                users=[user_id for _tid, _summary, user_id in activities],
                tzs=[users[user_id].tz or None for _tid, _summary, user_id in activities],
            )
        )
        self.env["mail.activity"].invalidate_model()
        self.browse({tid for tid, _summary, _user in activities}).invalidate_recordset(
            ["activity_ids"]
        )
        if now.date() <= fields.Date.today():
            counts = defaultdict(int)
            for _tid, _summary, user_id in activities:
                counts[user_id] += 1
            for user_id, count in counts.items():
                users[user_id]._bus_send(
                    "mail.activity/updated", {"activity_created": True, "count_diff": count}
                )

    def _sla_log_escalation_assignments(self, rows, reassigned, now):
        """Assignment history of the reassignments ``{ticket id: new user id}``, one INSERT."""
        self.env["vip.service.ticket.assignment"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO vip_service_ticket_assignment
                       (ticket_id, date, from_user_id, to_user_id, author_id, kind, reason,
                        company_id, create_uid, create_date, write_uid, write_date)
                SELECT v.ticket_id, %(now)s, v.from_user, v.to_user, %(uid)s, 'escalation',
                       %(reason)s, v.company_id, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM unnest(%(tickets)s::int[], %(froms)s::int[], %(tos)s::int[],
                              %(companies)s::int[]) AS v(ticket_id, from_user, to_user, company_id)
                """,
                now=now,
                uid=self.env.uid,
                reason=self.env._("SLA breached: escalated to the team leader"),
                tickets=list(reassigned),
                froms=[rows[tid]["user_id"] for tid in reassigned],
                tos=list(reassigned.values()),
                companies=[rows[tid]["company_id"] for tid in reassigned],
            )
        )
        self.env["vip.service.ticket.assignment"].invalidate_model()
        self.browse(list(reassigned)).invalidate_recordset(["assignment_ids"])

    def _sla_subscribe_partners(self, followers):
        """Subscribe partners ``{partner id: ticket ids}`` with the default subtypes.

        What ``message_subscribe`` does (existing followers are left as they are), in
        two statements for the whole batch: the escalation activities' users and the
        new assignees follow the tickets.
        """
        if not followers:
            return
        all_ids, internal_ids, _external_ids = self.env["mail.message.subtype"]._default_subtypes(
            self._name
        )
        # sudo: followers are subscribed as message_subscribe would, for any partner
        partners = self.env["res.partner"].sudo().browse(list(followers))
        res_ids, partner_ids = [], []
        sub_partners, sub_ids = [], []
        for partner in partners:
            for tid in followers[partner.id]:
                res_ids.append(tid)
                partner_ids.append(partner.id)
            subtypes = (
                [sid for sid in all_ids if sid not in internal_ids]
                if partner.partner_share
                else all_ids
            )
            sub_partners.extend([partner.id] * len(subtypes))
            sub_ids.extend(subtypes)
        self.env["mail.followers"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                WITH new AS (
                    INSERT INTO mail_followers (res_model, res_id, partner_id)
                    SELECT %(model)s, v.res_id, v.partner_id
                      FROM unnest(%(res_ids)s::int[], %(partner_ids)s::int[])
                           AS v(res_id, partner_id)
                        ON CONFLICT (res_model, res_id, partner_id) DO NOTHING
                 RETURNING id, partner_id
                )
                INSERT INTO mail_followers_mail_message_subtype_rel
                       (mail_followers_id, mail_message_subtype_id)
                SELECT new.id, s.subtype_id
                  FROM new
                  JOIN unnest(%(sub_partners)s::int[], %(sub_ids)s::int[])
                       AS s(partner_id, subtype_id) ON s.partner_id = new.partner_id
                """,
                model=self._name,
                res_ids=res_ids,
                partner_ids=partner_ids,
                sub_partners=sub_partners,
                sub_ids=sub_ids,
            )
        )
        self.env["mail.followers"].invalidate_model()
        self.browse(res_ids).invalidate_recordset(
            ["message_follower_ids", "message_partner_ids", "message_is_follower"]
        )

    @api.model
    def _cron_escalate(self):
        """Every few minutes: fire the escalation steps that fell due.

        One indexed query picks the due tickets; a batch of them is handed to
        ``_sla_escalate`` and the cron reports the remaining ones, so Odoo calls it
        again at once (after committing) while a backlog remains.
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
