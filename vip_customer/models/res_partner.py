from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import format_date

from ..tools.vip_rules import BIRTHDAY_MIN, birthday_problem

CHANNELS = [
    ("phone", "Phone"),
    ("email", "Email"),
    ("sms", "SMS"),
    ("wechat", "WeChat"),
    ("visit", "On-site visit"),
]
CONTACT_TIMES = [
    ("morning", "Morning"),
    ("afternoon", "Afternoon"),
    ("evening", "Evening"),
    ("weekend", "Weekend"),
    ("any", "Any time"),
]
CHURN_LEVELS = [("low", "Low"), ("medium", "Medium"), ("high", "High")]

# The tier outcome and the engine's metrics: the tier engine writes them as
# superuser after its own checks; by hand only VIP managers may set them, in
# create() and write() alike, whatever a view shows (see _vip_check_owned_fields).
MANAGER_FIELDS = frozenset(
    {
        "vip_tier_id",
        "vip_tier_since",
        "vip_company_id",
        "vip_pending_tier_id",
        "vip_downgrade_date",
        "vip_locked",
        "vip_lock_reason",
        "vip_lock_until",
    }
)
ENGINE_FIELDS = frozenset(
    {
        "vip_spend",
        "vip_purchase_count",
        "vip_avg_purchase",
        "vip_first_purchase_date",
        "vip_last_purchase_date",
        "vip_prev_spend",
        "vip_prev_purchase_count",
        "vip_churn_score",
        "vip_churn_recency_score",
        "vip_churn_frequency_score",
        "vip_churn_spend_score",
        "vip_churn_signal_score",
        "vip_churn_signal_note",
        "vip_churn_level",
        "vip_churn_high_since",
        "vip_followup_activity_date",
    }
)
PROTECTED_FIELDS = MANAGER_FIELDS | ENGINE_FIELDS
# Stored computes derived by the server from other fields: nobody writes them
# by hand (the follow-up scheduler reads the date, the care messages the month).
DERIVED_FIELDS = frozenset({"vip_next_followup_date", "vip_birthday_month"})

# Field groups: the customer's own portal user and staff outside the VIP
# program read the tier only; profile preferences are for employees; the
# analytics, the follow-up plan and confidential notes for VIP users.
VIP_USER = "vip_customer.group_vip_user"
EMPLOYEE = "base.group_user"


