"""The SLA engine of the VIP service tickets: deadline planning, pauses, closing results
and the stored status refresh.

Built like ``vip.tier.engine`` and ``vip.loyalty.engine``: an abstract model whose
methods take the tickets (a recordset) and work on them in batch. The ticket keeps its
fields, its status compute, its create/write guards and thin ``_sla_*`` delegations
(the names other code calls). The ladder itself fires in ``vip.service.escalation.engine``.

Set-based: deadlines for many tickets cost one interval computation per calendar (see
``vip.service.sla._plan_work_hours``) and one ``UPDATE ... FROM (VALUES ...)`` per batch
of the engine's own columns (``_write``: untracked fields nobody else hooks).

"Open", "breached", "waiting" and "due for escalation" are defined once here
(``_get_*_domain``): the status field's filters, the team counters, the churn signal
and the escalation cron use these builders.
"""

from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL

from .vip_service_ticket_sla import sla_status_at

# Ticket columns the deadline engine reads (one query per batch, see ``_read_rows``).
TICKET_SLA_COLUMNS = (
    "sla_id",
    "team_id",
    "company_id",
    "is_closed",
    "close_date",
    "sla_met",
    "sla_paused_since",
    "sla_start_date",
    "sla_paused_hours",
    "sla_replan_date",
    "sla_replan_offset",
    "first_response_date",
    "first_response_deadline",
    "first_response_warning_date",
    "resolution_deadline",
    "resolution_warning_date",
    "next_escalation_date",
)
# The columns ``_write`` may set with raw SQL: plain stored fields of this add-on that
# are neither tracked nor hooked by anyone (tracked fields go through ``write()``).
ENGINE_COLUMNS = frozenset(
    {
        "sla_id",
        "first_response_deadline",
        "first_response_warning_date",
        "resolution_deadline",
        "resolution_warning_date",
        "next_escalation_date",
        "sla_status",
        "sla_status_date",
        "sla_replan_date",
        "sla_replan_offset",
        "sla_paused_since",
        "sla_paused_hours",
        "close_date",
        "sla_met",
        "first_response_work_hours",
        "resolution_work_hours",
        "escalation_level",
    }
)
DEADLINE_FIELDS = {
    "frd": "first_response_deadline",
    "frw": "first_response_warning_date",
    "rd": "resolution_deadline",
    "rw": "resolution_warning_date",
}


