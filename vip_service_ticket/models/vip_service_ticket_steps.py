"""The closed complaint loop of VIP service tickets (same model, split by concern).

intake -> verification -> responsibility -> solution -> progress -> result -> follow_up
-> confirmed. ``complaint_step`` is the last step reached; each step is reached by one
action that records what the step needs and writes one chatter line:

- verification, responsibility, solution, result: a line of the step's own subtype,
  whose (translated) description names the step in the reader's language, with what
  was recorded as its body;
- progress: the update itself, a message to the customer;
- follow_up: Odoo's "activity done" message of the follow-up visit, with its outcome;
- confirmed: a line of the subtype of who confirmed (the customer's rating or survey
  answer, or staff with a reason).

The step and the loop's own records are written only through these actions, after
the checks (``write``/``create`` refuse them to everyone else); the checks themselves
are in ``vip_service_ticket_complaint_rules.py``.
"""

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import plaintext2html

from odoo.addons.rating.models.rating_data import RATING_LIMIT_SATISFIED

from .vip_service_ticket import COMPLAINT_STEPS

STEP_KEYS = [key for key, _label in COMPLAINT_STEPS]
# what a step records, and must keep recorded once reached
STEP_DATA = {
    "verification": "complaint_verification",
    "responsibility": "responsibility_id",
    "solution": "solution",
    "progress": "complaint_update_count",
    "result": "complaint_result",
    "follow_up": "complaint_visit_outcome",
    "confirmed": "complaint_confirmed_by",
}
# written by the loop's actions only
LOOP_FIELDS = {
    "complaint_step",
    "complaint_update_count",
    "complaint_confirmed_by",
    "complaint_confirm_reason",
    "complaint_confirmed_date",
}
CONFIRMED_BY = [
    ("rating", "Customer Rating"),
    ("survey", "Customer Survey"),
    ("staff", "Staff"),
]
# the step a ticket must be at to reach each step (progress updates repeat)
PREVIOUS_STEPS = {step: {STEP_KEYS[index - 1]} for index, step in enumerate(STEP_KEYS) if index} | {
    "progress": {"solution", "progress"}
}


