"""Who may write the VIP fields of a customer, and what a tier set by hand does.

The model is the only guard: the tier outcome and the engine's metrics
(``PROTECTED_FIELDS``) are refused in create() and write() to everyone but VIP
managers (the engine writes them as superuser), server-derived fields
(``DERIVED_FIELDS``) to everyone; a tier set by hand is logged in the tier
history and the chatter. The tier reaches a company's contacts by one path:
Odoo's commercial-field sync (``_commercial_fields``), for the engine's
writes and for those by hand alike.
"""

from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import format_date

from ..tools.vip_rules import BIRTHDAY_MIN, birthday_problem
from .res_partner import DERIVED_FIELDS, PROTECTED_FIELDS, TierChangeOrigin


class ResPartner(models.Model):
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    # ------------------------------------------------------------------
    # Values
    # ------------------------------------------------------------------
    @api.constrains("vip_birthday")
    def _check_vip_birthday(self):
        today = fields.Date.context_today(self)
        for partner in self:
            problem = birthday_problem(partner.vip_birthday, today)
            if problem == "future":
                raise ValidationError(
                    self.env._(
                        "%(customer)s: the birthday %(date)s is in the future.",
                        customer=partner.display_name,
                        date=format_date(self.env, partner.vip_birthday),
                    )
                )
            if problem == "too_old":
                raise ValidationError(
                    self.env._(
                        "%(customer)s: the birthday %(date)s is before %(min)s.",
                        customer=partner.display_name,
                        date=format_date(self.env, partner.vip_birthday),
                        min=format_date(self.env, BIRTHDAY_MIN),
                    )
                )

    @api.constrains("vip_anniversary_date")
    def _check_vip_anniversary_date(self):
        # the day the relationship started: a past date, bounded like birthdays
        today = fields.Date.context_today(self)
        for partner in self:
            problem = birthday_problem(partner.vip_anniversary_date, today)
            if problem:
                raise ValidationError(
                    self.env._(
                        "%(field)s of %(customer)s: %(date)s must be between %(min)s and today.",
                        field=self._fields["vip_anniversary_date"]._description_string(self.env),
                        customer=partner.display_name,
                        date=format_date(self.env, partner.vip_anniversary_date),
                        min=format_date(self.env, BIRTHDAY_MIN),
                    )
                )

    @api.constrains("vip_account_manager_id")
    def _check_vip_account_manager_id(self):
        """An account manager works on the customer's VIP page, which only VIP
        users see: the assignment requires the VIP User group."""
        for partner in self:
            user = partner.vip_account_manager_id
            if user and not user._has_group("vip_customer.group_vip_user"):
                raise ValidationError(
                    self.env._(
                        "%(user)s cannot be the account manager of %(customer)s: "
                        "account managers need the VIP User access to see the VIP page "
                        "of their customers. Give them that access first.",
                        user=user.name,
                        customer=partner.display_name,
                    )
                )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    def _commercial_fields(self):
        # contacts show their company's tier and account manager
        return super()._commercial_fields() + ["vip_tier_id", "vip_account_manager_id"]

    @api.model
    def fields_get(self, allfields=None, attributes=None):
        result = super().fields_get(allfields, attributes)
        if self.env.context.get("vip_customer_merge"):
            # the contact merge copies the fields it is given as the merging user:
            # not these ones (see base.partner.merge.automatic.wizard._update_values)
            for fname in PROTECTED_FIELDS:
                result.pop(fname, None)
        return result

    def _vip_is_engine_write(self):
        # The tier engine writes as superuser after its own checks; the context
        # flag alone (which RPC callers control) grants nothing.
        return self.env.su and self.env.context.get("vip_engine")

    def _vip_check_owned_fields(self, fnames):
        """Refuse the tier outcome and the engine's metrics (``PROTECTED_FIELDS``)
        to everyone but VIP managers. The superuser passes: the tier engine and
        the crons run as such, after their own checks, and an RPC caller can
        never become it."""
        owned = PROTECTED_FIELDS & set(fnames)
        if not owned or self.env.su:
            return
        labels = ", ".join(
            sorted(self._fields[fname]._description_string(self.env) for fname in owned)
        )
        if not self.env.user.has_group("vip_customer.group_vip_manager"):
            raise AccessError(
                self.env._(
                    "Only VIP managers can set %(fields)s: the tier rules compute them.",
                    fields=labels,
                )
            )
        # a manager manages their own companies' programs only: a customer shared
        # between companies is evaluated by its program company (vip_company_id)
        # sudo: the program company is a VIP field; only its id is compared
        foreign = self.sudo().vip_company_id - self.env.user.company_ids
        if foreign:
            raise AccessError(
                self.env._(
                    "%(fields)s: only VIP managers of %(company)s can set them; "
                    "the customer is in that company's VIP program.",
                    fields=labels,
                    company=foreign[0].display_name,
                )
            )

    def _vip_check_values(self, vals_list):
        """What no user writes, whatever their group: the server-derived fields
        (``DERIVED_FIELDS``), and a lock that has already ended. The superuser
        passes (the engine clears ended locks, recomputes write derived fields)."""
        if self.env.su:
            return
        derived = DERIVED_FIELDS & {fname for vals in vals_list for fname in vals}
        if derived:
            raise AccessError(
                self.env._(
                    "%(fields)s: computed by the server, it cannot be set by hand.",
                    fields=", ".join(
                        sorted(self._fields[f]._description_string(self.env) for f in derived)
                    ),
                )
            )
        today = fields.Date.context_today(self)
        for vals in vals_list:
            lock_until = vals.get("vip_lock_until")
            if lock_until and fields.Date.to_date(lock_until) < today:
                raise ValidationError(
                    self.env._(
                        "%(field)s: the lock end date %(date)s is in the past.",
                        field=self._fields["vip_lock_until"]._description_string(self.env),
                        date=format_date(self.env, fields.Date.to_date(lock_until)),
                    )
                )

    def _vip_get_tier_origin(self):
        """``(reason, note)`` of a tier set by hand: from a server-side writer's
        ``TierChangeOrigin``, else *manual* without a note (see TierChangeOrigin)."""
        origin = self.env.context.get("vip_tier_origin")
        if isinstance(origin, TierChangeOrigin):
            return origin.reason, origin.note
        return "manual", False

    @api.model_create_multi
    def create(self, vals_list):
        self._vip_check_values(vals_list)
        self._vip_check_owned_fields(
            {fname for vals in vals_list for fname, value in vals.items() if value}
        )
        today = fields.Date.context_today(self)
        for vals in vals_list:
            if vals.get("vip_tier_id") and not vals.get("parent_id"):
                tier = self.env["vip.tier"].browse(vals["vip_tier_id"])
                vals.setdefault("vip_tier_since", today)
                vals.setdefault("vip_company_id", tier.company_id.id)
        if not self.env.su:
            # a manager sets the program of their own companies only (see
            # _vip_check_owned_fields)
            program = self.env["res.company"].browse(
                {vals["vip_company_id"] for vals in vals_list if vals.get("vip_company_id")}
            )
            foreign = program - self.env.user.company_ids
            if foreign:
                raise AccessError(
                    self.env._(
                        "%(fields)s: only VIP managers of %(company)s can set them; "
                        "the customer is in that company's VIP program.",
                        fields=self._fields["vip_company_id"]._description_string(self.env),
                        company=foreign[0].sudo().display_name,
                    )
                )
        partners = super().create(vals_list)
        if not self._vip_is_engine_write():
            tiered = partners.filtered(lambda p: p.vip_tier_id and p.commercial_partner_id == p)
            reason, note = self._vip_get_tier_origin()
            self.env["vip.tier.engine"]._log_tier_changes(
                [
                    {
                        "partner": partner,
                        "old_tier": self.env["vip.tier"],
                        "new_tier": partner.vip_tier_id,
                        "reason": reason,
                        "note": note,
                    }
                    for partner in tiered
                ]
            )
        return partners

    def write(self, vals):
        self._vip_check_values([vals])
        # contacts that may become their own commercial partner (detached from
        # their company, or made a company): they still hold the company's tier
        contacts = (
            self.filtered(lambda p: p.commercial_partner_id != p)
            if {"parent_id", "is_company"} & vals.keys()
            else self.browse()
        )
        manual_tier = False
        if not self._vip_is_engine_write() and PROTECTED_FIELDS & vals.keys():
            # Odoo's commercial-field sync copies the company's tier onto its
            # contacts, for whoever edits them: that copy alone is allowed (not in
            # a write that also moves the contact: judged on the state before it).
            tier_sync = (
                "vip_tier_id" in vals
                and not ({"parent_id", "is_company"} & vals.keys())
                and self._vip_tier_write_is_sync(vals["vip_tier_id"])
            )
            self._vip_check_owned_fields(
                vals.keys() - {"vip_tier_id"} if tier_sync else vals.keys()
            )
            manual_tier = "vip_tier_id" in vals and not tier_sync
        if not manual_tier:
            result = super().write(vals)
        else:
            # A tier set by hand (form, wizard, import, RPC): written like any
            # field and logged in the tier history and the chatter.
            new_tier = self.env["vip.tier"].browse(vals["vip_tier_id"])
            changed = self.filtered(
                lambda p: p.commercial_partner_id == p and p.vip_tier_id != new_tier
            )
            old_tiers = {partner.id: partner.vip_tier_id for partner in changed}
            result = True
            if self - changed:
                result = super(ResPartner, self - changed).write(vals)
            if changed:
                changed_vals = {
                    "vip_tier_since": fields.Date.context_today(self) if new_tier else False,
                    "vip_pending_tier_id": False,
                    "vip_downgrade_date": False,
                    **({"vip_company_id": new_tier.company_id.id} if new_tier else {}),
                    **vals,
                }
                result = super(ResPartner, changed).write(changed_vals) and result
                changed._vip_log_manual_tier(old_tiers, new_tier)
        detached = contacts.filtered(lambda p: p.commercial_partner_id == p)
        if detached:
            detached._vip_reset_detached()
        return result

    def _vip_log_manual_tier(self, old_tiers, new_tier):
        engine = self.env["vip.tier.engine"]
        reason, note = self._vip_get_tier_origin()
        engine._log_tier_changes(
            [
                {
                    "partner": partner,
                    "old_tier": old_tiers[partner.id],
                    "new_tier": new_tier,
                    "reason": reason,
                    "note": note,
                }
                for partner in self
            ]
        )
        engine._apply_tier_pricelists(self, old_tiers)

    def _vip_reset_detached(self):
        """A contact became its own commercial partner: the tier it showed was its
        company's (Odoo's commercial sync), not one it earned. Back to its own
        tier: the last one its tier history gave it, else none; then the tier
        engine evaluates it like any customer (grace and retention as usual)."""
        # sudo: the server decides, whoever detached the contact
        partners = self.sudo()
        # one read of the histories, newest first per partner (not a search per contact)
        last = {}
        for history in self.env["vip.tier.history"].sudo().search(
            [("partner_id", "in", partners.ids)], order="partner_id, date desc, id desc"
        ):
            last.setdefault(history.partner_id.id, history)
        groups = defaultdict(partners.browse)
        for partner in partners:
            history = last.get(partner.id)
            own_tier = history.new_tier_id if history else self.env["vip.tier"]
            if partner.vip_tier_id == own_tier:
                continue
            vals = {"vip_tier_id": own_tier.id}
            if own_tier:
                vals.update(
                    vip_company_id=history.company_id.id,
                    vip_tier_since=partner.vip_tier_since or history.date,
                )
            else:
                vals.update(
                    vip_tier_since=False, vip_pending_tier_id=False, vip_downgrade_date=False
                )
            groups[tuple(sorted(vals.items()))] |= partner
        old_tiers = {partner.id: partner.vip_tier_id for partner in partners}
        for vals, group in groups.items():
            group.with_context(vip_engine=True).write(dict(vals))
        changed = self.env["res.partner"].sudo().union(*groups.values())
        # the company's tier pricelist goes with the company's tier
        self.env["vip.tier.engine"]._apply_tier_pricelists(changed, old_tiers)
        self.env["vip.tier.engine"]._recompute_partners(partners)

    def _vip_tier_write_is_sync(self, tier_id):
        """True when writing ``tier_id`` only copies each commercial partner's tier
        onto its contacts (Odoo's commercial-field sync), which anyone may do."""
        return all(
            partner.commercial_partner_id != partner
            and partner.commercial_partner_id.vip_tier_id.id == (tier_id or False)
            for partner in self
        )

    def _check_vip_manager(self):
        if not self.env.user.has_group("vip_customer.group_vip_manager"):
            raise AccessError(
                self.env._("Only VIP managers can change a customer's tier or lock it.")
            )
