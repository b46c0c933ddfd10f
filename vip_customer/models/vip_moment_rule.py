"""Key-moment rules: when a VIP customer needs attention, and what is done then.

A rule names a trigger (a date on the customer, an engine event, an anomaly in
the purchases, an event of another add-on), the tiers it applies to, the
actions (an activity for the account manager / salesperson / a chosen user, an
e-mail template, an SMS template), the cycle on which its tasks are generated
and a cool-down. ``vip.moment.engine`` evaluates every active rule each night
and records each occurrence (``vip.moment.occurrence``).

Adding a trigger type: ``selection_add`` it on ``trigger_type`` and define
``vip.moment.engine._moment_sql_<type>(rule, today, horizon)`` (see there).
"""

import calendar

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

# a leap year: a fixed-date moment may fall on 29 February
LEAP_YEAR = 2000
# trigger types of vip_customer; the other add-ons add theirs with selection_add
TRIGGER_TYPES = [
    ("birthday", "Birthday"),
    ("anniversary", "Customer anniversary"),
    ("fixed_date", "Fixed date (holiday)"),
    ("cadence", "Follow-up cadence"),
    ("tier_up", "Tier upgrade"),
    ("tier_down", "Tier downgrade"),
    ("downgrade_pending", "Downgrade pending"),
    ("churn_high", "Churn risk became high"),
    ("spend_drop", "Spend drop"),
    ("frequency_drop", "Purchase frequency drop"),
    ("silence", "Long silence"),
]
# what kind of moment each trigger is (the board groups by it)
TRIGGER_KINDS = {
    "birthday": "scheduled",
    "anniversary": "scheduled",
    "fixed_date": "scheduled",
    "cadence": "scheduled",
    "tier_up": "event",
    "tier_down": "event",
    "downgrade_pending": "anomaly",
    "churn_high": "anomaly",
    "spend_drop": "anomaly",
    "frequency_drop": "anomaly",
    "silence": "anomaly",
}
CYCLES = [("daily", "Daily"), ("weekly", "Weekly"), ("monthly", "Monthly")]
ASSIGNEES = [
    ("account_manager", "Account manager"),
    ("salesperson", "Salesperson"),
    ("user", "A chosen user"),
]


