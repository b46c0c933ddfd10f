from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.osv import expression
from odoo.tools import format_date

from ..tools.vip_rules import AT_RISK_LEVEL
from .vip_tier_engine import CHURN_COLUMNS

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
        *CHURN_COLUMNS,
    }
)
# Customer value (res_partner_value.py): written by the nightly refresh only,
# with raw SQL on these columns; nobody sets them by hand, managers included.
VALUE_FIELDS = (
    "vip_rfm_recency",
    "vip_rfm_frequency",
    "vip_rfm_monetary",
    "vip_rfm_score",
    "vip_rfm_segment",
    "vip_lifetime_spend",
    "vip_lifetime_purchase_count",
    "vip_customer_since",
    "vip_tenure_years",
    "vip_avg_yearly_spend",
)
PROTECTED_FIELDS = MANAGER_FIELDS | ENGINE_FIELDS | frozenset(VALUE_FIELDS)
# Stored computes derived by the server from other fields, and the customer
# value: nobody writes them by hand (the follow-up cadences set the date,
# the care messages the month).
# The tier engine's next evaluation day too (res_partner_eval.py): changes mark it.
DERIVED_FIELDS = frozenset(
    {
        "vip_next_followup_date",
        "vip_birthday_month",
        "vip_eval_date",
        "vip_eval_mark",
        *VALUE_FIELDS,
    }
)

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
        help="The next night the tier rules look at this customer: the day a purchase leaves "
        "the window, a pending downgrade or a lock ends, or the churn risk can move; a new, "
        "changed or cancelled purchase brings it to the next night.",
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
    # the next date of the customer's follow-up cadences (res_partner_followup.py)
    vip_next_followup_date = fields.Date(
        string="Next Follow-up",
        compute="_compute_vip_next_followup_date",
        store=True,
        index="btree_not_null",
        groups=VIP_USER,
    )
    vip_followup_due = fields.Boolean(
        string="Follow-up Due",
        compute="_compute_vip_followup_due",
        search="_search_vip_followup_due",
        groups=VIP_USER,
        help="The next follow-up falls today or earlier.",
    )
    vip_followup_overdue = fields.Boolean(
        string="Follow-up Overdue",
        compute="_compute_vip_followup_due",
        search="_search_vip_followup_overdue",
        groups=VIP_USER,
        help="The next follow-up fell before today.",
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
    vip_at_risk = fields.Boolean(
        string="At Risk",
        compute="_compute_vip_at_risk",
        search="_search_vip_at_risk",
        groups=VIP_USER,
        help="The churn risk is high.",
    )

    # ------------------------------------------------------------------
    # Definitions: "due follow-up" and "at risk", one domain each, used by
    # the fields below and their searches (the filters), the follow-up cron
    # and the tier engine's risk episodes (AT_RISK_LEVEL)
    # ------------------------------------------------------------------
    @api.model
    def _vip_followup_due_domain(self, on_date=None):
        """Customers whose next follow-up falls on ``on_date`` (default today)
        or earlier. "Follow-up Due" is this domain for today, "Overdue" for
        yesterday."""
        on_date = on_date or fields.Date.context_today(self)
        return [("vip_next_followup_date", "!=", False), ("vip_next_followup_date", "<=", on_date)]

    @api.model
    def _vip_at_risk_domain(self):
        """Customers at risk of leaving: churn level ``AT_RISK_LEVEL``, the
        level whose start opens a risk episode with a retention call."""
        return [("vip_churn_level", "=", AT_RISK_LEVEL)]

    @api.model
    def _vip_search_boolean(self, operator, value, domain):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Operation not supported on this field."))
        if (operator == "=") == value:
            return domain
        return ["!", *expression.normalize_domain(domain)]

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------
    @api.depends("vip_company_id")
    @api.depends_context("company")
    def _compute_vip_currency_id(self):
        for partner in self:
            partner.vip_currency_id = (partner.vip_company_id or self.env.company).currency_id

    @api.depends("vip_downgrade_date", "vip_tier_id", "vip_eval_date", "vip_company_id")
    def _compute_vip_next_review_date(self):
        cron = self.env.ref("vip_customer.ir_cron_vip_recompute_tiers", raise_if_not_found=False)
        # sudo: crons are admin records; only their next run date is shown
        next_run = cron.sudo().nextcall.date() if cron and cron.sudo().active else False
        for partner in self:
            # the incremental night's date (vip_eval_date), not before the next run
            day = partner.vip_eval_date or partner.vip_downgrade_date
            if day and next_run:
                day = max(day, next_run)
            partner.vip_next_review_date = day or (
                next_run if not partner.vip_company_id else False
            )

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

    @api.depends("vip_next_followup_date")
    @api.depends_context("tz")
    def _compute_vip_followup_due(self):
        today = fields.Date.context_today(self)
        due = self.filtered_domain(self._vip_followup_due_domain(today))
        overdue = due.filtered_domain(self._vip_followup_due_domain(today - timedelta(days=1)))
        for partner in self:
            partner.vip_followup_due = partner in due
            partner.vip_followup_overdue = partner in overdue

    def _search_vip_followup_due(self, operator, value):
        return self._vip_search_boolean(operator, value, self._vip_followup_due_domain())

    def _search_vip_followup_overdue(self, operator, value):
        yesterday = fields.Date.context_today(self) - timedelta(days=1)
        return self._vip_search_boolean(operator, value, self._vip_followup_due_domain(yesterday))

    @api.depends("vip_churn_level")
    def _compute_vip_at_risk(self):
        at_risk = self.filtered_domain(self._vip_at_risk_domain())
        for partner in self:
            partner.vip_at_risk = partner in at_risk

    def _search_vip_at_risk(self, operator, value):
        return self._vip_search_boolean(operator, value, self._vip_at_risk_domain())

    @api.depends("vip_birthday")
    def _compute_vip_birthday_month(self):
        for partner in self:
            partner.vip_birthday_month = partner.vip_birthday.month if partner.vip_birthday else 0

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
        """Re-evaluate every customer of the current companies: hands the work
        to the nightly cron (triggered now, in batches in the cron worker)
        instead of evaluating every customer within this request."""
        if not self.env.user.has_group("vip_customer.group_vip_manager"):
            raise AccessError(self.env._("Only VIP managers can re-evaluate all customers."))
        # sudo: the run's cursor and the cron are the engine's; the group was checked
        self.env["vip.tier.engine"].sudo()._request_full_run(self.env.companies)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": self.env._("VIP tiers re-evaluation started"),
                "message": self.env._(
                    "Every customer is re-evaluated in the background within a few minutes."
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
