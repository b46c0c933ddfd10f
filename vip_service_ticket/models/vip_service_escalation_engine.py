"""The escalation ladder of the VIP service tickets: the cron, the steps that fire, and
what each step does (notes, activities, reassignment, followers).

Moved out of the ticket model (it delegates ``_sla_escalate`` and ``_cron_escalate``),
built like ``vip.tier.engine``: an abstract model taking the tickets as a recordset.

Everything a user would notice goes through Odoo's APIs, in batches, so that an
escalation looks like the same change made by hand: the reassignment and the priority
raise are one ``write()`` per group of tickets (tracking lines, the assignment history
through the ticket's one logger ``_log_assignments``, the assignee's subscription);
notes through ``_message_log_batch``; activities through ``mail.activity.create``
under ``mail_activity_quick_update``; followers through ``_insert_followers``. Raw SQL
remains for reads and for the escalation log, a table of this add-on whose unique
(ticket, step) row is what keeps a concurrent run from acting twice.
"""

import logging
from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL

from .vip_service_sla_engine import TICKET_SLA_COLUMNS

_logger = logging.getLogger(__name__)

# Ticket columns the escalation ladder reads.
ESCALATION_COLUMNS = (
    *TICKET_SLA_COLUMNS,
    "user_id",
    "priority",
    "escalation_level",
    "number",
    "name",
    "commercial_partner_id",
)
ESCALATION_BATCH_SIZE = 2000
# the first batch of a call under a time limit (see ir.cron._vip_call_budget)
FIRST_BATCH_SIZE = 100
PRIORITY_MAX = "3"
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