class VipMomentRule(models.Model):
    _name = "vip.moment.rule"
    _inherit = ["vip.bounds.mixin", "vip.company.guard.mixin"]
    _description = "VIP Key Moment Rule"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    trigger_type = fields.Selection(
        TRIGGER_TYPES, string="Trigger", required=True, default="cadence"
    )
    trigger_kind = fields.Selection(
        [("scheduled", "Scheduled"), ("anomaly", "Anomaly"), ("event", "Event")],
        string="Kind",
        compute="_compute_trigger_kind",
        store=True,
    )
    # --- trigger parameters (each trigger reads the ones it needs)
    month = fields.Integer(help="Month of a fixed-date moment (1-12).")
    day = fields.Integer(help="Day of a fixed-date moment (1-31).")
    lead_days = fields.Integer(
        string="Days Ahead",
        default=0,
        help="Dated moments: create the task this many days before the date.",
    )
    interval_days = fields.Integer(
        string="Every (days)",
        default=90,
        help="Follow-up cadence: days between two contacts of the customer.",
    )
    threshold_percent = fields.Float(
        string="Drop (%)",
        default=50.0,
        help="Spend or frequency drop: fire when the last window is at least this many "
        "percent below the window before it.",
    )
    window_days = fields.Integer(
        string="Window (days)",
        default=90,
        help="Spend or frequency drop: the length of the two windows compared.",
    )
    silence_factor = fields.Float(
        string="Times the Usual Interval",
        default=2.0,
        help="Long silence: fire when the customer has not bought for this many times "
        "their usual interval between purchases.",
    )
    within_days = fields.Integer(
        string="Within (days)",
        default=30,
        help="Points expiring: fire when points expire within this many days.",
    )
    tier_ids = fields.Many2many(
        "vip.tier",
        string="Tiers",
        check_company=True,
        help="Customers of these tiers. Empty: every VIP tier.",
    )
    include_non_vip = fields.Boolean(
        string="Also Customers Without a Tier",
        help="Without tiers chosen, also customers who have no VIP tier (e.g. every "
        "member of the loyalty program for points about to expire).",
    )
    # --- actions
    create_activity = fields.Boolean(string="Create a Task", default=True)
    activity_type_id = fields.Many2one(
        "mail.activity.type",
        string="Task Type",
        domain="['|', ('res_model', '=', False), ('res_model', '=', 'res.partner')]",
    )
    activity_summary = fields.Char(
        string="Task Summary", translate=True, help="Default: the rule's name."
    )
    activity_note = fields.Html(string="Task Instructions", translate=True)
    assign_to = fields.Selection(
        ASSIGNEES,
        default="account_manager",
        required=True,
        help="Account manager: the customer's account manager, else their salesperson.",
    )
    assign_user_id = fields.Many2one(
        "res.users", string="User", domain="[('share', '=', False)]", check_company=True
    )
    deadline_days = fields.Integer(
        string="Deadline (days)",
        default=3,
        help="Undated moments (events, anomalies): the task is due this many days after "
        "it is created. Dated moments are due on their date.",
    )
    mail_template_id = fields.Many2one(
        "mail.template",
        string="E-mail to the Customer",
        domain="[('model', '=', 'res.partner')]",
    )
    sms_template_id = fields.Many2one(
        "sms.template",
        string="SMS to the Customer",
        domain="[('model', '=', 'res.partner')]",
    )
    # --- generation
    cycle = fields.Selection(
        CYCLES,
        default="daily",
        required=True,
        help="Daily: each night, the moments due by then. Weekly / monthly: the first "
        "night of the week / month, every moment of the week / month at once, so the "
        "account manager can plan them.",
    )
    cooldown_days = fields.Integer(
        string="Cool-down (days)",
        default=0,
        help="After a task of this rule, the same customer gets no other one for this "
        "many days (one task per episode).",
    )
    builtin = fields.Boolean(
        readonly=True,
        copy=False,
        help="Shipped with the VIP add-ons; it can be tuned or archived.",
    )
    # technical: which built-in rule this is (one per company, see
    # res.company._vip_create_builtin_moment_rules)
    builtin_code = fields.Char(readonly=True, copy=False, index="btree_not_null")
    occurrence_count = fields.Integer(string="Moments", compute="_compute_occurrence_count")

    _sql_constraints = [
        (
            "builtin_code_company_uniq",
            "unique(builtin_code, company_id)",
            "A built-in key moment exists once per company.",
        )
    ]

    @api.depends("trigger_type")
    def _compute_trigger_kind(self):
        kinds = self._get_trigger_kinds()
        for rule in self:
            rule.trigger_kind = kinds.get(rule.trigger_type, "event")

    @api.model
    def _get_trigger_kinds(self):
        """Hook: ``{trigger type: 'scheduled' | 'anomaly' | 'event'}``."""
        return dict(TRIGGER_KINDS)

    def _compute_occurrence_count(self):
        counts = dict(
            self.env["vip.moment.occurrence"]._read_group(
                [("rule_id", "in", self.ids)], ["rule_id"], ["__count"]
            )
        )
        for rule in self:
            rule.occurrence_count = counts.get(rule, 0)

    @api.model
    def _get_vip_bounds(self):
        return {
            "month": (0, 12),
            "day": (0, 31),
            "lead_days": (0, 365),
            "interval_days": (1, 3660),
            "threshold_percent": (1.0, 100.0),
            "window_days": (7, 3660),
            "silence_factor": (1.0, 100.0),
            "within_days": (1, 3660),
            "deadline_days": (0, 365),
            "cooldown_days": (0, 3660),
        }

    @api.constrains("trigger_type", "month", "day")
    def _check_fixed_date(self):
        for rule in self.filtered(lambda r: r.trigger_type == "fixed_date"):
            if not 1 <= rule.month <= 12 or not (
                1 <= rule.day <= calendar.monthrange(LEAP_YEAR, rule.month)[1]
            ):
                raise ValidationError(
                    self.env._(
                        "Key moment %(name)s: %(month)s/%(day)s is not a valid date "
                        "(month 1-12, a day that exists in that month).",
                        name=rule.name,
                        month=rule.month,
                        day=rule.day,
                    )
                )

    @api.constrains("assign_to", "assign_user_id", "create_activity")
    def _check_assignee(self):
        for rule in self:
            if rule.create_activity and rule.assign_to == "user" and not rule.assign_user_id:
                raise ValidationError(
                    self.env._(
                        "Key moment %(name)s assigns its tasks to a chosen user: choose the user.",
                        name=rule.name,
                    )
                )

    @api.constrains("assign_user_id")
    def _check_assign_user(self):
        for rule in self:
            # sudo: the manager may not read every user (another company's, the public one)
            user = rule.sudo().assign_user_id
            if user and (user.share or not user.active):
                raise ValidationError(
                    self.env._(
                        "Key moment %(name)s: User - %(user)s is not an active internal user: "
                        "a key-moment task is for an employee.",
                        name=rule.name,
                        user=user.display_name,
                    )
                )

    @api.constrains("activity_type_id")
    def _check_activity_type(self):
        if self.env.su:
            # the add-ons' own upgrades create built-in rules before they move a
            # former task type onto contacts
            return
        for rule in self:
            model = rule.activity_type_id.res_model
            if model and model != "res.partner":
                raise ValidationError(
                    self.env._(
                        "Key moment %(name)s: Task Type - %(type)s is for other documents "
                        "than contacts.",
                        name=rule.name,
                        type=rule.activity_type_id.display_name,
                    )
                )

    def write(self, vals):
        if "company_id" in vals:
            moved = self.filtered(lambda r: r.company_id.id != vals["company_id"])
            if moved and self.env["vip.moment.occurrence"].sudo().search_count(
                [("rule_id", "in", moved.ids)], limit=1
            ):
                raise ValidationError(
                    self.env._(
                        "Company: %(rules)s already has key moments of its company's "
                        "customers; create a rule in the other company instead.",
                        rules=", ".join(moved.mapped("display_name")),
                    )
                )
        return super().write(vals)

    def unlink(self):
        """A deleted rule takes its key moments along (archive it to keep them); their
        open tasks go too, instead of staying on people's lists with no moment."""
        tasks = (
            self.env["vip.moment.occurrence"]
            .sudo()
            .search([("rule_id", "in", self.ids), ("state", "=", "open")])
            .activity_id
        )
        result = super().unlink()
        # sudo: the tasks of the account managers, removed with the rule the caller deleted
        tasks.sudo().exists().unlink()
        return result

    @api.constrains("mail_template_id", "sms_template_id")
    def _check_templates(self):
        for rule in self:
            for template in (rule.mail_template_id, rule.sms_template_id):
                if template and template.model != "res.partner":
                    raise ValidationError(
                        self.env._(
                            "Key moment %(name)s: the template %(template)s must be a "
                            "template for contacts.",
                            name=rule.name,
                            template=template.display_name,
                        )
                    )

    def _get_activity_type(self):
        """The activity type of this rule's tasks (default: the VIP follow-up)."""
        self.ensure_one()
        return self.activity_type_id or self.env.ref("vip_customer.mail_activity_type_vip_followup")

    def action_view_occurrences(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_customer.vip_moment_occurrence_action"
        )
        action["domain"] = [("rule_id", "=", self.id)]
        action["context"] = {"search_default_filter_open": 0}
        return action

    def action_run_now(self):
        """Run the key-moment engine now (in the cron worker, in batches)."""
        self.check_access("write")
        archived = self.filtered(lambda rule: not rule.active)
        if archived:
            # the engine runs active rules only: "started" would be a lie
            raise UserError(
                self.env._(
                    "%(rules)s is archived: restore it to run it.",
                    rules=", ".join(archived.mapped("display_name")),
                )
            )
        # sudo: the cron is an admin record; the caller's rights were checked
        self.env.ref("vip_customer.ir_cron_vip_key_moments").sudo()._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": self.env._("Key moments started"),
                "message": self.env._(
                    "Today's key-moment tasks are created in the background within a few minutes."
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
