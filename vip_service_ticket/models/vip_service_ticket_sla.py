"""SLA of the VIP service tickets: deadlines on working calendars, pauses, status,
first response, closing results and the escalation ladder.

Everything here works on recordsets: deadlines for many tickets cost one interval
computation per calendar (see ``vip.service.sla._plan_work_hours``) and one
``UPDATE ... FROM (VALUES ...)`` per batch; the escalation cron selects the due
tickets with one indexed query on ``next_escalation_date``.
"""

import logging
from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
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
# Ticket fields whose change moves the ticket to another working calendar.
SLA_CALENDAR_FIELDS = {"team_id", "company_id"}
# Fields only the server derives (the SLA engine, the life cycle, the mail gateway):
# refused in create/write to everyone (the engine writes them as superuser).
SERVER_DERIVED_FIELDS = frozenset(
    {
        "number",
        "vip_tier_id",
        "sla_status",
        "sla_status_date",
        "first_response_deadline",
        "first_response_warning_date",
        "first_response_date",
        "resolution_deadline",
        "resolution_warning_date",
        "sla_paused_since",
        "sla_paused_hours",
        "sla_replan_date",
        "sla_replan_offset",
        "sla_met",
        "first_response_work_hours",
        "resolution_work_hours",
        "next_escalation_date",
        "escalation_level",
        "escalation_ids",
        "assignment_ids",
        "close_date",
        "reopen_count",
        "last_reopen_date",
    }
)
# Fields a service manager may correct (the deadlines follow at once); nobody else.
# how long before a ticket was recorded its SLA clock may be made to start
SLA_START_MARGIN_DAYS = 30
SLA_MANAGER_FIELDS = frozenset({"sla_start_date", "sla_id"})
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
# Fields the SLA status is derived from (``sla_status_at``).
SLA_STATUS_DEPENDS = (
    "sla_id",
    "is_closed",
    "close_date",
    "sla_met",
    "sla_paused_since",
    "first_response_date",
    "first_response_deadline",
    "first_response_warning_date",
    "resolution_deadline",
    "resolution_warning_date",
)