class VipServiceEscalationEngine(models.AbstractModel):
    _name = "vip.service.escalation.engine"
    _description = "VIP Service Escalation Engine"

    # ------------------------------------------------------------------
    # Cron
    # ------------------------------------------------------------------
    @api.model
    def _cron_escalate(self):
        """The escalation cron (``vip.service.ticket._cron_escalate``): batches of
        at most ``ESCALATION_BATCH_SIZE`` tickets whose next step is due and as
        many whose stored status the clock changed.

        Called by Odoo's cron runner, a call sizes its batches by time
        (``ir.cron._vip_call_budget``) until its share of the server's cron
        limit is spent; otherwise it is one batch. It reports what is left with
        ``ir.cron._notify_progress`` and returns: the runner commits and calls
        again at once while work remains (no commit here).
        """
        Ticket = self.env["vip.service.ticket"]
        Sla = self.env["vip.service.sla.engine"]
        Stale = Ticket.with_context(active_test=False)
        now = fields.Datetime.now()
        due_domain = Sla._get_escalation_due_domain(now)
        stale_domain = Sla._get_status_stale_domain(now)
        budget = self.env["ir.cron"]._vip_call_budget(ESCALATION_BATCH_SIZE, FIRST_BATCH_SIZE)
        if budget.deferred:
            return self.env["ir.cron"]._vip_defer_call()
        done = 0
        for size in budget:
            batch = Ticket.search(due_domain, limit=size, order="next_escalation_date, id")
            fired = self._escalate(batch, now)
            _logger.info("SLA escalation: %s steps fired on %s tickets", fired, len(batch))
            # the statuses the clock changed (at risk, breached) without any step firing
            stale = Stale.search(stale_domain, limit=size, order="sla_status_date, id")
            Sla._refresh_status(stale)
            # a breach found now is a key moment now (the account manager hears of it)
            (batch | stale).filtered_domain(Sla._get_breached_domain())._vip_signal_moments(
                ["sla_breached"]
            )
            # the tracking lines of the reassignments are written by mail's precommit
            # hooks: run them now, so that their time counts in this batch's (left to the
            # runner's commit, they made a 12 s call a 26 s one and the worker was killed)
            self.env.cr.flush()
            budget.spent(len(batch) + len(stale))
            done += len(batch) + len(stale)
            if size not in (len(batch), len(stale)):
                budget.stop()  # nothing more due
        # counted after the work: what the batches did no longer matches the domains
        remaining = Ticket.search_count(due_domain) + Stale.search_count(stale_domain)
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return True

    # ------------------------------------------------------------------
    # Firing the ladder
    # ------------------------------------------------------------------
    @api.model
    def _escalate(self, tickets, now=None):
        """Fire the escalation steps of ``tickets`` due by ``now``, each once per ticket.

        Set-based: the tickets, ladders and fired steps are read with a few queries;
        the steps are logged with one ``INSERT ... ON CONFLICT DO NOTHING`` (a unique
        row per ticket and step: a step inserted by a concurrent run is not acted upon
        twice), then acted upon in batch (``_fire_steps``). The level and the next
        escalation date are engine columns, written with one UPDATE.

        :return: the number of steps due
        """
        now = now or fields.Datetime.now()
        Sla = self.env["vip.service.sla.engine"]
        self.env.flush_all()
        rows = Sla._read_rows(tickets, ESCALATION_COLUMNS)
        step_dates = self._step_dates(tickets, rows=rows)
        due = [
            (tid, step)
            for tid, steps in step_dates.items()
            for step, date in sorted(
                steps, key=lambda item: (item[0]["level"], item[0]["sequence"])
            )
            if date <= now
        ]
        levels = self._fire_steps(tickets, rows, due, now) if due else {}
        due_pairs = {(tid, step["id"]) for tid, step in due}
        values = {}
        for tid, row in rows.items():
            dates = [
                date for step, date in step_dates.get(tid, ()) if (tid, step["id"]) not in due_pairs
            ]
            next_date = min(dates) if dates else None
            if tid in levels or row["next_escalation_date"] != next_date:
                values[tid] = {
                    "escalation_level": levels.get(tid, row["escalation_level"] or 0),
                    "next_escalation_date": next_date,
                }
        Sla._write(tickets, values)
        return len(due)

    @api.model
    def _fire_steps(self, tickets, rows, due, now):
        """Log and act upon the ``due`` ``[(ticket id, step row)]`` of the ``rows``.

        :return: ``{ticket id: escalation level}`` of the tickets a step fired on
        """
        due = self._log_steps(rows, due, now)
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
        bodies = defaultdict(list)
        activities = []  # (ticket id, step row, user id)
        levels = {}
        changes = {}  # ticket id -> {"user_id": .., "priority": ..}
        for tid, step in due:
            row = rows[tid]
            levels[tid] = max(levels.get(tid, row["escalation_level"] or 0), step["level"])
            leader = team_leaders.get(row["team_id"])
            if step["action"] == "reassign_leader" and leader:
                changes[tid] = {
                    "user_id": leader,
                    "priority": str(min(int(row["priority"] or 0) + 1, int(PRIORITY_MAX))),
                }
            notify = recipients.get((tid, step["id"]), [])
            lang = self._get_note_lang(row, users.get(leader) if leader else None)
            item = Markup("<li>%s</li>") % self._prepare_step_summary(row, step, lang=lang)
            if notify:
                names = ", ".join(users[user_id].name for user_id in notify)
                item += Markup(" <small>%s</small>") % self.with_context(lang=lang).env._(
                    "Notified: %(users)s", users=names
                )
            bodies[tid].append(item)
            activities.extend((tid, step, user_id) for user_id in notify)
        self._log_notes(
            tickets,
            {tid: Markup("<ul>%s</ul>") % Markup("").join(items) for tid, items in bodies.items()},
        )
        self._reassign(tickets, rows, changes)
        self._create_activities(tickets, rows, activities, users, now)
        followers = defaultdict(set)  # partner id -> ticket ids
        for tid, _step, user_id in activities:
            followers[users[user_id].partner_id.id].add(tid)
        self._subscribe_partners(tickets, followers)
        return levels

    @api.model
    def _log_steps(self, rows, due, now):
        """Record the fired steps in the escalation log; return those inserted now.

        Raw SQL on purpose: the log is this add-on's own table, written only here, and
        ``ON CONFLICT (ticket_id, step_id) DO NOTHING`` lets two concurrent runs agree
        on who acts on a step without an error (the ORM would raise and roll back).
        """
        cr = self.env.cr
        uid = self.env.uid
        cr.execute(
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
        return [(tid, step) for tid, step in due if (tid, step["id"]) in inserted]

    @api.model
    def _prepare_step_summary(self, row, step, lang=None):
        """The one-line summary of a fired step (hook), in ``lang`` (the reader's): the
        chatter line in the note's language (:meth:`_get_note_lang`), each activity in
        its assignee's. A step named by its deadline and trigger is named in that
        language too; a name an admin gave it is kept as written."""
        env = self.with_context(lang=lang).env if lang else self.env
        return env._(
            "SLA escalation level %(level)s on %(ticket)s: %(step)s",
            level=step["level"],
            ticket=row["number"],
            step=self.env["vip.service.sla.escalation"]._get_name_in_lang(
                step, env.lang or "en_US"
            ),
        )

    @api.model
    def _get_note_lang(self, row, leader):
        """Hook: the language of the escalation note on a ticket's chatter: the team
        leader's (who handles escalations), else the one of the ticket's company."""
        if leader and leader.lang:
            return leader.lang
        company = self.env["res.company"].sudo().browse(row["company_id"])  # a name, a lang
        return company.partner_id.lang or self.env.lang or "en_US"

    @api.model
    def _get_escalation_recipients(self, rows, due):
        """Users each fired step notifies (hook), in batch.

        Moved from the ticket with the ladder; override it here to notify other people
        (call super and add to its result).

        :param rows: ``_read_rows(tickets, ESCALATION_COLUMNS)`` of the tickets
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

    # ------------------------------------------------------------------
    # Escalation schedule
    # ------------------------------------------------------------------
    @api.model
    def _escalation_steps(self, sla_ids):
        """The ladders of the policies as plain rows: ``{sla id: [step row]}``, in order.

        Moved from the ticket (``_sla_escalation_steps``): one query for every policy of
        a batch, so that dating the steps costs no ORM access per ticket."""
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

    @api.model
    def _fired_steps(self, tickets):
        """``{(ticket id, step id)}`` of the steps already fired on the tickets.

        Moved from the ticket (``_sla_fired_steps``): a step fires once per ticket, and
        one query tells which for a whole batch."""
        if not tickets.ids:
            return set()
        self.env["vip.service.ticket.escalation"].flush_model(["ticket_id", "step_id"])
        return set(
            self.env.execute_query(
                SQL(
                    "SELECT ticket_id, step_id FROM vip_service_ticket_escalation"
                    " WHERE ticket_id = ANY(%s)",
                    list(tickets.ids),
                )
            )
        )

    @api.model
    def _step_dates(self, tickets, rows=None, calendars=None):
        """Pending escalation steps of the tickets and when each is due.

        Moved from the ticket (``_sla_step_dates``): the deadline plan and the ladder
        both need it (the next escalation date is its earliest date).

        :param rows: the tickets' ``_read_rows()`` (read when not given)
        :return: ``{ticket id: [(step row, due datetime)]}`` without the steps already
            fired, nor the first-response steps of tickets staff already answered.
        """
        if rows is None:
            rows = self.env["vip.service.sla.engine"]._read_rows(tickets)
        if calendars is None:
            calendars = self.env["vip.service.sla.engine"]._calendars(tickets, rows)
        steps = self._escalation_steps({row["sla_id"] for row in rows.values()} - {None})
        fired = self._fired_steps(tickets.browse(list(rows))) if steps else set()
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

    @api.model
    def _schedule_escalations(self, tickets):
        """Store when the next escalation step of each ticket is due (the cron's index).

        Moved from the ticket (``_sla_schedule_escalations`` delegates): called after
        an answer, a pause or a reopening, which change what is pending."""
        rows = self.env["vip.service.sla.engine"]._read_rows(tickets)
        step_dates = self._step_dates(tickets, rows=rows)
        values = {}
        for tid, row in rows.items():
            dates = [due for _step, due in step_dates.get(tid, ())]
            next_date = min(dates) if dates else None
            if row["next_escalation_date"] != next_date:
                values[tid] = {"next_escalation_date": next_date}
        self.env["vip.service.sla.engine"]._write(tickets, values)
