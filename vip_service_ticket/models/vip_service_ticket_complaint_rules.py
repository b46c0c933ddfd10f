"""The rules of the closed complaint loop: who may move it, in which order, with what
recorded (same model as ``vip_service_ticket_steps.py``, split by concern: the steps
read on their own, the checks they all share live here)."""

from odoo import models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import is_html_empty

from .vip_service_ticket_steps import PREVIOUS_STEPS, STEP_DATA, STEP_KEYS


class VipServiceTicket(models.Model):
    _inherit = "vip.service.ticket"  # pylint: disable=consider-merging-classes-inherited

    # ------------------------------------------------------------------
    # Rules
    # ------------------------------------------------------------------
    def _complaint_advance(self, step, values, body=None, subtype_xmlid=None, author=None):
        """Reach ``step`` with ``values`` after every check, then log one line per ticket."""
        self._complaint_check_rights()
        self._complaint_check_step(step)
        values = dict(values, complaint_step=step)
        for ticket in self:
            ticket._complaint_check_data(step, values)
        # sudo: the loop's fields are written by its actions only (checked above); no
        # tracking, the step's line below says what was recorded
        self.sudo().with_context(mail_notrack=True).write(values)
        if subtype_xmlid:
            for ticket in self:
                ticket.message_post(
                    body=body or "",
                    message_type="comment",
                    subtype_xmlid=subtype_xmlid,
                    author_id=author.id if author else None,
                )
        return True

    def _complaint_check_step(self, step):
        """Raise unless each ticket is a complaint whose loop reaches ``step`` next."""
        labels = dict(self._fields["complaint_step"]._description_selection(self.env))
        for ticket in self:
            if not ticket.is_complaint:
                raise UserError(
                    self.env._("Ticket %(ticket)s is not a complaint.", ticket=ticket.display_name)
                )
            current = ticket.complaint_step or "intake"
            if current == STEP_KEYS[-1]:
                raise UserError(
                    self.env._(
                        "Complaint %(ticket)s is already confirmed by the customer.",
                        ticket=ticket.display_name,
                    )
                )
            if current not in PREVIOUS_STEPS.get(step, ()):
                expected = STEP_KEYS[STEP_KEYS.index(current) + 1]
                raise UserError(
                    self.env._(
                        "Complaint %(ticket)s is at the step %(current)s: the next step is "
                        "%(expected)s, not %(step)s.",
                        ticket=ticket.display_name,
                        current=labels[current],
                        expected=labels[expected],
                        step=labels.get(step, step),
                    )
                )

    def _complaint_check_rights(self):
        """Service managers move every complaint; service users the complaints assigned
        to them or to a team they lead. Portal users and other employees never."""
        if self.env.su:
            return
        self.check_access("write")
        user = self.env.user
        if user.has_group("vip_service_ticket.group_vip_service_manager"):
            return
        is_user = user.has_group("vip_service_ticket.group_vip_service_user")
        for ticket in self:
            if not is_user or user not in (ticket.user_id | ticket.team_id.leader_id):
                raise AccessError(
                    self.env._(
                        "Only the assignee, the team leader or a service manager moves the "
                        "complaint loop of %(ticket)s.",
                        ticket=ticket.display_name,
                    )
                )

    def _complaint_check_data(self, step, values):
        """Raise when reaching ``step`` with ``values`` leaves what a step needs empty."""
        self.ensure_one()
        reached = STEP_KEYS[: STEP_KEYS.index(step) + 1]
        for done in reached:
            fname = STEP_DATA.get(done)
            if fname and self._complaint_is_empty(fname, values.get(fname, self[fname])):
                self._complaint_raise_missing(done, fname)
        if values.get("complaint_confirmed_by", self.complaint_confirmed_by) == "staff":
            reason = values.get("complaint_confirm_reason", self.complaint_confirm_reason)
            if self._complaint_is_empty("complaint_confirm_reason", reason):
                self._complaint_raise_missing("confirmed", "complaint_confirm_reason")

    def _complaint_check_kept(self, vals):
        """A step's record cannot be emptied once the step is reached."""
        for done, fname in STEP_DATA.items():
            if fname not in vals or not self._complaint_is_empty(fname, vals[fname]):
                continue
            index = STEP_KEYS.index(done)
            for ticket in self:
                if ticket.complaint_step and STEP_KEYS.index(ticket.complaint_step) >= index:
                    ticket._complaint_raise_missing(done, fname)

    def _complaint_is_empty(self, fname, value):
        field = self._fields[fname]
        if field.type == "html":
            return is_html_empty(value)
        if field.type in ("text", "char"):
            return not (value or "").strip()
        if field.type == "many2one":
            return not value
        return not value

    def _complaint_raise_missing(self, step, fname):
        labels = dict(self._fields["complaint_step"]._description_selection(self.env))
        raise ValidationError(
            self.env._(
                "Complaint %(ticket)s: %(field)s is required at the step %(step)s.",
                ticket=self.display_name,
                field=self._fields[fname]._description_string(self.env),
                step=labels[step],
            )
        )