# split by concern like vip_service_ticket_sla.py: the loop reads on its own
class VipServiceTicket(models.Model):
    _inherit = "vip.service.ticket"  # pylint: disable=consider-merging-classes-inherited

    complaint_step = fields.Selection(
        COMPLAINT_STEPS,
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The last step the complaint reached in the closed loop, from intake to the "
        "customer's confirmation of satisfaction. Each step is reached by its button, "
        "which records what the step needs.",
    )
    # internal: the customer reads their complaint on the portal, not the staff's findings
    complaint_verification = fields.Text(
        string="Verification Findings",
        copy=False,
        groups="base.group_user",
        help="What the verification found: the facts checked, the evidence, whether the "
        "customer's account is confirmed.",
    )
    responsibility_id = fields.Many2one(
        "vip.service.responsibility",
        tracking=True,
        copy=False,
        groups="base.group_user",
        index="btree_not_null",
        check_company=True,
        help="The department or person who answers for the cause of the complaint.",
    )
    complaint_update_count = fields.Integer(
        string="Progress Updates Sent", readonly=True, copy=False
    )
    complaint_result = fields.Text(
        string="Result", copy=False, help="What the solution achieved for the customer."
    )
    complaint_visit_outcome = fields.Text(
        string="Follow-up Visit Outcome",
        copy=False,
        groups="base.group_user",
        help="Recorded from the feedback given when the follow-up visit activity is done.",
    )
    complaint_visit_planned = fields.Boolean(
        string="Follow-up Visit Planned", compute="_compute_complaint_visit_planned"
    )
    complaint_confirmed_by = fields.Selection(
        CONFIRMED_BY, string="Satisfaction Confirmed By", readonly=True, copy=False
    )
    complaint_confirm_reason = fields.Text(
        string="Confirmation Reason",
        readonly=True,
        copy=False,
        groups="base.group_user",
        help="Why staff confirmed the satisfaction without the customer's own answer.",
    )
    complaint_confirmed_date = fields.Datetime(
        string="Satisfaction Confirmed On", readonly=True, copy=False
    )
    complaint_can_act = fields.Boolean(
        compute="_compute_complaint_can_act",
        help="Whether the current user may move this complaint's loop on.",
    )

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------
    @api.depends("activity_ids.activity_type_id")
    def _compute_complaint_visit_planned(self):
        visit_type = self._get_complaint_visit_type()
        for ticket in self:
            ticket.complaint_visit_planned = bool(
                visit_type and visit_type in ticket.activity_ids.activity_type_id
            )

    @api.depends("user_id", "team_id.leader_id")
    @api.depends_context("uid")
    def _compute_complaint_can_act(self):
        user = self.env.user
        is_manager = user.has_group("vip_service_ticket.group_vip_service_manager")
        is_user = user.has_group("vip_service_ticket.group_vip_service_user")
        for ticket in self:
            ticket.complaint_can_act = is_manager or (
                is_user and user in (ticket.user_id | ticket.team_id.leader_id)
            )

    # ------------------------------------------------------------------
    # CRUD: the loop's fields are the loop's
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            for vals in vals_list:
                if vals.get("complaint_step") not in (None, False, "intake") or any(
                    vals.get(fname) for fname in LOOP_FIELDS - {"complaint_step"}
                ):
                    raise UserError(
                        self.env._(
                            "A complaint starts at its intake; its later steps are reached "
                            "with the step buttons of the ticket."
                        )
                    )
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            written = LOOP_FIELDS & set(vals)
            if written:
                self.check_access("write")  # who may not write at all hears so first
                labels = ", ".join(
                    sorted(self._fields[fname]._description_string(self.env) for fname in written)
                )
                raise UserError(
                    self.env._(
                        "The complaint loop moves only with the step buttons of the ticket: "
                        "%(fields)s cannot be written directly.",
                        fields=labels,
                    )
                )
            self._complaint_check_kept(vals)
        return super().write(vals)

    # ------------------------------------------------------------------
    # Actions (buttons): each opens the dialog of its step after the checks
    # ------------------------------------------------------------------
    def action_complaint_verify(self):
        """Open the verification dialog: what was found (required), the root cause."""
        return self._complaint_step_action("verification")

    def action_complaint_assign_responsibility(self):
        """Open the dialog naming the department or person responsible."""
        return self._complaint_step_action("responsibility")

    def action_complaint_record_solution(self):
        """Open the dialog recording the solution."""
        return self._complaint_step_action("solution")

    def action_send_progress_update(self):
        """Open the progress update dialog: the text is mailed to the customer."""
        return self._complaint_step_action("progress")

    def action_complaint_record_result(self):
        """Open the result dialog, which also plans the follow-up visit."""
        return self._complaint_step_action("result")

    def action_complaint_confirm_satisfaction(self):
        """Open the dialog for staff to confirm, with a reason, when the customer
        does not answer."""
        return self._complaint_step_action("confirmed")

    def action_complaint_plan_visit(self):
        """Plan the follow-up visit again (the one planned with the result was cancelled)."""
        self._complaint_check_rights()
        for ticket in self:
            if ticket.complaint_step != "result":
                raise UserError(
                    self.env._(
                        "Complaint %(ticket)s: the follow-up visit is planned once the result "
                        "is recorded.",
                        ticket=ticket.display_name,
                    )
                )
        self.filtered(lambda t: not t.complaint_visit_planned)._complaint_plan_visit()
        return True

    def _complaint_step_action(self, step):
        self.ensure_one()
        self._complaint_check_rights()
        self._complaint_check_step(step)
        return {
            "type": "ir.actions.act_window",
            "name": self._get_complaint_step_titles()[step],
            "res_model": "vip.service.ticket.complaint.step",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_ticket_id": self.id, "default_step": step},
        }

    def _get_complaint_step_titles(self):
        """Titles of the step dialogs, in the user's language."""
        return {
            "verification": self.env._("Record the Verification"),
            "responsibility": self.env._("Assign the Responsibility"),
            "solution": self.env._("Record the Solution"),
            "progress": self.env._("Send Progress Update"),
            "result": self.env._("Record the Result"),
            "confirmed": self.env._("Confirm Satisfaction"),
        }

    # ------------------------------------------------------------------
    # The steps (called by the step dialog, the follow-up activity, the rating)
    # ------------------------------------------------------------------
    def _complaint_verify(self, findings, root_cause=None):
        findings = (findings or "").strip()
        values = {"complaint_verification": findings}
        if root_cause:
            values["root_cause_id"] = root_cause.id
        return self._complaint_advance(
            "verification",
            values,
            body=plaintext2html(findings),
            subtype_xmlid="vip_service_ticket.mt_complaint_verified",
        )

    def _complaint_assign_responsibility(self, responsibility):
        body = False
        if responsibility:
            body = plaintext2html(responsibility.display_name)
        return self._complaint_advance(
            "responsibility",
            {"responsibility_id": responsibility.id if responsibility else False},
            body=body,
            subtype_xmlid="vip_service_ticket.mt_complaint_responsibility",
        )

    def _complaint_record_solution(self, solution):
        return self._complaint_advance(
            "solution",
            {"solution": solution},
            body=solution,
            subtype_xmlid="vip_service_ticket.mt_complaint_solution",
        )

    def _complaint_send_progress(self, update):
        """Post the update to the customer: a message, not a note, notified to them."""
        update = (update or "").strip()
        self._complaint_check_rights()
        self._complaint_check_step("progress")
        for ticket in self:
            if not update:
                raise UserError(
                    self.env._(
                        "Complaint %(ticket)s: write the progress update for the customer.",
                        ticket=ticket.display_name,
                    )
                )
            if not ticket.partner_id:
                raise UserError(
                    self.env._(
                        "Complaint %(ticket)s has no customer to send the update to.",
                        ticket=ticket.display_name,
                    )
                )
        for ticket in self:
            ticket.message_post(
                body=plaintext2html(update),
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                partner_ids=ticket.partner_id.ids,
            )
        for count, tickets in self.grouped("complaint_update_count").items():
            # sudo: the loop's fields are written by its actions only (checked above)
            tickets.sudo().with_context(mail_notrack=True).write(
                {"complaint_step": "progress", "complaint_update_count": count + 1}
            )
        return True

    def _complaint_record_result(self, result, visit_user=None, visit_date=None):
        result = (result or "").strip()
        for ticket in self:
            ticket._complaint_check_visitor(visit_user or ticket._get_complaint_visitor())
        self._complaint_advance(
            "result",
            {"complaint_result": result},
            body=plaintext2html(result),
            subtype_xmlid="vip_service_ticket.mt_complaint_result",
        )
        self._complaint_plan_visit(visit_user, visit_date)
        return True

    def _complaint_plan_visit(self, user=None, date=None):
        """The follow-up visit: an activity of the assignee or the account manager."""
        visit_type = self._get_complaint_visit_type()
        if not visit_type or not self:
            return self.env["mail.activity"]
        model_id = self.env["ir.model"]._get_id(self._name)
        deadline = date or visit_type._get_date_deadline()
        vals_list = []
        for ticket in self:
            visitor = user or ticket._get_complaint_visitor()
            ticket._complaint_check_visitor(visitor)
            vals_list.append(
                {
                    "res_model_id": model_id,
                    "res_id": ticket.id,
                    "activity_type_id": visit_type.id,
                    "user_id": visitor.id,
                    # in the visitor's language: the summary is theirs to read
                    "summary": ticket.with_context(lang=visitor.lang).env._(
                        "Visit %(customer)s about %(ticket)s",
                        customer=ticket.partner_id.commercial_partner_id.display_name
                        or ticket.email_from
                        or "",
                        ticket=ticket.number,
                    ),
                    "date_deadline": deadline,
                }
            )
        return self.env["mail.activity"].create(vals_list)

    def _get_complaint_visitor(self):
        """Who makes the follow-up visit: the account manager, else the assignee (hook)."""
        self.ensure_one()
        manager = self.account_manager_id
        if manager and not manager.share and manager.active:
            return manager
        return self.user_id or self.env.user

    def _complaint_check_visitor(self, visitor):
        if not visitor or visitor.share:
            raise UserError(
                self.env._(
                    "Complaint %(ticket)s: the follow-up visit is made by an internal user, "
                    "not %(user)s.",
                    ticket=self.display_name,
                    user=visitor.name or "-",
                )
            )

    @api.model
    def _get_complaint_visit_type(self):
        return self.env.ref(
            "vip_service_ticket.mail_activity_type_complaint_visit", raise_if_not_found=False
        )

    def _complaint_visit_done(self, outcome):
        """The follow-up visit activity was marked done with ``outcome`` as its feedback.

        Odoo's "activity done" message is the step's chatter line. A customer who has
        already rated the service as satisfied confirms the loop at once.
        """
        tickets = self.filtered(lambda t: t.is_complaint and t.complaint_step == "result")
        if not tickets:
            return self.browse()
        # sudo: the visitor (often the account manager) may not write tickets; marking the
        # activity assigned to them done is what records the outcome
        tickets.sudo().with_context(mail_notrack=True).write(
            {"complaint_step": "follow_up", "complaint_visit_outcome": outcome.strip()}
        )
        rated = tickets.filtered(lambda t: t.rating_last_value >= RATING_LIMIT_SATISFIED)
        rated._complaint_confirm_by_customer("rating")
        return tickets

    def _complaint_confirm_by_customer(self, source="rating"):
        """The customer's own answer confirms their satisfaction: a hook for other modules.

        Called after a satisfied rating (``source="rating"``); vip_survey calls it with
        ``source="survey"`` when a follow-up survey answer is satisfied. Complaints whose
        follow-up visit is not done yet are left alone (the steps go in order); the
        visit's outcome confirms them later if the rating is satisfied by then.
        Returns the complaints confirmed.
        """
        if source not in ("rating", "survey"):
            raise UserError(self.env._("Unknown source of the customer's confirmation."))
        ready = self.filtered(lambda t: t.is_complaint and t.complaint_step == "follow_up")
        if not ready:
            return self.browse()
        # sudo: the customer answers on a public page; the step is the loop's own record
        ready.sudo()._complaint_advance(
            "confirmed",
            {"complaint_confirmed_by": source, "complaint_confirmed_date": fields.Datetime.now()},
            subtype_xmlid=f"vip_service_ticket.mt_complaint_confirmed_{source}",
            author=self.env.ref("base.partner_root"),
        )
        return ready

    def _complaint_confirm_by_staff(self, reason):
        """Staff confirm when the customer does not answer, saying why."""
        reason = (reason or "").strip()
        return self._complaint_advance(
            "confirmed",
            {
                "complaint_confirmed_by": "staff",
                "complaint_confirm_reason": reason,
                "complaint_confirmed_date": fields.Datetime.now(),
            },
            body=plaintext2html(reason),
            subtype_xmlid="vip_service_ticket.mt_complaint_confirmed_staff",
        )

    def rating_apply(
        self,
        rate,
        token=None,
        rating=None,
        feedback=None,
        subtype_xmlid=None,
        notify_delay_send=False,
    ):
        rating = super().rating_apply(
            rate,
            token=token,
            rating=rating,
            feedback=feedback,
            subtype_xmlid=subtype_xmlid,
            notify_delay_send=notify_delay_send,
        )
        if rate >= RATING_LIMIT_SATISFIED:
            self._complaint_confirm_by_customer("rating")
        return rating
