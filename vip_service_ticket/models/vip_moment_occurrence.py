"""The visit record opens a service ticket: a need the customer raised during the
contact of a key moment becomes a ticket in one click, linked both ways."""

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import plaintext2html

# length of a ticket subject taken from the needs raised
SUBJECT_LENGTH = 80


class VipMomentOccurrence(models.Model):
    _inherit = "vip.moment.occurrence"

    # written by action_open_ticket only (the occurrence's write guard refuses it
    # to users: it is not a visit field)
    ticket_id = fields.Many2one(
        "vip.service.ticket",
        string="Service Ticket",
        readonly=True,
        copy=False,
        ondelete="set null",
        index="btree_not_null",
        help="The ticket opened for the needs the customer raised.",
    )

    def _prepare_ticket_vals(self):
        """Values of the ticket opened for the needs raised (hook)."""
        self.ensure_one()
        needs = self.needs.strip()
        subject = needs.splitlines()[0].strip()
        if len(subject) > SUBJECT_LENGTH:
            subject = subject[: SUBJECT_LENGTH - 1] + "…"
        # sudo: the default team is looked up for an account manager who may not be
        # a service agent (the caller's right was checked by action_open_ticket)
        Ticket = self.env["vip.service.ticket"].sudo()
        return Ticket._prepare_ticket_vals(
            self.partner_id,
            name=subject,
            description=plaintext2html(needs),
            channel="visit",
            company_id=self.company_id.id,
            vip_moment_occurrence_id=self.id,
        )

    def action_open_ticket(self):
        """Open a service ticket for the needs raised in the visit record.

        The moment's assignee or a VIP manager only (as for the visit record itself);
        once per moment: a second click opens the ticket already opened. The ticket
        is created by the system for them (an account manager need not be a service
        agent): the service team takes it from there.
        """
        self.ensure_one()
        self.check_access("write")
        self._check_visit_writer()
        if self.ticket_id:
            return self._action_ticket_opened(self.ticket_id)
        if self.state == "cancelled":
            raise UserError(
                self.env._(
                    "%(moment)s was cancelled: it opens no ticket.", moment=self.display_name
                )
            )
        if not (self.needs or "").strip():
            raise UserError(
                self.env._(
                    "%(moment)s has no needs raised: write them in the visit record "
                    "(Needs Raised) before opening a ticket.",
                    moment=self.display_name,
                )
            )
        # sudo: the assignee (checked above) opens the ticket whatever their service
        # rights; the ticket's link back is a field only the system sets
        ticket = self.env["vip.service.ticket"].sudo().create(self._prepare_ticket_vals())
        self._engine_write({"ticket_id": ticket.id})
        return self._action_ticket_opened(ticket)

    def _action_ticket_opened(self, ticket):
        """The ticket's form when the user may read it, else a notification."""
        if ticket.with_user(self.env.user).has_access("read"):
            return {
                "type": "ir.actions.act_window",
                "res_model": "vip.service.ticket",
                "res_id": ticket.id,
                "view_mode": "form",
                "views": [(False, "form")],
                "target": "current",
            }
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": self.env._("Ticket opened"),
                "message": self.env._(
                    "Ticket %(number)s was opened for the service team.",
                    number=ticket.sudo().number,
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
