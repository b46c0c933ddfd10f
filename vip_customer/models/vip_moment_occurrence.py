"""One key moment of one customer: the rule, the occasion, the task, the outcome.

Created by ``vip.moment.engine`` only (the unique occasion key makes a moment
happen once per occasion). Its state follows its task: marking the activity
done processes the moment, deleting it cancels the moment. The account
manager records the outcome of the contact (the visit record); nothing else
is written by users.
"""

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

# the fields the assignee (and VIP managers) fill in: the visit record
VISIT_FIELDS = frozenset({"outcome", "feedback", "needs", "next_step"})
# context key of the engine's own writes
ENGINE_CONTEXT_KEY = "vip_moment_engine"

BOARD_STATES = [
    ("due", "Due"),
    ("not_due", "Not yet due"),
    ("done", "Processed"),
    ("cancelled", "Cancelled"),
]


class VipMomentOccurrence(models.Model):
    _name = "vip.moment.occurrence"
    _description = "VIP Key Moment"
    _order = "date_deadline, id"
    _rec_name = "rule_id"
    _check_company_auto = True

    rule_id = fields.Many2one("vip.moment.rule", required=True, ondelete="cascade", index=True)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="rule_id.company_id", store=True, index=True)
    trigger_type = fields.Selection(related="rule_id.trigger_type", store=True)
    trigger_kind = fields.Selection(related="rule_id.trigger_kind", store=True)
    tier_id = fields.Many2one("vip.tier", help="The customer's tier when the moment came.")
    occasion_key = fields.Char(
        required=True, help="What makes the occasion unique (a date, a record)."
    )
    occasion_date = fields.Date()
    date = fields.Date(string="Created On", required=True, default=fields.Date.context_today)
    date_deadline = fields.Date(string="Due Date", required=True, index=True)
    user_id = fields.Many2one("res.users", string="Assigned To", index=True)
    activity_id = fields.Many2one("mail.activity", string="Task", ondelete="set null")
    state = fields.Selection(
        [("open", "Open"), ("done", "Processed"), ("cancelled", "Cancelled")],
        default="open",
        required=True,
        index=True,
    )
    board_state = fields.Selection(
        BOARD_STATES,
        string="Status",
        required=True,
        default="not_due",
        index=True,
        help="Due: an open task whose due date has come. Not yet due: an open task due "
        "later. Processed: done.",
    )
    completion = fields.Float(
        string="Completion (%)",
        aggregator="avg",
        help="100 for a processed moment, 0 for an open one: the average of a group is "
        "its completion rate. Cancelled moments have none.",
    )
    date_done = fields.Date(string="Processed On")
    mail_sent = fields.Boolean(string="E-mail Sent")
    sms_sent = fields.Boolean(string="SMS Sent")
    skipped_reason = fields.Char(string="Not Done", help="Why an action was not done.")
    # --- visit record
    outcome = fields.Selection(
        [("reached", "Reached"), ("not_reached", "Not reached")],
        help="Was the customer reached?",
    )
    feedback = fields.Text(help="What the customer said.")
    needs = fields.Text(string="Needs Raised")
    next_step = fields.Text()

    _sql_constraints = [
        (
            "rule_partner_occasion_uniq",
            "unique(rule_id, partner_id, occasion_key)",
            "A key moment happens once per occasion and customer.",
        )
    ]

    # ------------------------------------------------------------------
    # Derived values
    # ------------------------------------------------------------------
    @api.model
    def _board_values(self, state, date_deadline, today):
        """``{board_state, completion}`` of a moment in ``state`` due on ``date_deadline``."""
        if state == "done":
            return {"board_state": "done", "completion": 100.0}
        if state == "cancelled":
            return {"board_state": "cancelled", "completion": None}
        due = date_deadline and fields.Date.to_date(date_deadline) <= today
        return {"board_state": "due" if due else "not_due", "completion": 0.0}

    def _compute_display_name(self):
        for occurrence in self:
            occurrence.display_name = "{} - {}".format(
                occurrence.rule_id.name or "", occurrence.partner_id.display_name or ""
            )

    # ------------------------------------------------------------------
    # Guard: the engine writes, the assignee records the visit
    # ------------------------------------------------------------------
    def _is_engine_write(self):
        return self.env.su and self.env.context.get(ENGINE_CONTEXT_KEY)

    @api.model_create_multi
    def create(self, vals_list):
        if not self._is_engine_write():
            raise AccessError(self.env._("Key moments are created by the key-moment engine only."))
        today = fields.Date.context_today(self)
        for vals in vals_list:
            for key, value in self._board_values(
                vals.get("state", "open"), vals.get("date_deadline"), today
            ).items():
                vals.setdefault(key, value)
        return super().create(vals_list)

    def write(self, vals):
        if not self._is_engine_write():
            forbidden = set(vals) - VISIT_FIELDS
            if forbidden:
                raise AccessError(
                    self.env._(
                        "Key moments are kept by the key-moment engine: only the visit record "
                        "(outcome, feedback, needs, next step) can be changed."
                    )
                )
            self._check_visit_writer()
        return super().write(vals)

    def _check_visit_writer(self):
        """The assignee records their visits; VIP managers may correct any."""
        if self.env.su or self.env.user.has_group("vip_customer.group_vip_manager"):
            return
        others = self.filtered(lambda o: o.user_id != self.env.user)
        if others:
            raise AccessError(
                self.env._(
                    "The visit of %(moment)s is recorded by %(user)s, to whom it is assigned.",
                    moment=others[0].display_name,
                    user=others[0].user_id.display_name or self.env._("its assignee"),
                )
            )

    def _engine_write(self, vals):
        return self.sudo().with_context(**{ENGINE_CONTEXT_KEY: True}).write(vals)

    # ------------------------------------------------------------------
    # State changes (called by mail.activity and the visit wizard)
    # ------------------------------------------------------------------
    def _mark_done(self, feedback=None, date_done=None):
        todo = self.filtered(lambda o: o.state == "open")
        if not todo:
            return
        vals = {
            "state": "done",
            "board_state": "done",
            "completion": 100.0,
            "date_done": date_done or fields.Date.context_today(self),
        }
        todo._engine_write(vals)
        without_feedback = todo.filtered(lambda o: not o.feedback)
        if feedback and without_feedback:
            # one write: the same feedback for every task marked done together
            without_feedback._engine_write({"feedback": feedback})

    def _mark_cancelled(self):
        todo = self.filtered(lambda o: o.state == "open")
        if todo:
            todo._engine_write(
                {"state": "cancelled", "board_state": "cancelled", "completion": None}
            )

    @api.model
    def _refresh_board_states(self, today=None):
        """Open moments whose due date came become "due" (one statement)."""
        today = today or fields.Date.context_today(self)
        self.flush_model(["state", "date_deadline", "board_state"])
        self.env.cr.execute(
            """
            UPDATE vip_moment_occurrence
               SET board_state = CASE WHEN date_deadline <= %s THEN 'due' ELSE 'not_due' END
             WHERE state = 'open'
               AND board_state IS DISTINCT FROM
                   CASE WHEN date_deadline <= %s THEN 'due' ELSE 'not_due' END
            """,
            (today, today),
        )
        if self.env.cr.rowcount:
            self.invalidate_model(["board_state"])
        return self.env.cr.rowcount

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_record_visit(self):
        """Open the visit record of this moment."""
        self.ensure_one()
        self._check_visit_writer()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Record the Contact"),
            "res_model": "vip.moment.visit",
            "view_mode": "form",
            "target": "new",
            "context": {"default_occurrence_id": self.id},
        }

    def action_open_partner(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": self.partner_id.id,
            "view_mode": "form",
        }

    def _prepare_visit_note(self):
        """The customer's timeline note of the recorded contact (in the writer's
        language: it is written by them, for their colleagues)."""
        self.ensure_one()
        outcomes = dict(self._fields["outcome"]._description_selection(self.env))
        rows = [
            (self.env._("Key moment"), self.rule_id.name),
            (self.env._("Outcome"), outcomes.get(self.outcome, "")),
            (self.env._("Feedback"), self.feedback),
            (self.env._("Needs raised"), self.needs),
            (self.env._("Next step"), self.next_step),
        ]
        return Markup("<ul>%s</ul>") % Markup("").join(
            Markup("<li><b>%s</b>: %s</li>") % (label, value) for label, value in rows if value
        )

    def _record_visit(self, vals):
        """Write the visit record, process the task, note it on the customer."""
        self.ensure_one()
        if self.state == "cancelled":
            raise UserError(
                self.env._(
                    "%(moment)s was cancelled: it has no visit to record.", moment=self.display_name
                )
            )
        self.write(vals)
        activity = self.activity_id.sudo().exists()
        if activity and activity.active and not activity.date_done:
            # sudo: the assignee or a VIP manager (checked above) marks the task done
            # with the feedback as its message; the author stays the current user
            activity.sudo().action_feedback(feedback=self.feedback or False)
        self._mark_done(date_done=fields.Date.context_today(self))
        # in the writer's language, whatever the caller's context (XML-RPC has none)
        writer_lang = self.env.user.lang or self.env.lang
        self.partner_id.sudo().message_post(
            body=self.with_context(lang=writer_lang)._prepare_visit_note(),
            subtype_xmlid="mail.mt_note",
            author_id=self.env.user.partner_id.id,
        )
        return True