class VipServiceSlaEngine(models.AbstractModel):
    _name = "vip.service.sla.engine"
    _description = "VIP Service SLA Engine"

    # ------------------------------------------------------------------
    # One definition per concept
    # ------------------------------------------------------------------
    @api.model
    def _get_open_domain(self):
        """Open tickets: not in a closing (folded) stage. The "Open" filter, the team
        counters and the churn signal's open complaints all use this domain."""
        return [("is_closed", "=", False)]

    @api.model
    def _get_waiting_domain(self):
        """Tickets waiting for the customer: their SLA clock is stopped."""
        return [("sla_paused_since", "!=", False)]

    @api.model
    def _get_breached_domain(self):
        """Breached tickets: the stored status ``sla_status_at`` derives (one definition),
        kept fresh by the escalation cron. A ticket waiting for the customer is judged
        when its wait started, so the wait itself never breaches it. The "Breached"
        filter, the team counter and the churn signal use this domain."""
        return [("sla_status", "=", "breached")]

    @api.model
    def _get_at_risk_domain(self):
        """Tickets at risk: past a warning date, not past a deadline."""
        return [("sla_status", "=", "at_risk")]

    @api.model
    def _get_escalation_due_domain(self, now):
        """Open tickets not waiting for the customer whose next escalation step is due."""
        return self._get_open_domain() + [
            ("sla_paused_since", "=", False),
            ("next_escalation_date", "<=", now),
        ]

    @api.model
    def _get_status_stale_domain(self, now):
        """Tickets whose stored status the clock alone changed (``sla_status_date``)."""
        return [("sla_status_date", "<=", now)]

    @api.model
    def _get_sla_met_sql(self, alias="t"):
        """SQL of a ticket's SLA result: TRUE met, FALSE breached, NULL when it has none.

        The SQL twin of ``sla_status_at`` for closed tickets: only a ticket in a closing
        stage whose closing was recorded (``close_date``) and that had an SLA policy is
        met or breached, as ``_close`` recorded it in ``sla_met``; an open ticket, one
        without a policy or one in a folded stage whose closing never ran has no result.
        The ticket analysis and the program KPIs (SLA compliance) read this expression.
        """
        ticket = SQL.identifier(alias)
        return SQL(
            "(CASE WHEN %(t)s.is_closed AND %(t)s.close_date IS NOT NULL "
            "AND %(t)s.sla_id IS NOT NULL THEN COALESCE(%(t)s.sla_met, FALSE) END)",
            t=ticket,
        )

    # ------------------------------------------------------------------
    # Reading and writing the engine's columns
    # ------------------------------------------------------------------
    @api.model
    def _read_rows(self, tickets, columns=TICKET_SLA_COLUMNS):
        """The SLA columns of ``tickets`` as plain values, in one query: ``{id: row}``.

        Moved here from the ticket model: the engine works on rows instead of records
        so that a batch costs a few queries and no per-ticket ORM access.
        """
        if not tickets.ids:
            return {}
        tickets.flush_recordset(list(columns))
        rows = self.env.execute_query_dict(
            SQL(
                "SELECT id, %s FROM vip_service_ticket WHERE id = ANY(%s)",
                SQL(", ").join(SQL.identifier(column) for column in columns),
                list(tickets.ids),
            )
        )
        return {row["id"]: row for row in rows}

    @api.model
    def _calendars(self, tickets, rows):
        """``{(team id, company id): calendar}`` for the ``rows`` (one hook call per key:
        the ticket's ``_get_sla_calendar`` decides, the engine only batches).

        Moved from the ticket (``_sla_calendars``): the engine plans per calendar."""
        calendars = {}
        for row in rows.values():
            key = (row["team_id"], row["company_id"])
            if key not in calendars:
                calendars[key] = tickets.browse(row["id"])._get_sla_calendar()
        return calendars

    @api.model
    def _write(self, tickets, values):
        """Write engine values ``{ticket id: {field: value}}`` with one UPDATE per set of
        fields.

        Only ``ENGINE_COLUMNS`` (untracked columns of this add-on nobody hooks): what a
        user may notice in the chatter (assignee, priority) goes through ``write()``.
        The ORM's bookkeeping reduces to flushing before, and marking the fields
        modified and invalidating them after. The SLA status derives from the
        deadlines: written with them (``sla_status_at``), it is not recomputed;
        otherwise the ORM recomputes it at the next flush.
        """
        Ticket = tickets.browse()
        by_fields = defaultdict(dict)
        for ticket_id, vals in values.items():
            by_fields[tuple(sorted(vals))][ticket_id] = vals
        for fnames, group in by_fields.items():
            foreign = set(fnames) - ENGINE_COLUMNS
            if foreign:
                raise ValueError(f"the SLA engine writes no {sorted(foreign)} with SQL")
            batch = Ticket.browse(list(group))
            batch.flush_recordset(list(fnames))
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
                            SQL(Ticket._fields[fname].column_type[1]),
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
            batch.modified(list(fnames))
            if "sla_status" in fnames:
                # written with the deadlines it derives from: no recompute needed
                for fname in ("sla_status", "sla_status_date"):
                    self.env.remove_to_compute(Ticket._fields[fname], batch)
            batch.invalidate_recordset([*fnames, "write_date", "write_uid"])

    @api.model
    def _refresh_status(self, tickets):
        """Recompute the stored SLA status of ``tickets`` (the clock moved on).

        The status is stored for kanban progress bars and group-bys; the escalation
        cron and the churn signal call this when only time changed it. Moved here so
        that both reach it without going through the ticket."""
        for fname in ("sla_status", "sla_status_date"):
            self.env.add_to_compute(tickets._fields[fname], tickets)
        tickets.flush_recordset(["sla_status", "sla_status_date"])
        return True

    # ------------------------------------------------------------------
    # Deadlines
    # ------------------------------------------------------------------
    @api.model
    def _compute_deadlines(self, tickets, match=True):
        """Policy, deadlines, warning dates and next escalation of open tickets, in batch.

        Moved out of the ticket model (the ticket delegates ``_sla_compute_deadlines``):
        planning is the engine's job, the ticket only holds the results.

        Deadlines count the working hours of the ticket's calendar from the SLA start,
        plus the working hours already spent waiting for the customer. A ticket
        transferred to another team counts from the transfer on, on the new team's
        calendar, with the working time it had left (see ``_replan``); a deadline
        already passed then stays where it was. The tickets are read in one query,
        the deadlines planned with one interval computation per calendar, the next
        escalation derived from them in memory, and everything is written with one
        ``UPDATE ... FROM (VALUES ...)``.
        """
        rows = {
            ticket_id: row
            for ticket_id, row in self._read_rows(tickets).items()
            if not row["is_closed"]
        }
        if not rows:
            return
        tickets = tickets.browse(list(rows))
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
        calendars = self._calendars(tickets, rows)
        requests = []
        for tid, row in rows.items():
            if not policies[tid]:
                continue
            first_hours, resolution_hours, share = targets[policies[tid].id]
            calendar = calendars[(row["team_id"], row["company_id"])]
            start = row["sla_replan_date"] or row["sla_start_date"]
            paused = (row["sla_paused_hours"] or 0.0) - (row["sla_replan_offset"] or 0.0)
            if first_hours and not row["first_response_date"]:
                requests.append(((tid, "frd"), calendar, start, first_hours + paused))
                requests.append(((tid, "frw"), calendar, start, first_hours * share + paused))
            if resolution_hours:
                requests.append(((tid, "rd"), calendar, start, resolution_hours + paused))
                requests.append(((tid, "rw"), calendar, start, resolution_hours * share + paused))
        # no working time left since a transfer: the date passed before it, keep it
        kept = {(tid, kind) for (tid, kind), _cal, _start, hours in requests if hours <= 0}
        planned = Sla._plan_work_hours(request for request in requests if request[0] not in kept)
        for key in kept:
            tid, kind = key
            planned[key] = rows[tid][DEADLINE_FIELDS[kind]] or rows[tid]["sla_replan_date"]
        for tid, row in rows.items():
            row["sla_id"] = policies[tid].id or None
            if not row["first_response_date"]:
                row["first_response_deadline"] = planned.get((tid, "frd"))
                row["first_response_warning_date"] = planned.get((tid, "frw"))
            row["resolution_deadline"] = planned.get((tid, "rd"))
            row["resolution_warning_date"] = planned.get((tid, "rw"))
        step_dates = self.env["vip.service.escalation.engine"]._step_dates(
            tickets, rows=rows, calendars=calendars
        )
        now = fields.Datetime.now()
        values = {}
        for tid, row in rows.items():
            dates = [due for _step, due in step_dates.get(tid, ())]
            values[tid] = {fname: row[fname] for fname in ("sla_id", *DEADLINE_FIELDS.values())}
            values[tid]["next_escalation_date"] = min(dates) if dates else None
            values[tid]["sla_status"], values[tid]["sla_status_date"] = sla_status_at(row, now)
        self._write(tickets, values)

    @api.model
    def _replan(self, tickets):
        """Close the SLA's account on the current calendar, before it changes.

        Moved from the ticket (``_sla_replan`` delegates): called before a transfer or a
        change of the team's working hours. The working time already used is measured
        on the current calendar up to now (or up to the start of the current wait for
        the customer) and stored; the deadlines still open are then planned from that
        moment on the new calendar with the working time left (``_compute_deadlines``),
        while deadlines already met or already passed stay as they were.
        """
        moving = tickets.filtered(lambda t: not t.is_closed and t.sla_id)
        if not moving:
            return
        now = fields.Datetime.now()
        rows = self._read_rows(moving)
        calendars = self._calendars(moving, rows)
        moments = {tid: row["sla_paused_since"] or now for tid, row in rows.items()}
        used = self.env["vip.service.sla"]._work_hours_between(
            [
                (
                    tid,
                    calendars[(row["team_id"], row["company_id"])],
                    row["sla_replan_date"] or row["sla_start_date"],
                    moments[tid],
                )
                for tid, row in rows.items()
            ]
        )
        self._write(
            moving,
            {
                tid: {
                    "sla_replan_date": moments[tid],
                    "sla_replan_offset": (row["sla_replan_offset"] or 0.0) + used.get(tid, 0.0),
                }
                for tid, row in rows.items()
            },
        )

    # ------------------------------------------------------------------
    # Pause, closing
    # ------------------------------------------------------------------
    @api.model
    def _working_hours(self, tickets, starts, stop):
        """Working hours from ``starts[ticket id]`` to ``stop`` for each ticket, in batch.

        Moved from the ticket (``_sla_working_hours``); keyed by ticket id and using
        ``_calendars`` so that resume and close cost one calendar lookup per team."""
        rows = self._read_rows(tickets, ("team_id", "company_id"))
        calendars = self._calendars(tickets, rows)
        return self.env["vip.service.sla"]._work_hours_between(
            [
                (tid, calendars[(row["team_id"], row["company_id"])], starts[tid], stop)
                for tid, row in rows.items()
                if starts.get(tid)
            ]
        )

    @api.model
    def _resume(self, tickets, now):
        """Leaving a waiting stage: add the paused working hours, push the deadlines.

        Moved from the ticket (``_sla_resume`` delegates) and made set-based: one
        interval computation per calendar, one UPDATE for the pause columns, one batch
        of chatter notes (``_message_log_batch``) and one deadline plan for all.
        """
        if not tickets:
            return
        rows = self._read_rows(tickets)
        paused = self._working_hours(
            tickets, {tid: row["sla_paused_since"] for tid, row in rows.items()}, now
        )
        self._write(
            tickets,
            {
                tid: {
                    "sla_paused_since": False,
                    "sla_paused_hours": (row["sla_paused_hours"] or 0.0) + paused.get(tid, 0.0),
                }
                for tid, row in rows.items()
            },
        )
        bodies = {
            tid: Markup("<p>%s</p>")
            % self.env._(
                "The customer answered after %(hours)s working hours: the SLA deadlines "
                "move by as much.",
                hours=format(hours, ".2f"),
            )
            for tid, hours in paused.items()
            if hours
        }
        if bodies:
            # sudo: a customer's reply resumes the clock; the note is the server's
            tickets.browse(list(bodies)).sudo()._message_log_batch(bodies=bodies)
        self._compute_deadlines(tickets.filtered(lambda t: not t.is_closed), match=False)

    @api.model
    def _close(self, tickets, now):
        """Closing: working-hour durations and whether the SLA was met, for analysis.

        Moved from the ticket (``_sla_on_close`` delegates) and made set-based: two
        interval computations per calendar (resolution, first response) and one
        UPDATE of the result columns for all the closed tickets.
        """
        if not tickets:
            return
        rows = self._read_rows(tickets)
        resolution = self._working_hours(
            tickets,
            {tid: row["sla_replan_date"] or row["sla_start_date"] for tid, row in rows.items()},
            now,
        )
        first = {}
        answered = {tid: row for tid, row in rows.items() if row["first_response_date"]}
        if answered:
            calendars = self._calendars(tickets, answered)
            first = self.env["vip.service.sla"]._work_hours_between(
                [
                    (
                        tid,
                        calendars[(row["team_id"], row["company_id"])],
                        row["sla_start_date"],
                        row["first_response_date"],
                    )
                    for tid, row in answered.items()
                ]
            )
        values = {}
        for tid, row in rows.items():
            frd, rd = row["first_response_deadline"], row["resolution_deadline"]
            first_ok = not frd or (row["first_response_date"] or now) <= frd
            values[tid] = {
                "close_date": now,
                "sla_met": bool(row["sla_id"]) and first_ok and (not rd or now <= rd),
                "resolution_work_hours": max(
                    resolution.get(tid, 0.0)
                    + (row["sla_replan_offset"] or 0.0)
                    - (row["sla_paused_hours"] or 0.0),
                    0.0,
                ),
                "first_response_work_hours": first.get(tid, 0.0),
                "next_escalation_date": False,
                "sla_paused_since": False,
            }
        self._write(tickets, values)
        self.env["vip.service.escalation.engine"]._close_activities(tickets)