class TierChangeOrigin:
    """Why a tier is set by hand (``reason`` of vip.tier.history, and a note).

    Passed in the context key ``vip_tier_origin`` by the server-side writers
    (the import, the tier-change wizard). An RPC caller's context holds JSON
    values only and cannot forge one: a tier written over RPC is logged as
    *manual*, by the calling user.
    """

    __slots__ = ("note", "reason")

    def __init__(self, reason, note=False):
        self.reason = reason
        self.note = note


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "vip.bounds.mixin"]

    # ------------------------------------------------------------------
    # Tier
    # ------------------------------------------------------------------
    vip_tier_id = fields.Many2one(
        "vip.tier",
        string="VIP Tier",
        index=True,
        copy=False,
        ondelete="restrict",
        help="Set by the tier rules every night; contacts show their company's tier.",
    )
    vip_tier_level = fields.Integer(related="vip_tier_id.level", string="VIP Level")
    vip_tier_color = fields.Integer(related="vip_tier_id.color")
    vip_company_id = fields.Many2one(
        "res.company",
        string="VIP Program Company",
        copy=False,
        index="btree_not_null",
        help="Company whose VIP program evaluates this customer.",
    )
    vip_currency_id = fields.Many2one("res.currency", compute="_compute_vip_currency_id")
    vip_tier_since = fields.Date(string="Tier Since", copy=False, groups=VIP_USER)
    vip_last_review_date = fields.Date(
        string="Last Review",
        related="vip_company_id.vip_recompute_date",
        help="Last nightly run of the tier rules.",
        groups=VIP_USER,
    )
    vip_next_review_date = fields.Date(
        string="Next Review",
        compute="_compute_vip_next_review_date",
        groups=VIP_USER,
    )
    vip_pending_tier_id = fields.Many2one(
        "vip.tier",
        string="Pending Tier",
        copy=False,
        ondelete="set null",
        help="Tier the customer moves down to when the grace period ends.",
        groups=VIP_USER,
    )
    vip_downgrade_date = fields.Date(
        string="Downgrade On",
        copy=False,
        help="The customer is below the retention threshold: the downgrade takes effect on "
        "this date unless spending recovers.",
        groups=VIP_USER,
    )
    vip_downgrade_message = fields.Char(
        string="Pending Downgrade",
        compute="_compute_vip_downgrade_message",
        groups=VIP_USER,
    )
    vip_locked = fields.Boolean(
        string="Tier Locked",
        copy=False,
        help="The tier rules leave a locked customer's tier alone until the lock ends.",
        groups=VIP_USER,
    )
    vip_lock_reason = fields.Char(string="Lock Reason", copy=False, groups=VIP_USER)
    vip_lock_until = fields.Date(string="Locked Until", copy=False, groups=VIP_USER)
    vip_account_manager_id = fields.Many2one(
        "res.users",
        string="Account Manager",
        compute="_compute_vip_account_manager_id",
        store=True,
        readonly=False,
        index="btree_not_null",
        domain=[("share", "=", False)],
        help="Dedicated account manager; defaults to the salesperson.",
    )
    vip_tier_history_ids = fields.One2many(
        "vip.tier.history", "partner_id", string="Tier History", groups=VIP_USER
    )
    vip_tier_history_count = fields.Integer(
        compute="_compute_vip_tier_history_count", groups=VIP_USER
    )

    # ------------------------------------------------------------------
    # Metrics (written set-based by the tier engine, see vip.tier.engine)
    # ------------------------------------------------------------------
    vip_spend = fields.Monetary(
        string="Spend (window)",
        currency_field="vip_currency_id",
        copy=False,
        groups=VIP_USER,
    )
    vip_purchase_count = fields.Integer(string="Purchases (window)", copy=False, groups=VIP_USER)
    vip_avg_purchase = fields.Monetary(
        string="Average Purchase",
        currency_field="vip_currency_id",
        copy=False,
        groups=VIP_USER,
    )
    vip_first_purchase_date = fields.Date(
        string="First Purchase (window)", copy=False, groups=VIP_USER
    )
    vip_last_purchase_date = fields.Date(string="Last Purchase", copy=False, groups=VIP_USER)
    vip_prev_spend = fields.Monetary(
        string="Spend (previous window)",
        currency_field="vip_currency_id",
        copy=False,
        groups=VIP_USER,
    )
    vip_prev_purchase_count = fields.Integer(
        string="Purchases (previous window)", copy=False, groups=VIP_USER
    )

    # ------------------------------------------------------------------
    # Profile and preferences
    # ------------------------------------------------------------------
    vip_preferred_channel = fields.Selection(CHANNELS, string="Preferred Channel", groups=EMPLOYEE)
    vip_preferred_contact_time = fields.Selection(
        CONTACT_TIMES, string="Preferred Contact Time", groups=EMPLOYEE
    )
    vip_interest_tag_ids = fields.Many2many("vip.interest.tag", string="Interests", groups=EMPLOYEE)
    vip_gift_preference = fields.Char(string="Gift Preferences", groups=EMPLOYEE)
    # copy=False: a duplicate is another person, and a user without the VIP
    # group duplicating a contact cannot read these (copy reads what it copies)
    vip_diet_preference = fields.Char(string="Diet Preferences", copy=False, groups=VIP_USER)
    vip_other_preference = fields.Text(string="Other Preferences", groups=EMPLOYEE)
    vip_special_needs = fields.Text(string="Special Needs", copy=False, groups=VIP_USER)
    vip_sensitive_note = fields.Text(
        string="Confidential Notes",
        copy=False,
        groups=VIP_USER,
        help="Visible to VIP users only.",
    )
    vip_birthday = fields.Date(string="Birthday", groups=EMPLOYEE)
    vip_birthday_month = fields.Integer(
        compute="_compute_vip_birthday_month", store=True, groups=EMPLOYEE
    )
    vip_anniversary_date = fields.Date(
        string="Customer Anniversary",
        help="Date the relationship started, celebrated every year.",
        groups=EMPLOYEE,
    )
    vip_care_opt_out = fields.Boolean(
        string="No Care Messages", help="Do not send birthday and holiday greetings."
    )

    # ------------------------------------------------------------------
    # Follow-up plan
    # ------------------------------------------------------------------
    vip_last_followup_date = fields.Date(string="Last Follow-up", copy=False, groups=VIP_USER)
    vip_next_followup_date = fields.Date(
        string="Next Follow-up",
        compute="_compute_vip_next_followup_date",
        store=True,
        index="btree_not_null",
        groups=VIP_USER,
    )
    vip_followup_activity_date = fields.Date(
        copy=False,
        help="Due date the last follow-up activity was scheduled for.",
        groups=VIP_USER,
    )

    # ------------------------------------------------------------------
    # Churn risk (components stored so users can see why)
    # ------------------------------------------------------------------
    vip_churn_score = fields.Integer(
        string="Churn Risk", copy=False, aggregator="avg", groups=VIP_USER
    )
    vip_churn_recency_score = fields.Integer(
        string="Recency Risk", copy=False, aggregator="avg", groups=VIP_USER
    )
    vip_churn_frequency_score = fields.Integer(
        string="Frequency Drop",
        copy=False,
        aggregator="avg",
        groups=VIP_USER,
    )
    vip_churn_spend_score = fields.Integer(
        string="Spend Drop", copy=False, aggregator="avg", groups=VIP_USER
    )
    vip_churn_signal_score = fields.Integer(
        string="Other Signals", copy=False, aggregator="avg", groups=VIP_USER
    )
    vip_churn_signal_note = fields.Char(string="Signals", copy=False, groups=VIP_USER)
    vip_churn_level = fields.Selection(
        CHURN_LEVELS, string="Churn Level", copy=False, groups=VIP_USER
    )
    vip_churn_high_since = fields.Date(string="At Risk Since", copy=False, groups=VIP_USER)

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------
    @api.depends("vip_company_id")
    @api.depends_context("company")
    def _compute_vip_currency_id(self):
        for partner in self:
            partner.vip_currency_id = (partner.vip_company_id or self.env.company).currency_id

    @api.depends("vip_downgrade_date", "vip_tier_id")
    def _compute_vip_next_review_date(self):
        cron = self.env.ref("vip_customer.ir_cron_vip_recompute_tiers", raise_if_not_found=False)
        # sudo: crons are admin records; only their next run date is shown
        next_run = cron.sudo().nextcall.date() if cron and cron.sudo().active else False
        for partner in self:
            partner.vip_next_review_date = partner.vip_downgrade_date or next_run

    @api.depends("vip_downgrade_date", "vip_pending_tier_id")
    @api.depends_context("lang")
    def _compute_vip_downgrade_message(self):
        for partner in self:
            if not partner.vip_downgrade_date:
                partner.vip_downgrade_message = False
                continue
            date = format_date(self.env, partner.vip_downgrade_date)
            if partner.vip_pending_tier_id:
                partner.vip_downgrade_message = self.env._(
                    "Downgrade to %(tier)s on %(date)s unless spending recovers.",
                    tier=partner.vip_pending_tier_id.display_name,
                    date=date,
                )
            else:
                partner.vip_downgrade_message = self.env._(
                    "Leaves VIP on %(date)s unless spending recovers.", date=date
                )

    @api.depends("user_id")
    def _compute_vip_account_manager_id(self):
        # only a salesperson who may open the VIP page becomes account manager
        # (see _check_vip_account_manager_id)
        for partner in self:
            user = partner.user_id
            if (
                not partner.vip_account_manager_id
                and user
                and user._has_group("vip_customer.group_vip_user")
            ):
                partner.vip_account_manager_id = user

    def _compute_vip_tier_history_count(self):
        counts = dict(
            self.env["vip.tier.history"]._read_group(
                [("partner_id", "in", self.commercial_partner_id.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.vip_tier_history_count = counts.get(partner.commercial_partner_id, 0)

    @api.depends("vip_birthday")
    def _compute_vip_birthday_month(self):
        for partner in self:
            partner.vip_birthday_month = partner.vip_birthday.month if partner.vip_birthday else 0

    @api.depends("vip_tier_id.followup_interval_days", "vip_last_followup_date", "vip_tier_since")
    def _compute_vip_next_followup_date(self):
        for partner in self:
            interval = partner.vip_tier_id.followup_interval_days
            start = partner.vip_last_followup_date or partner.vip_tier_since
            if interval and start and partner.commercial_partner_id == partner:
                partner.vip_next_followup_date = fields.Date.add(start, days=interval)
            else:
                partner.vip_next_followup_date = False

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
        History = self.env["vip.tier.history"].sudo()
        for partner in partners:
            history = History.search(
                [("partner_id", "=", partner.id)], order="date desc, id desc", limit=1
            )
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
            old_tier = partner.vip_tier_id
            partner.with_context(vip_engine=True).write(vals)
            # the company's tier pricelist goes with the company's tier
            self.env["vip.tier.engine"]._apply_tier_pricelists(partner, {partner.id: old_tier})
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

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_vip_recompute(self):
        """Re-evaluate these customers now (the button on the VIP page)."""
        if not self.env.user.has_group("vip_customer.group_vip_user"):
            raise AccessError(self.env._("Only VIP users can re-evaluate customers."))
        self.env["vip.tier.engine"]._recompute_partners(self.commercial_partner_id)
        return True

    @api.model
    def action_vip_recompute_all(self):
        """Re-evaluate every customer of the current companies now."""
        if not self.env.user.has_group("vip_customer.group_vip_manager"):
            raise AccessError(self.env._("Only VIP managers can re-evaluate all customers."))
        engine = self.env["vip.tier.engine"]
        stats = {"changed": 0, "evaluated": 0}
        for company in self.env.companies:
            result = engine._recompute(company, full=True)
            stats["changed"] += result["changed"]
            stats["evaluated"] += result["evaluated"]
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": self.env._("VIP tiers re-evaluated"),
                "message": self.env._(
                    "%(evaluated)s customers evaluated, %(changed)s tier changes.", **stats
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_vip_view_tier_history(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_customer.vip_tier_history_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"create": False}
        return action

    def action_vip_change_tier(self):
        self.ensure_one()
        self._check_vip_manager()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Change VIP Tier"),
            "res_model": "vip.tier.change",
            "view_mode": "form",
            "target": "new",
            "context": {"default_partner_ids": self.commercial_partner_id.ids},
        }

    def action_vip_unlock(self):
        self._check_vip_manager()
        self.write({"vip_locked": False, "vip_lock_reason": False, "vip_lock_until": False})
        return True
