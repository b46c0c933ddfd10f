import calendar
import datetime
import logging

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from ..tools.vip_rules import occasion_date

_logger = logging.getLogger(__name__)

# A leap year: fixed-date occasions may fall on 29 February.
LEAP_YEAR = 2000
# customers cared for per call of the cron (greetings queued, gifts planned)
CARE_BATCH_SIZE = 500


class VipCareOccasion(models.Model):
    """A yearly moment to care for VIPs: their birthday, their customer
    anniversary, or a fixed date such as a holiday.

    Each day the cron runs every active occasion for the customers whose
    occasion falls ``days_before`` days ahead: a greeting e-mail from a
    template, a gift activity for the account manager, and a ``vip.care.log``
    row per customer so that an occasion happens once a year per customer.
    """

    _name = "vip.care.occasion"
    _inherit = ["vip.bounds.mixin", "vip.company.guard.mixin"]
    _description = "VIP Care Occasion"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    occasion_type = fields.Selection(
        [
            ("birthday", "Birthday"),
            ("anniversary", "Customer anniversary"),
            ("fixed", "Fixed date"),
        ],
        string="Type",
        required=True,
        default="birthday",
    )
    month = fields.Integer(help="Month of a fixed-date occasion (1-12).")
    day = fields.Integer(help="Day of a fixed-date occasion (1-31).")
    days_before = fields.Integer(
        string="Days Ahead", default=0, help="Act this many days before the occasion."
    )
    tier_ids = fields.Many2many(
        "vip.tier",
        string="Tiers",
        check_company=True,
        help="Customers of these tiers are cared for. Empty: every VIP tier.",
    )
    send_mail = fields.Boolean(string="Send Greeting", default=True)
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Greeting Template",
        domain=[("model", "=", "res.partner")],
        compute="_compute_mail_template_id",
        store=True,
        readonly=False,
        help="Sent to customers with an e-mail address who did not opt out of care messages.",
    )
    create_activity = fields.Boolean(string="Gift Activity")
    activity_tier_ids = fields.Many2many(
        "vip.tier",
        "vip_care_occasion_activity_tier_rel",
        "occasion_id",
        "tier_id",
        string="Gift For Tiers",
        check_company=True,
        help="Tiers whose account manager gets a gift activity. Empty: all targeted tiers.",
    )
    log_count = fields.Integer(string="Care Log", compute="_compute_log_count")

    # ------------------------------------------------------------------
    # Computes and constraints
    # ------------------------------------------------------------------
    @api.depends("occasion_type")
    def _compute_mail_template_id(self):
        birthday = self.env.ref("vip_customer.mail_template_vip_birthday", raise_if_not_found=False)
        greeting = self.env.ref("vip_customer.mail_template_vip_greeting", raise_if_not_found=False)
        defaults = birthday | greeting
        for occasion in self:
            if occasion.mail_template_id and occasion.mail_template_id not in defaults:
                continue  # a template chosen by hand stays
            is_birthday = occasion.occasion_type == "birthday"
            occasion.mail_template_id = birthday if is_birthday else greeting

    def _compute_log_count(self):
        counts = dict(
            self.env["vip.care.log"]._read_group(
                [("occasion_id", "in", self.ids)], ["occasion_id"], ["__count"]
            )
        )
        for occasion in self:
            occasion.log_count = counts.get(occasion, 0)

    @api.constrains("occasion_type", "month", "day")
    def _check_fixed_date(self):
        for occasion in self.filtered(lambda o: o.occasion_type == "fixed"):
            valid_month = 1 <= occasion.month <= 12
            if (
                not valid_month
                or not 1 <= occasion.day <= calendar.monthrange(LEAP_YEAR, occasion.month)[1]
            ):
                raise ValidationError(
                    self.env._(
                        "Occasion %(name)s: %(month)s/%(day)s is not a valid date "
                        "(month 1-12, a day that exists in that month).",
                        name=occasion.name,
                        month=occasion.month,
                        day=occasion.day,
                    )
                )

    @api.constrains("days_before")
    def _check_days_before(self):
        for occasion in self:
            if not 0 <= occasion.days_before <= 365:
                raise ValidationError(
                    self.env._(
                        "Occasion %(name)s: the days ahead must be between 0 and 365.",
                        name=occasion.name,
                    )
                )

    @api.constrains("send_mail", "mail_template_id")
    def _check_mail_template(self):
        for occasion in self.filtered("send_mail"):
            if not occasion.mail_template_id:
                raise ValidationError(
                    self.env._(
                        "Occasion %(name)s sends a greeting: choose its e-mail template.",
                        name=occasion.name,
                    )
                )
            if occasion.mail_template_id.model != "res.partner":
                raise ValidationError(
                    self.env._(
                        "Occasion %(name)s: the greeting template %(template)s must be a "
                        "template for contacts.",
                        name=occasion.name,
                        template=occasion.mail_template_id.display_name,
                    )
                )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_run_now(self):
        """Run today's occasions now instead of waiting for the nightly time:
        triggers the care cron, which works through the customers in batches
        in the cron worker (customers already cared for this year are left
        alone)."""
        self.check_access("write")
        archived = self.filtered(lambda occasion: not occasion.active)
        if archived:
            raise UserError(self.env._(
                "%(occasions)s is archived: restore it to run it.",
                occasions=", ".join(archived.mapped("display_name")),
            ))
        # sudo: the cron is an admin record; the caller's rights were checked
        self.env.ref("vip_customer.ir_cron_vip_care_moments").sudo()._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": self.env._("Care occasion started"),
                "message": self.env._(
                    "Today's greetings and gifts are prepared in the background within a "
                    "few minutes; the care log shows them."
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_view_logs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("vip_customer.vip_care_log_action")
        action["domain"] = [("occasion_id", "=", self.id)]
        return action

    # ------------------------------------------------------------------
    # Hooks
    # ------------------------------------------------------------------
    def _get_care_tiers(self):
        """Hook: the tiers this occasion cares for."""
        self.ensure_one()
        if self.tier_ids:
            return self.tier_ids
        return self.env["vip.tier"].search([("company_id", "=", self.company_id.id)])

    def _get_care_partners(self, target):
        """Hook: customers of the occasion's tiers whose occasion falls on
        ``target`` (a birthday on 29 February is celebrated on 28 February in
        common years). Birthdays are those of people: the VIP individuals and
        the contacts of VIP companies (who carry their company's tier); the
        other occasions are the commercial partners'."""
        self.ensure_one()
        Partner = self.env["res.partner"]
        domain = [("vip_tier_id", "in", self._get_care_tiers().ids)]
        if self.occasion_type != "birthday":
            domain += ["|", ("is_company", "=", True), ("parent_id", "=", False)]
        if self.occasion_type == "fixed":
            if occasion_date(self.month, self.day, target.year) != target:
                return Partner
            return Partner.search(domain)
        fname = "vip_birthday" if self.occasion_type == "birthday" else "vip_anniversary_date"
        if self.occasion_type == "anniversary":
            # the first anniversary comes a year after the relationship started
            domain.append((fname, "<", datetime.date(target.year, 1, 1)))
        days = [
            day
            for day in range(target.day, calendar.monthrange(LEAP_YEAR, target.month)[1] + 1)
            if occasion_date(target.month, day, target.year) == target
        ]
        query = Partner._search(domain + [(fname, "!=", False)])
        column = Partner._field_to_sql(Partner._table, fname, query)
        query.add_where(
            SQL(
                "(EXTRACT(MONTH FROM %s) = %s AND EXTRACT(DAY FROM %s) IN %s)",
                column,
                target.month,
                column,
                tuple(days),
            )
        )
        return Partner.browse(query)

    def _prepare_gift_activity_vals(self, partner, user, target, activity_type):
        self.ensure_one()
        env = self.with_context(lang=user.lang or self.env.lang).env
        note = env._(
            "%(occasion)s of %(customer)s on %(date)s.",
            occasion=self.with_env(env).name,
            customer=partner.display_name,
            date=fields.Date.to_string(target),
        )
        if partner.vip_gift_preference:
            note += " " + env._("Gift preferences: %(pref)s", pref=partner.vip_gift_preference)
        return {
            "activity_type_id": activity_type.id,
            "res_model_id": self.env["ir.model"]._get_id("res.partner"),
            "res_id": partner.id,
            "user_id": user.id,
            "date_deadline": target,
            "summary": env._("Gift: %(occasion)s", occasion=self.with_env(env).name),
            "note": Markup("<p>%s</p>") % note,
            "automated": True,
        }

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    def _run_care(self, today=None, limit=None):
        """Run these occasions for ``today``: care for every customer whose
        occasion falls ``days_before`` days later and who was not cared for
        this year yet (at most ``limit`` customers in all).

        :return: the ``vip.care.log`` rows created
        """
        today = today or fields.Date.context_today(self)
        logs = self.env["vip.care.log"]
        for occasion, target, partners in self._get_care_pending(today):
            if limit is not None:
                partners = partners[: limit - len(logs)]
            if partners:
                logs |= occasion.with_company(occasion.company_id)._care_for(
                    partners, target, today
                )
            if limit is not None and len(logs) >= limit:
                break
        return logs

    def _get_care_pending(self, today):
        """``[(occasion, target date, customers)]``: the customers each of these
        occasions has still to care for on ``today`` (not cared for this year)."""
        pending = []
        for occasion in self:
            target = today + datetime.timedelta(days=occasion.days_before)
            partners = occasion._get_care_partners(target)
            if not partners:
                continue
            done = self.env["vip.care.log"].search(
                [
                    ("occasion_id", "=", occasion.id),
                    ("year", "=", target.year),
                    ("partner_id", "in", partners.ids),
                ]
            )
            partners -= done.partner_id
            if partners:
                pending.append((occasion, target, partners))
        return pending

    def _care_for(self, partners, target, today):
        """Greet ``partners`` and plan their gifts for the occasion on ``target``,
        in batch, and log it. A customer who cannot be greeted (opted out,
        blacklisted, no valid e-mail) is logged with the reason; the gift, an
        internal task, is planned all the same."""
        self.ensure_one()
        reasons = {partner: [] for partner in partners}
        mailed_ids, gifted_ids = set(), set()
        if self.send_mail:
            for partner in partners:
                if partner.vip_care_opt_out or partner.commercial_partner_id.vip_care_opt_out:
                    reasons[partner].append(self.env._("opted out"))
                elif partner.is_blacklisted:
                    reasons[partner].append(self.env._("e-mail blacklisted"))
                elif not partner.email:
                    reasons[partner].append(self.env._("no email"))
                elif not partner.email_normalized:
                    reasons[partner].append(self.env._("invalid email"))
                else:
                    mailed_ids.add(partner.id)
            if mailed_ids:
                # is_notification keeps the greeting in the customer's chatter
                # once the queued e-mail is sent and auto-deleted
                self.mail_template_id.send_mail_batch(
                    [pid for pid in partners.ids if pid in mailed_ids],
                    email_values={"is_notification": True},
                )

        if self.create_activity:
            gift_tiers = self.activity_tier_ids
            candidates = partners.filtered(lambda p: not gift_tiers or p.vip_tier_id in gift_tiers)
            activity_type = self.env.ref("vip_customer.mail_activity_type_vip_gift")
            activity_vals = []
            for partner in candidates:
                user = partner._vip_get_responsible_user()
                if not user:
                    reasons[partner].append(self.env._("no account manager for the gift"))
                    continue
                activity_vals.append(
                    self._prepare_gift_activity_vals(partner, user, target, activity_type)
                )
                gifted_ids.add(partner.id)
            # Assignees see gifts in their activity menu; no e-mail per activity.
            self.env["mail.activity"].with_context(mail_activity_quick_update=True).create(
                activity_vals
            )

        # sudo: care logs are written by the system only (users cannot create
        # them, see the access rights); a manager may run an occasion by hand.
        return (
            self.env["vip.care.log"]
            .sudo()
            .create(
                [
                    {
                        "occasion_id": self.id,
                        "partner_id": partner.id,
                        "year": target.year,
                        "date": today,
                        "occasion_date": target,
                        "mail_sent": partner.id in mailed_ids,
                        "activity_created": partner.id in gifted_ids,
                        "skipped_reason": ", ".join(reasons[partner]) or False,
                    }
                    for partner in partners
                ]
            )
            .sudo(False)
        )

    # ------------------------------------------------------------------
    # Cron
    # ------------------------------------------------------------------
    @api.model
    def _cron_vip_care_moments(self, batch_size=CARE_BATCH_SIZE):
        """Daily: care for the next ``batch_size`` customers of today's active
        occasions, each in its company, report the progress and return; Odoo's
        cron runner commits and calls again while some remain. A customer
        cared for is logged for the year, so the next call (or a second run
        the same day) takes the next ones.
        """
        today = fields.Date.context_today(self)
        occasions = self.search([("active", "=", True)])
        total = sum(len(partners) for _o, _t, partners in occasions._get_care_pending(today))
        logs = occasions._run_care(today, limit=batch_size)
        _logger.info("VIP care occasions: %s customers cared for", len(logs))
        self.env["ir.cron"]._notify_progress(done=len(logs), remaining=total - len(logs))
