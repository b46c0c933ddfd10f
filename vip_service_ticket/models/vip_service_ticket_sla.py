"""SLA of the VIP service tickets, the ticket's side: its SLA fields, the status (one
definition, ``sla_status_at``), the create/write guards of the fields the server
derives, and thin delegations to the engines.

The work itself lives in two abstract models, as ``vip.tier.engine`` does for tiers:
``vip.service.sla.engine`` (deadline planning, pauses, closing results, the escalation
schedule) and ``vip.service.escalation.engine`` (the cron and the ladder's steps). The
``_sla_*`` methods below keep the names other code calls (vip_survey, bench/, tests).
"""

from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

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
        "vip_moment_occurrence_id",
    }
)
# Fields a service manager may correct (the deadlines follow at once); nobody else.
# how long before a ticket was recorded its SLA clock may be made to start
SLA_START_MARGIN_DAYS = 30
SLA_MANAGER_FIELDS = frozenset({"sla_start_date", "sla_id"})
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
        """Recompute the stored SLA status of the tickets (the clock moved on).

        Delegates to ``vip.service.sla.engine._refresh_status`` (called by the churn
        signal of ``vip.tier.engine`` before it counts breaches)."""
        return self.env["vip.service.sla.engine"]._refresh_status(self)

    # ------------------------------------------------------------------
    # Deadlines
    # ------------------------------------------------------------------
    def _get_sla_calendar(self):
        """Calendar the ticket's SLA counts on: the team's, else the company's (hook).

        The batch engine calls it once per team and company
        (``vip.service.sla.engine._calendars``).
        """
        self.ensure_one()
        if self.team_id:
            return self.team_id._get_sla_calendar()
        return self.company_id.resource_calendar_id

    def _sla_rows(self, columns=None):
        """The SLA columns of the tickets as plain values, in one query: ``{id: row}``.

        Kept for ``vip.service.sla._match_tickets``; the engine reads them
        (``vip.service.sla.engine._read_rows``)."""
        Engine = self.env["vip.service.sla.engine"]
        return Engine._read_rows(self, columns) if columns else Engine._read_rows(self)

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
            lambda t: any(t[fname].id != vals[fname] for fname in SLA_CALENDAR_FIELDS & vals.keys())
        )
        moving._sla_replan()

    def _sla_replan(self):
        """Close the SLA's account on the current calendar, before it changes.

        Delegates to ``vip.service.sla.engine._replan`` (also called by the team when
        its working hours change)."""
        self.env["vip.service.sla.engine"]._replan(self)

    def action_recompute_sla(self):
        """Match the policy again and recompute the deadlines (after a policy change)."""
        self.filtered(lambda t: not t.is_closed)._sla_compute_deadlines(match=True)
        return True

    # ------------------------------------------------------------------
    # Delegations to the engines (names other code and the benchmarks call)
    # ------------------------------------------------------------------
    def _sla_compute_deadlines(self, match=True):
        """Policy, deadlines and next escalation of the open tickets, in batch.

        Delegates to ``vip.service.sla.engine._compute_deadlines`` (the planning moved
        out of the ticket model; bench/sla_escalation.py and the team call this name).
        """
        self.env["vip.service.sla.engine"]._compute_deadlines(self, match=match)

    def _sla_resume(self, now):
        """Leaving a waiting stage: the paused hours push the deadlines (engine, batch)."""
        self.env["vip.service.sla.engine"]._resume(self, now)

    def _sla_on_close(self, now):
        """Closing: the SLA results, stored for analysis (engine, batch)."""
        self.env["vip.service.sla.engine"]._close(self, now)

    def _sla_schedule_escalations(self):
        """Store when the next escalation step of each ticket is due (engine, batch)."""
        self.env["vip.service.escalation.engine"]._schedule_escalations(self)

    def _sla_escalate(self, now=None):
        """Fire the escalation steps due by ``now`` (``vip.service.escalation.engine``).

        :return: the number of steps fired
        """
        return self.env["vip.service.escalation.engine"]._escalate(self, now)

    @api.model
    def _cron_escalate(self):
        """The escalation cron's entry point (``data/ir_cron_data.xml``): one bounded
        batch, progress reported, see ``vip.service.escalation.engine._cron_escalate``.
        """
        return self.env["vip.service.escalation.engine"]._cron_escalate()
