from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.vip_service_ticket import COMPLAINT_STEPS


class VipServiceTicketComplaintStep(models.TransientModel):
    """The dialog of one complaint step: asks what the step records, then reaches it.

    Every check (order, required data, who may) is the ticket's; the dialog only
    collects the input.
    """

    _name = "vip.service.ticket.complaint.step"
    _description = "VIP Complaint Step"

    ticket_id = fields.Many2one(
        "vip.service.ticket", string="Complaint", required=True, ondelete="cascade"
    )
    step = fields.Selection(
        [(key, label) for key, label in COMPLAINT_STEPS if key not in ("intake", "follow_up")],
        required=True,
    )
    partner_id = fields.Many2one(related="ticket_id.partner_id", string="Customer")
    company_id = fields.Many2one(related="ticket_id.company_id")
    findings = fields.Text(string="What Was Found")
    root_cause_id = fields.Many2one("vip.service.root.cause")
    responsibility_id = fields.Many2one(
        "vip.service.responsibility",
        domain="[('company_id', 'in', [company_id, False])]",
    )
    solution = fields.Html()
    progress_note = fields.Text(string="Progress Update")
    result = fields.Text()
    visit_user_id = fields.Many2one(
        "res.users",
        string="Follow-up Visit By",
        domain=[("share", "=", False)],
        help="Who visits the customer after the result: an activity is planned for them; "
        "its outcome is recorded when they mark it done.",
    )
    visit_date = fields.Date(string="Visit Due")
    reason = fields.Text(
        help="Why the satisfaction is confirmed without the customer's own rating or answer."
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        ticket = self.env["vip.service.ticket"].browse(values.get("ticket_id"))
        if ticket:
            values.setdefault("root_cause_id", ticket.root_cause_id.id)
            values.setdefault("responsibility_id", ticket.responsibility_id.id)
            values.setdefault("solution", ticket.solution or False)
            if values.get("step") == "result":
                visit_type = ticket._get_complaint_visit_type()
                values.setdefault("visit_user_id", ticket._get_complaint_visitor().id)
                if visit_type:
                    values.setdefault("visit_date", visit_type._get_date_deadline())
        return values

    def action_confirm(self):
        self.ensure_one()
        ticket = self.ticket_id
        step = self.step
        if step == "verification":
            if not (self.findings or "").strip():
                raise self._missing("findings")
            ticket._complaint_verify(self.findings, self.root_cause_id)
        elif step == "responsibility":
            if not self.responsibility_id:
                raise self._missing("responsibility_id")
            ticket._complaint_assign_responsibility(self.responsibility_id)
        elif step == "solution":
            if ticket._complaint_is_empty("solution", self.solution):
                raise self._missing("solution")
            ticket._complaint_record_solution(self.solution)
        elif step == "progress":
            if not (self.progress_note or "").strip():
                raise self._missing("progress_note")
            ticket._complaint_send_progress(self.progress_note)
        elif step == "result":
            if not (self.result or "").strip():
                raise self._missing("result")
            ticket._complaint_record_result(self.result, self.visit_user_id, self.visit_date)
        elif step == "confirmed":
            if not (self.reason or "").strip():
                raise self._missing("reason")
            ticket._complaint_confirm_by_staff(self.reason)
        return {"type": "ir.actions.act_window_close"}

    def _missing(self, fname):
        return UserError(
            self.env._(
                "%(field)s is required for complaint %(ticket)s.",
                field=self._fields[fname]._description_string(self.env),
                ticket=self.ticket_id.display_name,
            )
        )
