"""Follow-up plan of VIP customers: the follow-up cadences.

Follow-ups are key moments: each cadence is a ``vip.moment.rule`` of trigger
``cadence`` (a tier may have several: a phone call and an on-site visit every
quarter), evaluated by the key-moment engine each night (see
``vip_moment_engine_cadence.py``). Marking a VIP follow-up task done records
the follow-up (``vip_last_followup_date``, see ``mail.activity._action_done``)
and so moves the next one. ``vip_next_followup_date`` is the customer's next
cadence date: the earliest due date of their open follow-up tasks, else the
next contact of their cadences.
"""

from collections import defaultdict

from odoo import api, models


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
    # Computes
    # ------------------------------------------------------------------
    @api.depends(
        "vip_tier_id",
        "vip_tier_since",
        "vip_last_followup_date",
        "commercial_partner_id",
    )
    def _compute_vip_next_followup_date(self):
        """The next cadence date, for the whole batch in one query. The
        cadence rules and their key moments recompute it when they change
        (``vip_moment_rule_cadence.py``); the program company, written raw by
        the tier engine, moves with the tier."""
        planned = self.filtered(
            lambda p: p.id and p.vip_tier_id and p.vip_company_id and p.commercial_partner_id == p
        )
        dates = self.env["vip.moment.engine"]._cadence_next_dates(planned)
        for partner in self:
            partner.vip_next_followup_date = dates.get(partner.id, False) if partner.id else False
