"""Follow-up plan of VIP customers.

Every tier has a cadence (``vip.tier.followup_interval_days``); a customer's
next follow-up is the last one (or the day they entered the tier) plus that
cadence. A nightly cron schedules one follow-up activity per due date for the
account manager, ``vip_company_id.vip_followup_lead_days`` ahead; marking the
activity done records the follow-up (see ``mail.activity._action_done``) and
so moves the next one.
"""

import datetime
import logging
from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.osv import expression
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

FOLLOWUP_BATCH_SIZE = 1000


class ResPartner(models.Model):
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    # ------------------------------------------------------------------
    # Hooks
    # ------------------------------------------------------------------
    def _vip_get_responsible_user(self):
        """Hook: the user who acts for this customer (follow-ups, gifts).

        The account manager, else the salesperson; archived and portal users
        do not count. Returns an empty recordset when nobody is set: such
        customers are skipped and show under "Needs Account Manager".
        """
        self.ensure_one()
        # a contact of a company is cared for by the company's account manager
        commercial = self.commercial_partner_id
        candidates = commercial.vip_account_manager_id | commercial.user_id | self.user_id
        return candidates.filtered(lambda user: user.active and not user.share)[:1]

    def _vip_get_note_lang(self):
        """Hook: the language of the notes written on this customer's chatter
        (tier changes). Staff read them: the account manager's language, else
        the one of the company running the VIP program."""
        self.ensure_one()
        commercial = self.commercial_partner_id
        company = commercial.vip_company_id or self.env.company
        return (
            (commercial.vip_account_manager_id or commercial.user_id).lang
            or company.partner_id.lang
            or self.env.lang
            or "en_US"
        )

    def _vip_get_followup_summary(self):
        """Hook: the activity summary, in the language of the current env."""
        self.ensure_one()
        summaries = {
            "phone": self.env._("Follow-up by phone"),
            "visit": self.env._("Follow-up visit"),
            "email": self.env._("Follow-up by email"),
        }
        return summaries.get(self.vip_tier_id.followup_channel) or self.env._("Follow-up")

    def _vip_get_followup_note(self):
        """Hook: the activity note (tier, cadence, contact preferences)."""
        self.ensure_one()
        lines = [
            self.env._(
                "VIP tier %(tier)s: follow up every %(days)s days.",
                tier=self.vip_tier_id.name,
                days=self.vip_tier_id.followup_interval_days,
            )
        ]
        fields_ = self._fields
        if self.vip_preferred_channel:
            channels = dict(fields_["vip_preferred_channel"]._description_selection(self.env))
            lines.append(
                self.env._(
                    "Preferred channel: %(channel)s.",
                    channel=channels[self.vip_preferred_channel],
                )
            )
        if self.vip_preferred_contact_time:
            times = dict(fields_["vip_preferred_contact_time"]._description_selection(self.env))
            lines.append(
                self.env._(
                    "Preferred time: %(time)s.", time=times[self.vip_preferred_contact_time]
                )
            )
        return Markup("").join(Markup("<p>%s</p>") % line for line in lines)

    def _vip_prepare_followup_activity_vals(self, activity_type, user):
        self.ensure_one()
        partner = self.with_context(lang=user.lang or self.env.lang)
        return {
            "activity_type_id": activity_type.id,
            "res_model_id": self.env["ir.model"]._get_id("res.partner"),
            "res_id": self.id,
            "user_id": user.id,
            "date_deadline": self.vip_next_followup_date,
            "summary": partner._vip_get_followup_summary(),
            "note": partner._vip_get_followup_note(),
            "automated": True,
        }

    def _vip_get_activity_types(self):
        """Hook: the activity types the VIP programme plans for the account
        manager (they follow the customer when the account manager changes)."""
        return (
            self.env["mail.activity.type"]
            .browse(
                [
                    self.env["ir.model.data"]._xmlid_to_res_id(xmlid, raise_if_not_found=False)
                    for xmlid in (
                        "vip_customer.mail_activity_type_vip_followup",
                        "vip_customer.mail_activity_type_vip_retention",
                        "vip_customer.mail_activity_type_vip_gift",
                    )
                ]
            )
            .exists()
        )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    def write(self, vals):
        if "vip_account_manager_id" not in vals and "user_id" not in vals:
            return super().write(vals)
        before = {partner: partner._vip_get_responsible_user() for partner in self}
        result = super().write(vals)
        self._vip_reassign_activities(before)
        return result

    def _vip_reassign_activities(self, before):
        """Move the open VIP activities (follow-ups, retention calls, gifts)
        of customers whose responsible user changed from the previous one to
        the new one. Activities someone reassigned by hand stay where they are.

        :param before: ``{partner: responsible user before the change}``
        """
        moves = defaultdict(list)
        for partner, old_user in before.items():
            new_user = partner._vip_get_responsible_user()
            if old_user and new_user and old_user != new_user:
                moves[(old_user, new_user)].append(partner.id)
        activity_types = self._vip_get_activity_types() if moves else None
        for (old_user, new_user), partner_ids in moves.items():
            # sudo: activities of other users, moved by the rule above only
            activities = (
                self.env["mail.activity"]
                .sudo()
                .search(
                    [
                        ("res_model", "=", "res.partner"),
                        ("res_id", "in", partner_ids),
                        ("activity_type_id", "in", activity_types.ids),
                        ("user_id", "=", old_user.id),
                    ]
                )
            )
            activities.with_context(mail_activity_quick_update=True).write({"user_id": new_user.id})

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    def _vip_schedule_followups(self):
        """Give each of these customers one follow-up activity for their next
        due date, assigned to their account manager (else salesperson).

        A customer whose follow-up activity is still open (a due date that moved
        because the tier changed or a follow-up was logged by hand) gets that
        activity moved to the new date instead of a second one. Customers with
        nobody to assign are skipped and logged. ``vip_followup_activity_date``
        remembers the due date planned, so a date is never planned twice.

        :return: the activities created
        """
        activity_type = self.env.ref("vip_customer.mail_activity_type_vip_followup")
        partners = self.filtered(
            lambda p: (
                p.vip_next_followup_date
                and p.vip_followup_activity_date != p.vip_next_followup_date
            )
        )
        users = {partner: partner._vip_get_responsible_user() for partner in partners}
        unassigned = partners.filtered(lambda p: not users[p])
        if unassigned:
            _logger.info(
                "VIP follow-ups: %s customers have no account manager nor salesperson, "
                "skipped (ids %s)",
                len(unassigned),
                unassigned.ids[:20],
            )
        partners -= unassigned
        if not partners:
            return self.env["mail.activity"]

        open_activities = self.env["mail.activity"].search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "in", partners.ids),
                ("activity_type_id", "=", activity_type.id),
            ]
        )
        open_by_partner = {activity.res_id: activity for activity in open_activities}
        to_move = partners.filtered(lambda p: p.id in open_by_partner)
        for date, group in to_move.grouped("vip_next_followup_date").items():
            self.env["mail.activity"].browse(
                [open_by_partner[partner.id].id for partner in group]
            ).write({"date_deadline": date})

        to_create = partners - to_move
        # Assignees see the activities in their activity menu; one assignment
        # e-mail per customer would flood them on the first nightly run.
        Activity = self.env["mail.activity"].with_context(mail_activity_quick_update=True)
        activities = Activity.create(
            [
                partner._vip_prepare_followup_activity_vals(activity_type, users[partner])
                for partner in to_create
            ]
        )
        for date, group in partners.grouped("vip_next_followup_date").items():
            group.write({"vip_followup_activity_date": date})
        return activities

    @api.model
    def _vip_followups_to_schedule(self, today, limit=None):
        """Commercial partners whose follow-up is due (``_vip_followup_due_domain``)
        by today plus their company's lead time, whose due date has no
        follow-up activity yet and who have someone to assign it to, the
        soonest first (at most ``limit``)."""
        # one domain per VIP program company, each with its own lead time
        # (customers without a program company: the current company's)
        company_domains = []
        groups = self._read_group([("vip_next_followup_date", "!=", False)], ["vip_company_id"])
        for (company,) in groups:
            lead_days = (company or self.env.company).vip_followup_lead_days
            company_domains.append(
                [
                    ("vip_company_id", "=", company.id),
                    *self._vip_followup_due_domain(today + datetime.timedelta(days=lead_days)),
                ]
            )
        if not company_domains:
            return self.browse()
        domain = expression.AND(
            [
                expression.OR(company_domains),
                ["|", ("is_company", "=", True), ("parent_id", "=", False)],
                # someone _vip_get_responsible_user() can assign: an active internal user
                [
                    "|",
                    "&",
                    ("vip_account_manager_id.active", "=", True),
                    ("vip_account_manager_id.share", "=", False),
                    "&",
                    ("user_id.active", "=", True),
                    ("user_id.share", "=", False),
                ],
            ]
        )
        query = self._search(domain, order="vip_next_followup_date, id", limit=limit)
        # "never twice for the same due date": a comparison of two columns,
        # which a domain cannot express
        query.add_where(
            SQL(
                "(%s IS DISTINCT FROM %s)",
                self._field_to_sql(self._table, "vip_followup_activity_date", query),
                self._field_to_sql(self._table, "vip_next_followup_date", query),
            )
        )
        return self.browse(query)

    # ------------------------------------------------------------------
    # Cron
    # ------------------------------------------------------------------
    @api.model
    def _cron_vip_schedule_followups(self, batch_size=FOLLOWUP_BATCH_SIZE):
        """Nightly: schedule the next batch of follow-ups falling due within the
        lead time, report the progress and return; Odoo's cron runner commits
        and calls again while some remain. The customers planned drop out of
        the selection (their due date has its activity), so each call takes
        the next ones.
        """
        today = fields.Date.context_today(self)
        batch = self._vip_followups_to_schedule(today, limit=batch_size)
        total = len(batch)
        if total == batch_size:
            total = len(self._vip_followups_to_schedule(today))
        planned = batch._vip_schedule_followups() if batch else self.env["mail.activity"]
        # customers an override of _vip_get_responsible_user() leaves without
        # anyone stay selected: stop rather than select them again and again
        skipped = batch.filtered(
            lambda p: p.vip_followup_activity_date != p.vip_next_followup_date
        )
        remaining = 0 if skipped else total - len(batch)
        _logger.info(
            "VIP follow-ups: %s customers planned (%s activities), %s remaining",
            len(batch - skipped),
            len(planned),
            remaining,
        )
        self.env["ir.cron"]._notify_progress(done=len(batch), remaining=remaining)
