"""VIP service tickets and mail: the gateway opens tickets from mails to a team alias,
staff replies stamp the first response, customer replies reopen or resume tickets, and
the tracking subtypes (same model as ``vip_service_ticket.py``, split by concern)."""

from datetime import timedelta

from odoo import api, fields, models


class VipServiceTicket(models.Model):
    _inherit = "vip.service.ticket"  # pylint: disable=consider-merging-classes-inherited

    # ------------------------------------------------------------------
    # Mail gateway and messages
    # ------------------------------------------------------------------
    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """A mail to a team alias opens a ticket for the customer found by address."""
        values = dict(custom_values or {})
        email = msg_dict.get("email_from")
        partner = self.env["res.partner"].browse(msg_dict.get("author_id"))
        if not partner and email:
            partner = self._mail_find_partner_from_emails([email], force_create=False)[0]
        values.setdefault("name", msg_dict.get("subject") or self.env._("No Subject"))
        values.setdefault("channel", "email")
        values.setdefault("email_from", email)
        values.setdefault("description", msg_dict.get("body"))
        if partner:
            values.setdefault("partner_id", partner.id)
            values.setdefault("company_id", (partner.company_id or self.env.company).id)
        return super().message_new(msg_dict, custom_values=values)

    def _message_post_after_hook(self, message, msg_vals):
        result = super()._message_post_after_hook(message, msg_vals)
        if message.message_type not in ("comment", "email") or message.subtype_id.internal:
            return result
        author = message.author_id
        # sudo: the author may be a portal user, who cannot read users
        is_staff = author and any(not user.share for user in author.sudo().user_ids)
        if is_staff:
            answered = self.filtered(lambda t: not t.first_response_date and not t.is_closed)
            if answered:
                # sudo: the first response is the server's record (refused to users in write)
                answered.sudo().write(
                    {"first_response_date": message.date or fields.Datetime.now()}
                )
                answered._sla_schedule_escalations()
        elif not is_staff:
            self._on_customer_reply(message)
        return result

    def _on_customer_reply(self, message):
        """The customer wrote: reopen a recently closed ticket, resume a waiting one."""
        now = fields.Datetime.now()
        to_reopen = self.filtered(
            lambda t: (
                t.is_closed
                and t.close_date
                and t.team_id.reopen_days
                and t.close_date >= now - timedelta(days=t.team_id.reopen_days)
            )
        )
        waiting = self.filtered(lambda t: not t.is_closed and t.stage_id.pause_sla)
        stage = self._get_reopen_stage()
        if not stage or not (to_reopen or waiting):
            return
        # sudo: customers (portal, email) cannot write tickets; reopening is the rule's effect
        (to_reopen | waiting).sudo().write({"stage_id": stage.id})
        for ticket in to_reopen:
            ticket.sudo().message_post(
                body=self.env._("Reopened: the customer replied after the ticket was closed."),
                subtype_xmlid="mail.mt_note",
            )

    def _track_subtype(self, init_values):
        self.ensure_one()
        if "stage_id" in init_values and self.is_closed:
            return self.env.ref("vip_service_ticket.mt_ticket_closed")
        if "stage_id" in init_values:
            return self.env.ref("vip_service_ticket.mt_ticket_stage")
        return super()._track_subtype(init_values)

    def _creation_subtype(self):
        return self.env.ref("vip_service_ticket.mt_ticket_new")

    def _notify_get_recipients_groups(self, message, model_description, msg_vals=False):
        """Customers get the portal link in the notifications of their tickets."""
        groups = super()._notify_get_recipients_groups(
            message, model_description, msg_vals=msg_vals
        )
        if not self:
            return groups
        self.ensure_one()
        for group_name, _group_method, group_data in groups:
            if group_name in ("portal", "portal_customer") and self.partner_id:
                group_data["has_button_access"] = True
        return groups