def sla_status_at(values, now):
    """The one definition of the SLA status at ``now``: ``(status, next change)``.

    ``values`` is a ticket or a row of its columns (``values[field]``). A ticket
    waiting for the customer is judged at the moment it started waiting (the clock is
    stopped: waiting never breaches it). A closed ticket is met or breached as
    recorded on closing; a ticket moved to a closing stage in a form not yet saved
    (no closing date) is still judged as an open one. The next change is when the
    clock alone changes the status (at risk from the warning dates, breached a second
    past a deadline), False when only an event does.
    """
    if not values["sla_id"]:
        return False, False
    if values["is_closed"] and values["close_date"]:
        return ("met" if values["sla_met"] else "breached"), False
    answered = values["first_response_date"]
    frd, frw = values["first_response_deadline"], values["first_response_warning_date"]
    rd, rw = values["resolution_deadline"], values["resolution_warning_date"]
    ref = values["sla_paused_since"] or now
    if (frd and (answered or ref) > frd) or (rd and ref > rd):
        status = "breached"
    elif (not answered and frw and ref >= frw) or (rw and ref >= rw):
        status = "at_risk"
    else:
        status = "on_track"
    if values["is_closed"] or values["sla_paused_since"]:
        return status, False
    second = timedelta(seconds=1)
    dates = [rw, rd and rd + second]
    if not answered:
        dates += [frw, frd and frd + second]
    return status, min((date for date in dates if date and date > now), default=False)


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
    sla_replan_date = fields.Datetime(
        string="SLA Re-planned On",
        readonly=True,
        copy=False,
        help="The ticket moved to another team: its open deadlines count from then on, on "
        "the new team's working hours, with the working time left to it.",
    )
    sla_replan_offset = fields.Float(
        string="SLA Hours Used Before Re-planning",
        readonly=True,
        copy=False,
        help="Working hours of the SLA used before the last transfer (plus the hours it "
        "had waited for the customer by then).",
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
    # Stored (kanban progress bars and group-bys need a column): recomputed when a
    # deadline, the pause or the stage changes, and by the escalation cron when the
    # clock alone changes it (``sla_status_date``).
    sla_status = fields.Selection(
        SLA_STATUSES,
        string="SLA Status",
        compute="_compute_sla_status",
        store=True,
        index=True,
    )
    sla_status_date = fields.Datetime(
        string="SLA Status Changes On",
        compute="_compute_sla_status",
        store=True,
        index="btree_not_null",
        help="When the clock alone changes the SLA status next (at risk, breached): the "
        "escalation cron refreshes the status then.",
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
    @api.depends(*SLA_STATUS_DEPENDS)
    def _compute_sla_status(self):
        now = fields.Datetime.now()
        for ticket in self:
            ticket.sla_status, ticket.sla_status_date = sla_status_at(ticket, now)

    def _get_sla_status(self, now):
        """The SLA status of the ticket at ``now`` (see ``sla_status_at``)."""
        self.ensure_one()
        return sla_status_at(self, now)[0]

    def _sla_refresh_status(self):
        """Recompute the stored SLA status of the tickets (the clock moved on)."""
        for fname in ("sla_status", "sla_status_date"):
            self.env.add_to_compute(self._fields[fname], self)
        self.flush_recordset(["sla_status", "sla_status_date"])
        return True

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
        """Deadlines follow at once a change of what they are computed from.

        A changed policy criterion matches the policy again; a policy or SLA start
        set by a manager is kept as given. One batch for all the written tickets.
        """
        if self.env.su and self.env.context.get("vip_sla_keep"):
            return
        keys = vals.keys()
        if not (SLA_MATCH_FIELDS | SLA_MANAGER_FIELDS) & keys:
            return
        match = bool(SLA_MATCH_FIELDS & keys) and "sla_id" not in keys
        self.filtered(lambda t: not t.is_closed)._sla_compute_deadlines(match=match)

    @api.model
    def _check_sla_fields_access(self, vals_list):
        """Refuse the fields the server derives, and the SLA corrections of non-managers.

        A read-only field in a view protects nothing: over RPC, an import or a portal
        call anyone could otherwise move a deadline, clear a breach or forge the
        escalation level. The engine writes these fields as superuser.
        """
        if self.env.su:
            return
        keys = set().union(*(vals.keys() for vals in vals_list))
        refused = keys & SERVER_DERIVED_FIELDS
        if keys & SLA_MANAGER_FIELDS and not self.env.user.has_group(
            "vip_service_ticket.group_vip_service_manager"
        ):
            refused |= keys & SLA_MANAGER_FIELDS
        if refused:
            labels = ", ".join(
                sorted(self._fields[fname]._description_string(self.env) for fname in refused)
            )
            raise AccessError(
                self.env._(
                    "You cannot set %(fields)s on service tickets: the service level engine "
                    "derives them (service managers may correct the SLA start and policy).",
                    fields=labels,
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        self._check_sla_fields_access(vals_list)
        for vals in vals_list:
            if vals.get("sla_start_date"):
                self._sla_check_start_not_too_early(
                    fields.Datetime.to_datetime(vals["sla_start_date"])
                )
        return super().create(vals_list)

    def _sla_check_start_not_too_early(self, start):
        """A corrected SLA start lies at most ``SLA_START_MARGIN_DAYS`` before the
        ticket was recorded (a request received earlier, logged late), not in 1990."""
        now = fields.Datetime.now()
        for ticket in self or [self.browse()]:
            recorded = min(ticket.create_date or now, now)
            earliest = recorded - timedelta(days=SLA_START_MARGIN_DAYS)
            if start < earliest:
                raise ValidationError(
                    self.env._(
                        "SLA Start: %(value)s is more than %(days)s days before the ticket "
                        "was recorded (earliest %(earliest)s).",
                        value=fields.Datetime.to_string(start),
                        days=SLA_START_MARGIN_DAYS,
                        earliest=fields.Datetime.to_string(earliest),
                    )
                )

    def write(self, vals):
        self._check_sla_fields_access([vals])
        if "sla_start_date" in vals:
            start = fields.Datetime.to_datetime(vals["sla_start_date"])
            if not start or start > fields.Datetime.now():
                raise ValidationError(
                    self.env._(
                        "SLA Start: the clock cannot start in the future or be empty (%(value)s).",
                        value=vals["sla_start_date"] or "",
                    )
                )
            self._sla_check_start_not_too_early(start)
            # a corrected start restarts the plan on the current calendar
            vals = dict(vals, sla_replan_date=False, sla_replan_offset=0.0)
        elif SLA_CALENDAR_FIELDS & vals.keys():
            self._sla_prepare_replan(vals)
        return super().write(vals)

    def _sla_prepare_replan(self, vals):
        """Before a transfer to another team (or company): keep the SLA fair.

        What a helpdesk user expects of a transfer: the customer's promise neither
        resets nor shrinks because the ticket changed hands. See ``_sla_replan``.
        """
        moving = self.filtered(
            lambda t: any(
                t[fname].id != vals[fname] for fname in SLA_CALENDAR_FIELDS & vals.keys()
            )
        )
        moving._sla_replan()

    def _sla_replan(self):
        """Close the SLA's account on the current calendar, before it changes.

        The working time already used is measured on the current calendar up to now
        (or up to the start of the current wait for the customer) and stored; the
        deadlines still open are then planned from that moment on the new calendar
        with the working time left (``_sla_compute_deadlines``), while deadlines
        already met or already passed stay as they were.
        """
        moving = self.filtered(lambda t: not t.is_closed and t.sla_id)
        if not moving:
            return
        now = fields.Datetime.now()
        rows = moving._sla_rows()
        calendars = moving._sla_calendars(rows)
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
        moving._sla_write(
            {
                tid: {
                    "sla_replan_date": moments[tid],
                    "sla_replan_offset": (row["sla_replan_offset"] or 0.0) + used.get(tid, 0.0),
                }
                for tid, row in rows.items()
            }
        )

    def action_recompute_sla(self):
        """Match the policy again and recompute the deadlines (after a policy change)."""
        self.filtered(lambda t: not t.is_closed)._sla_compute_deadlines(match=True)
        return True

    def _sla_compute_deadlines(self, match=True):
        """Policy, deadlines, warning dates and next escalation of open tickets, in batch.

        Deadlines count the working hours of the ticket's calendar from the SLA start,
        plus the working hours already spent waiting for the customer. A ticket
        transferred to another team counts from the transfer on, on the new team's
        calendar, with the working time it had left (see ``_sla_prepare_replan``); a
        deadline already passed then stays where it was. The tickets are
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
            fname = {
                "frd": "first_response_deadline",
                "frw": "first_response_warning_date",
                "rd": "resolution_deadline",
                "rw": "resolution_warning_date",
            }[kind]
            planned[key] = rows[tid][fname] or rows[tid]["sla_replan_date"]
        for tid, row in rows.items():
            row["sla_id"] = policies[tid].id or None
            if not row["first_response_date"]:
                row["first_response_deadline"] = planned.get((tid, "frd"))
                row["first_response_warning_date"] = planned.get((tid, "frw"))
            row["resolution_deadline"] = planned.get((tid, "rd"))
            row["resolution_warning_date"] = planned.get((tid, "rw"))
        step_dates = tickets._sla_step_dates(rows=rows, calendars=calendars)
        now = fields.Datetime.now()
        values = {}
        for tid, row in rows.items():
            dates = [due for _step, due in step_dates.get(tid, ())]
            values[tid] = {fname: row[fname] for fname in SLA_WRITE_FIELDS[:-1]}
            values[tid]["next_escalation_date"] = min(dates) if dates else None
            values[tid]["sla_status"], values[tid]["sla_status_date"] = sla_status_at(row, now)
        tickets._sla_write(values)

    def _sla_write(self, values):
        """Write engine values ``{ticket id: {field: value}}`` with one UPDATE per batch.

        The values are plain column values; the ORM's bookkeeping reduces to flushing
        before, and marking the fields modified and invalidating them after. The SLA
        status derives from the deadlines: written with them (``sla_status_at``), it is
        not recomputed; otherwise the ORM recomputes it at the next flush. Tickets
        giving other sets of fields get an UPDATE per set.
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
            if "sla_status" in fnames:
                # written with the deadlines it derives from: no recompute needed
                for fname in ("sla_status", "sla_status_date"):
                    self.env.remove_to_compute(self._fields[fname], tickets)
            tickets.invalidate_recordset([*fnames, "write_date", "write_uid"])

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
            # sudo: the SLA clock is the server's (refused to users in write)
            ticket.sudo().with_context(vip_sla_keep=True).write(
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
        resolution = self._sla_working_hours(
            {t: t.sla_replan_date or t.sla_start_date for t in self}, now
        )
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
            # sudo: the SLA results are the server's (refused to users in write)
            ticket.sudo().with_context(vip_sla_keep=True).write(
                {
                    "close_date": now,
                    "sla_met": bool(ticket.sla_id) and first_ok and (not rd or now <= rd),
                    "resolution_work_hours": max(
                        resolution.get(ticket.id, 0.0)
                        + ticket.sla_replan_offset
                        - ticket.sla_paused_hours,
                        0.0,
                    ),
                    "first_response_work_hours": first.get(ticket.id, 0.0),
                    "next_escalation_date": False,
                    "sla_paused_since": False,
                }
            )
        self._sla_close_escalation_activities()

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
        # an activity is read by the person it is for: its summary in their language
        user_tmpl = {}
        for user in users.values():
            lang = user.lang or self.env.lang
            if lang not in user_tmpl:
                user_tmpl[lang] = self.with_context(lang=lang).env._(
                    "SLA escalation level %(level)s on %(ticket)s: %(step)s"
                )
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
            activities.extend(
                (
                    tid,
                    user_tmpl[users[user_id].lang or self.env.lang]
                    % {"level": step["level"], "ticket": row["number"], "step": step["name"]},
                    user_id,
                )
                for user_id in notify
            )
        self._sla_log_escalation_notes(
            {tid: Markup("<ul>%s</ul>") % Markup("").join(items) for tid, items in bodies.items()}
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

    def _sla_log_escalation_notes(self, bodies):
        """One internal note per ticket ``{ticket id: body}``, in one batch."""
        if not bodies:
            return
        self.browse(list(bodies))._message_log_batch(bodies=bodies)

    def _sla_create_escalation_activities(self, rows, activities, users, now):
        """The escalation activities ``[(ticket id, summary, user id)]``, in one batch.

        One open escalation activity per ticket and person: a later step for the same
        person updates the open one (its summary and due date) instead of adding a
        duplicate. Created through ``mail.activity.create`` under
        ``mail_activity_quick_update`` (no assignment mail).
        """
        if not activities:
            return
        activity_type = self.env.ref("vip_service_ticket.mail_activity_type_sla_escalation")
        wanted = {}  # (ticket id, user id) -> summary of the latest step
        for tid, summary, user_id in activities:
            wanted[(tid, user_id)] = summary
        # sudo: the escalating user (often the cron) acts on everybody's activities
        Activity = self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True)
        existing = Activity.search(
            [
                ("res_model", "=", self._name),
                ("res_id", "in", list({tid for tid, _user in wanted})),
                ("activity_type_id", "=", activity_type.id),
                ("user_id", "in", list({user_id for _tid, user_id in wanted})),
            ]
        )
        today = now.date()
        by_summary = defaultdict(lambda: Activity)
        for activity in existing:
            summary = wanted.pop((activity.res_id, activity.user_id.id), None)
            if summary is not None:
                by_summary[summary] |= activity
        for summary, open_activities in by_summary.items():
            open_activities.write({"summary": summary, "date_deadline": today})
        model_id = self.env["ir.model"]._get_id(self._name)
        Activity.create(
            [
                {
                    "res_model_id": model_id,
                    "res_id": tid,
                    "activity_type_id": activity_type.id,
                    "summary": summary,
                    "user_id": user_id,
                    "date_deadline": today,
                }
                for (tid, user_id), summary in wanted.items()
            ]
        )

    def _sla_close_escalation_activities(self):
        """Closed tickets need no more attention: their open escalation activities are
        marked done, with a line saying why."""
        activity_type = self.env.ref(
            "vip_service_ticket.mail_activity_type_sla_escalation", raise_if_not_found=False
        )
        if not activity_type or not self:
            return
        # sudo: the closer marks done the escalation activities of the leaders and managers
        activities = (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "in", self.ids),
                    ("activity_type_id", "=", activity_type.id),
                ]
            )
        )
        if activities:
            activities.action_feedback(feedback=self.env._("The ticket was closed."))

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

        What ``message_subscribe`` does (existing followers are left as they are), one
        call per partner: the escalation activities' users and the new assignees
        follow the tickets.
        """
        for partner_id, ticket_ids in followers.items():
            self.env["mail.followers"]._insert_followers(
                self._name, list(ticket_ids), [partner_id], check_existing=True
            )
        if followers:
            self.browse({tid for tids in followers.values() for tid in tids}).invalidate_recordset(
                ["message_follower_ids", "message_partner_ids", "message_is_follower"]
            )

    @api.model
    def _cron_escalate(self):
        """Every few minutes: fire the escalation steps that fell due, and refresh the
        stored SLA statuses that the clock changed (``sla_status_date`` passed).

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
        # the statuses the clock changed (at risk, breached) without any step firing
        Stale = self.with_context(active_test=False)
        stale_domain = [("sla_status_date", "<=", fields.Datetime.now())]
        stale = Stale.search(stale_domain, limit=ESCALATION_BATCH_SIZE, order="sla_status_date")
        stale._sla_refresh_status()
        self.env["ir.cron"]._notify_progress(
            done=len(batch) + len(stale),
            remaining=max(len(ids) - len(batch), 0) + Stale.search_count(stale_domain),
        )
