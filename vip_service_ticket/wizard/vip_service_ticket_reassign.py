from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError


class VipServiceTicketReassign(models.TransientModel):
    _name = "vip.service.ticket.reassign"
    _description = "Transfer VIP Service Tickets to a Colleague"

    ticket_ids = fields.Many2many("vip.service.ticket", string="Tickets", required=True)
    team_id = fields.Many2one("vip.service.team", help="Leave empty to keep the tickets' teams.")
    user_id = fields.Many2one(
        "res.users", string="Transfer To", required=True, domain=[("share", "=", False)]
    )
    reason = fields.Text(required=True)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if (
            "ticket_ids" in fields_list
            and self.env.context.get("active_model") == "vip.service.ticket"
        ):
            values["ticket_ids"] = [fields.Command.set(self.env.context.get("active_ids", []))]
        return values

    @api.onchange("team_id")
    def _onchange_team_id(self):
        if self.team_id and self.user_id and self.user_id not in self.team_id.member_ids:
            self.user_id = False

    def action_confirm(self):
        self.ensure_one()
        # read as superuser: the record rules drop the tickets of other teams from
        # ``ticket_ids`` when it is read from the database, and the transfer did nothing;
        # a ticket the user may not change is refused, not silently skipped
        requested = self.sudo().ticket_ids.with_env(self.env)
        if not requested:
            raise UserError(self.env._("Choose the tickets to transfer."))
        hidden = requested - requested._filtered_access("write")
        if hidden:
            raise AccessError(
                self.env._(
                    "You cannot transfer %(count)s of these tickets: they belong to a team "
                    "you are not a member of.",
                    count=len(hidden),
                )
            )
        tickets = requested.filtered(lambda t: t.user_id != self.user_id or self.team_id)
        closed = tickets.filtered("is_closed")
        if closed:
            raise UserError(
                self.env._(
                    "Ticket %(ticket)s is closed: reopen it before transferring it.",
                    ticket=closed[0].display_name,
                )
            )
        vals = {"user_id": self.user_id.id}
        if self.team_id:
            vals["team_id"] = self.team_id.id
        # noted before the transfer: an agent may no longer see a ticket sent to another team
        for ticket in tickets:
            ticket.message_post(
                body=self.env._(
                    "Transferred to %(user)s: %(reason)s",
                    user=self.user_id.name,
                    reason=self.reason,
                ),
                subtype_xmlid="mail.mt_note",
            )
        tickets.with_context(
            vip_assignment_kind="transfer", vip_assignment_reason=self.reason
        ).write(vals)
        return {"type": "ir.actions.act_window_close"}
