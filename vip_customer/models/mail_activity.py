from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import html2plaintext


class MailActivity(models.Model):
    _inherit = "mail.activity"

    # ------------------------------------------------------------------
    # Guard: the follow-ups measure the account managers (scorecards)
    # ------------------------------------------------------------------
    def _vip_is_followup_guard_exempt(self):
        """The engine (superuser) and VIP managers may correct follow-ups."""
        return self.env.su or self.env.user.has_group("vip_customer.group_vip_manager")

    @api.model
    def _vip_followup_type(self):
        return self.env.ref(
            "vip_customer.mail_activity_type_vip_followup", raise_if_not_found=False
        )

    def _vip_done_followups(self):
        """The done VIP follow-ups of customers in ``self``: archived (the type
        keeps done ones) or with a done date."""
        followup_type = self._vip_followup_type()
        if not followup_type:
            return self.browse()
        # any model: moving a done follow-up onto a customer is a write too
        return self.sudo().filtered(
            lambda a: a.activity_type_id == followup_type and (not a.active or a.date_done)
        )

    def _vip_check_done_followups(self, operation):
        if self._vip_is_followup_guard_exempt() or not self._vip_done_followups():
            return
        self._vip_check_done_followups_raise(operation)

    def _vip_check_done_followups_raise(self, operation):
        message = (
            self.env._(
                "A done VIP follow-up counts in the account manager's scorecard: only VIP "
                "managers can change it."
            )
            if operation == "write"
            else self.env._(
                "A done VIP follow-up counts in the account manager's scorecard: only VIP "
                "managers can delete it."
            )
        )
        raise UserError(message)

    @api.model_create_multi
    def create(self, vals_list):
        if not self._vip_is_followup_guard_exempt():
            followup_type = self._vip_followup_type()
            for vals in vals_list:
                if (
                    followup_type
                    and vals.get("activity_type_id") == followup_type.id
                    and ("active" in vals and not vals["active"] or vals.get("date_done"))
                ):
                    raise UserError(
                        self.env._(
                            "A VIP follow-up is created open and marked done by its assignee "
                            "(“Mark Done”): only VIP managers can create it already done "
                            "(Active or Done Date)."
                        )
                    )
        activities = super().create(vals_list)
        activities._vip_check_past_followups_of_others()
        return activities

    def _vip_check_past_followups_of_others(self):
        """Only VIP managers (and the scheduler) give someone else a VIP
        follow-up already overdue: it would count against them."""
        if self._vip_is_followup_guard_exempt():
            return
        followup_type = self._vip_followup_type()
        today = fields.Date.context_today(self)
        if self.sudo().filtered(
            lambda a: (
                a.activity_type_id == followup_type
                and a.active
                and a.user_id
                and a.user_id != self.env.user
                and a.date_deadline < today
            )
        ):
            raise UserError(
                self.env._(
                    "A VIP follow-up of someone else cannot be given a deadline in the past (it "
                    "would count as overdue on their scorecard): only VIP managers can do that."
                )
            )

    def write(self, vals):
        if not self._vip_is_followup_guard_exempt():
            self._vip_check_done_followups("write")
            followup_type = self._vip_followup_type()
            to_followup = followup_type and vals.get("activity_type_id") == followup_type.id
            if to_followup and self.sudo().filtered(lambda a: not a.active or a.date_done):
                # a done activity of another type turned into a done follow-up
                self._vip_check_done_followups_raise("write")
            if (
                "date_done" in vals
                and followup_type
                and (
                    to_followup
                    or self.sudo().filtered(lambda a: a.activity_type_id == followup_type)
                )
            ):
                raise UserError(
                    self.env._(
                        "The done date of a VIP follow-up is set when its assignee marks it "
                        "done: only VIP managers can change it."
                    )
                )
        result = super().write(vals)
        if {"user_id", "date_deadline", "activity_type_id", "active"} & set(vals):
            self._vip_check_past_followups_of_others()
        return result

    def _vip_check_moment_tasks_of_others(self, moments):
        """A key-moment task is processed (done) or cancelled (deleted) by its
        assignee: the moment counts on their board. VIP managers may correct."""
        if self._vip_is_followup_guard_exempt():
            return
        user = self.env.user
        others = moments.filtered(lambda o: user not in (o.user_id, o.activity_id.user_id))
        if others:
            raise UserError(
                self.env._(
                    "%(moment)s is a key moment of %(user)s: only they (or a VIP manager) "
                    "can mark its task done or delete it.",
                    moment=others[0].display_name,
                    user=(others[0].activity_id.user_id or others[0].user_id).display_name
                    or self.env._("its assignee"),
                )
            )

    def unlink(self):
        self._vip_check_done_followups("unlink")
        # a key-moment task deleted before it was done cancels the moment (one
        # marked done was processed first, see _action_done)
        moments = self._vip_moment_occurrences()
        self._vip_check_moment_tasks_of_others(moments)
        result = super().unlink()
        moments._mark_cancelled()
        return result

    def _vip_moment_occurrences(self):
        """The open key moments whose task is one of these activities."""
        if not self.ids:
            return self.env["vip.moment.occurrence"].sudo()
        return (
            self.env["vip.moment.occurrence"]
            .sudo()
            .search([("activity_id", "in", self.ids), ("state", "=", "open")])
        )

    def _action_done(self, feedback=False, attachment_ids=None):
        """Marking a VIP follow-up done records the follow-up on the customer,
        which moves their next follow-up by the tier's cadence."""
        followup_type = self.env.ref(
            "vip_customer.mail_activity_type_vip_followup", raise_if_not_found=False
        )
        followups = self.filtered(
            lambda a: a.activity_type_id == followup_type and a.res_model == "res.partner"
        )
        # read before super(): done activities are unlinked (or archived)
        partner_ids = followups.mapped("res_id")
        # the key moments of these tasks are processed (before super() unlinks them)
        moments = self._vip_moment_occurrences()
        self._vip_check_moment_tasks_of_others(moments)
        moments._mark_done(feedback=html2plaintext(feedback) if feedback else None)
        result = super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
        # sudo only to reach the commercial partner of a contact the user may not read
        partners = (
            self.env["res.partner"]
            .sudo()
            .browse(partner_ids)
            .exists()
            .commercial_partner_id.sudo(False)
        )
        if partners:
            # sudo: Odoo lets assignees mark done activities on records they
            # cannot edit (see mail.activity._action_done), and the follow-up
            # plan is a VIP users' field; the date of this follow-up must be
            # recorded all the same, and is the only field written here.
            partners.sudo().write({"vip_last_followup_date": fields.Date.context_today(self)})
        return result
