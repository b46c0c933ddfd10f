"""What the steps of the escalation ladder do, in batch: the chatter note, the
reassignment and priority raise, the activities, the followers (same abstract model as
``vip_service_escalation_engine.py``, split by concern).

Everything here goes through Odoo's APIs so that an escalation looks like the same
change made by hand (see the module docstring of ``vip_service_escalation_engine.py``).
"""

from collections import defaultdict

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models


class VipServiceEscalationEngine(models.AbstractModel):
    _inherit = "vip.service.escalation.engine"

    # ------------------------------------------------------------------
    # What the steps do, in batch
    # ------------------------------------------------------------------
    @api.model
    def _log_notes(self, tickets, bodies):
        """One internal note per ticket ``{ticket id: body}``, in one batch.

        Through ``mail.thread._message_log_batch`` (mail's own API, not an INSERT): the
        steps of one run are one note per ticket, which no one is notified of."""
        if not bodies:
            return
        tickets.browse(list(bodies))._message_log_batch(bodies=bodies)

    @api.model
    def _reassign(self, tickets, rows, changes):
        """Reassign to the leader and raise the priority ``{ticket id: {field: value}}``.

        Through ``write()``, one per group of tickets getting the same values, as a user
        reassigning by hand would: the fields are tracked (the chatter shows who had the
        ticket and the old priority), the assignment history is written by the ticket's
        one logger (``_log_assignments``, kind "escalation"), the new assignee follows
        the ticket. The policy is kept (``vip_sla_keep``): an escalation does not
        re-plan the deadlines it escalates. No "you have been assigned" mail
        (``mail_auto_subscribe_no_notify``): the leader is told by the step's escalation
        activity, created without its assignment mail too; those mails took 14 s of a
        20 s run on 973 due tickets (bench/sla_escalation.py, 20k tickets).
        """
        groups = defaultdict(list)
        for tid, vals in changes.items():
            row = rows[tid]
            vals = {fname: value for fname, value in vals.items() if value != row[fname]}
            if vals:
                groups[tuple(sorted(vals.items()))].append(tid)
        if not groups:
            return
        # sudo: the assignee and priority change is the ladder's, whoever runs it
        Ticket = (
            tickets.browse()
            .sudo()
            .with_context(
                # no stored reason text: the kind ("Escalation") is shown in each reader's
                # language, a sentence would stay in the cron's
                vip_assignment_kind="escalation",
                vip_sla_keep=True,
                mail_auto_subscribe_no_notify=True,
            )
        )
        for items, ticket_ids in groups.items():
            Ticket.browse(ticket_ids).write(dict(items))

    @api.model
    def _get_activity_deadline(self, activity_type, user, now):
        """The due date of an escalation activity: the one the activity type gives a
        person scheduling it by hand (its delay), from today in the assignee's zone."""
        today = fields.Date.context_today(self.with_context(tz=user.tz or "UTC"), now)
        return today + relativedelta(**{activity_type.delay_unit: activity_type.delay_count})

    @api.model
    def _create_activities(self, tickets, rows, activities, users, now):
        """The escalation activities ``[(ticket id, step row, user id)]``, in one batch.

        An escalation activity looks like one scheduled by hand with the SLA Escalation
        type: its summary (and the type's default note) in the assignee's language, the
        due date the type gives. One open escalation activity per ticket and person: a
        later step for the same person updates the open one (its summary and due date)
        instead of adding a duplicate. Created through ``mail.activity.create`` under
        ``mail_activity_quick_update`` (no assignment mail).
        """
        if not activities:
            return
        activity_type = self.env.ref("vip_service_ticket.mail_activity_type_sla_escalation")
        wanted = {}  # (ticket id, user id) -> step row of the latest step
        for tid, step, user_id in activities:
            wanted[(tid, user_id)] = step
        # sudo: the escalating user (often the cron) acts on everybody's activities
        Activity = self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True)
        existing = Activity.search(
            [
                ("res_model", "=", tickets._name),
                ("res_id", "in", list({tid for tid, _user in wanted})),
                ("activity_type_id", "=", activity_type.id),
                ("user_id", "in", list({user_id for _tid, user_id in wanted})),
            ]
        )

        def summary(tid, user_id):
            user = users[user_id]
            return self._prepare_step_summary(
                rows[tid], wanted[(tid, user_id)], lang=user.lang or self.env.lang
            )

        updates = defaultdict(lambda: Activity)
        for activity in existing:
            key = (activity.res_id, activity.user_id.id)
            if key in wanted:
                user = users[key[1]]
                vals = (summary(*key), self._get_activity_deadline(activity_type, user, now))
                updates[vals] |= activity
                del wanted[key]
        for (text, deadline), open_activities in updates.items():
            open_activities.write({"summary": text, "date_deadline": deadline})
        model_id = self.env["ir.model"]._get_id(tickets._name)
        notes = {}
        vals_list = []
        for (tid, user_id), _step in wanted.items():
            user = users[user_id]
            lang = user.lang or self.env.lang
            if lang not in notes:
                notes[lang] = activity_type.with_context(lang=lang).default_note
            vals_list.append(
                {
                    "res_model_id": model_id,
                    "res_id": tid,
                    "activity_type_id": activity_type.id,
                    "summary": summary(tid, user_id),
                    "note": notes[lang],
                    "user_id": user_id,
                    "date_deadline": self._get_activity_deadline(activity_type, user, now),
                }
            )
        Activity.create(vals_list)

    @api.model
    def _close_activities(self, tickets):
        """Closed tickets need no more attention: their open escalation activities are
        marked done, with a line saying why.

        Moved from the ticket (``_sla_close_escalation_activities``) with the ladder
        that creates them; called by the SLA engine on closing."""
        activity_type = self.env.ref(
            "vip_service_ticket.mail_activity_type_sla_escalation", raise_if_not_found=False
        )
        if not activity_type or not tickets:
            return
        # sudo: the closer marks done the escalation activities of the leaders and managers
        activities = (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", tickets._name),
                    ("res_id", "in", tickets.ids),
                    ("activity_type_id", "=", activity_type.id),
                ]
            )
        )
        if activities:
            activities.action_feedback(feedback=self.env._("The ticket was closed."))

    @api.model
    def _subscribe_partners(self, tickets, followers):
        """Subscribe partners ``{partner id: ticket ids}`` with the default subtypes.

        What ``message_subscribe`` does (existing followers are left as they are), one
        call per partner: the people an escalation activity is for follow the tickets.
        """
        for partner_id, ticket_ids in followers.items():
            self.env["mail.followers"]._insert_followers(
                tickets._name, list(ticket_ids), [partner_id], check_existing=True
            )
        if followers:
            tickets.browse(
                {tid for tids in followers.values() for tid in tids}
            ).invalidate_recordset(
                ["message_follower_ids", "message_partner_ids", "message_is_follower"]
            )
