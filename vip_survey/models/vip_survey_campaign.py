"""Satisfaction / NPS campaigns: who gets which survey, when, and how they answered.

A campaign picks its customers (tiers and/or a customer filter), skips the ones
surveyed recently or who opted out, and creates one Odoo survey answer (with
its own access token) per customer, in batches, from a cron. Each batch is
mailed with the campaign's invitation template.
"""

import logging
import uuid
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval

_logger = logging.getLogger(__name__)

# Invitations created (and mailed) per batch: one cron call handles one batch.
BATCH_SIZE = 1000
# how far ahead a campaign may be planned
NEXT_RUN_YEARS = 5
# The campaign's life cycle and run bookkeeping: changed by its actions and its
# dispatch only (see _write_run_state), refused in create/write to everyone else.
RUN_FIELDS = {"state", "run_count", "run_cursor", "run_in_progress", "last_run_date"}
# Counters computed from the answers and tickets: refused in create/write (otherwise
# the ORM would accept the value for the rest of the request and drop it).
STATISTIC_FIELDS = {
    "invited_count",
    "started_count",
    "completed_count",
    "response_rate",
    "promoter_count",
    "passive_count",
    "detractor_count",
    "nps",
    "satisfaction_avg",
    "below_target",
    "ticket_count",
}
NPS_CLASSES = [
    ("promoter", "Promoter"),
    ("passive", "Passive"),
    ("detractor", "Detractor"),
]


def reader_lang(env, user=None, company=None):
    """Language of the staff who read a note or an activity stored now: the user it
    is for, else the company's, else the current one (stored text is written in its
    reader's language, not in the language of whoever triggered it)."""
    return (user and user.lang) or (company and company.partner_id.lang) or env.lang or "en_US"


class VipSurveyCampaign(models.Model):
    _name = "vip.survey.campaign"
    _description = "VIP Satisfaction Campaign"
    _inherit = [
        "mail.thread", "mail.activity.mixin", "vip.bounds.mixin", "vip.company.guard.mixin"
    ]
    _order = "state, next_run_date, id desc"
    _check_company_auto = True

    def _default_mail_template_id(self):
        return self.env.ref("survey.mail_template_user_input_invite", raise_if_not_found=False)

    # ------------------------------------------------------------------
    # Fields
    # ------------------------------------------------------------------
    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        domain=[("share", "=", False)],
        tracking=True,
    )
    state = fields.Selection(
        [("draft", "Draft"), ("running", "Running"), ("done", "Done")],
        default="draft",
        required=True,
        copy=False,
        tracking=True,
        index=True,
    )
    # what is asked
    survey_id = fields.Many2one(
        "survey.survey",
        required=True,
        tracking=True,
        domain=[("survey_type", "in", ("survey", "custom"))],
        help="The Odoo survey sent to the customers; each customer answers it through "
        "their own invitation link.",
    )
    nps_question_id = fields.Many2one(
        "survey.question",
        string="NPS Question",
        required=True,
        domain="[('survey_id', '=', survey_id), ('question_type', '=', 'scale'), "
        "('scale_min', '=', 0), ('scale_max', '=', 10)]",
        help="The 0-10 'would you recommend us' question: 9-10 promoter, 7-8 passive, "
        "0-6 detractor.",
    )
    satisfaction_source = fields.Selection(
        [
            ("question", "Satisfaction question"),
            ("scoring", "Survey score"),
            ("nps", "NPS question"),
        ],
        default="question",
        required=True,
        help="Where the satisfaction score out of 100 comes from: a scale question of the "
        "survey, the survey's own scoring percentage, or the NPS answer (x10).",
    )
    satisfaction_question_id = fields.Many2one(
        "survey.question",
        domain="[('survey_id', '=', survey_id), ('question_type', '=', 'scale')]",
        help="A scale question whose answer, brought to 0-100, is the satisfaction score.",
    )
    satisfaction_target = fields.Float(
        default=85.0,
        help="Satisfaction score out of 100 the practice aims at.",
    )
    # who is asked
    tier_ids = fields.Many2many(
        "vip.tier",
        string="Target Tiers",
        check_company=True,
        help="Customers of these tiers are invited. Leave empty to rely on the filter only.",
    )
    partner_domain = fields.Char(
        string="Customer Filter",
        default="[]",
        help="Extra condition on the customers (combined with the tiers).",
    )
    skip_days = fields.Integer(
        string="Skip Surveyed Within (days)",
        default=90,
        help="Customers invited by any VIP campaign during these last days are skipped.",
    )
    skip_care_opt_out = fields.Boolean(
        string="Skip 'No Care Messages' Customers",
        default=True,
        help="Also skip customers who refuse care messages (customers who refuse "
        "surveys are always skipped).",
    )
    # when
    recurrence = fields.Selection(
        [("once", "One-shot"), ("recurring", "Recurring")],
        default="recurring",
        required=True,
        tracking=True,
    )
    interval_months = fields.Integer(
        string="Every (months)", default=6, help="Months between two runs of the campaign."
    )
    next_run_date = fields.Date(tracking=True, copy=False)
    last_run_date = fields.Date(readonly=True, copy=False)
    run_count = fields.Integer(string="Runs", readonly=True, copy=False)
    run_cursor = fields.Integer(
        readonly=True, copy=False, help="Technical: last customer id invited in the current run."
    )
    run_in_progress = fields.Boolean(
        readonly=True, copy=False, help="Invitations of the current run are still being created."
    )
    answer_days = fields.Integer(
        string="Answer Within (days)",
        default=30,
        help="Invitations expire after this many days (0: never).",
    )
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Invitation Template",
        domain=[("model", "=", "survey.user_input")],
        default=lambda self: self._default_mail_template_id(),
        help="Mail sent to each invited customer, with their personal survey link.",
    )
    # closed loop
    create_recovery_ticket = fields.Boolean(
        string="Recovery Ticket for Detractors",
        default=True,
        help="A detractor answer opens a complaint ticket for the account manager.",
    )
    create_passive_activity = fields.Boolean(
        string="Follow-up Activity for Passives",
        default=True,
        help="A passive answer schedules a follow-up call of the account manager.",
    )
    followup_survey_id = fields.Many2one(
        "survey.survey",
        string="Follow-up Survey",
        domain=[("survey_type", "in", ("survey", "custom"))],
        help="Survey sent to the customer when their recovery ticket is closed.",
    )
    # results
    user_input_ids = fields.One2many("survey.user_input", "vip_campaign_id", string="Answers")
    invited_count = fields.Integer(string="Invited", compute="_compute_statistics")
    started_count = fields.Integer(string="Started", compute="_compute_statistics")
    completed_count = fields.Integer(string="Completed", compute="_compute_statistics")
    response_rate = fields.Float(string="Response Rate (%)", compute="_compute_statistics")
    promoter_count = fields.Integer(string="Promoters", compute="_compute_statistics")
    passive_count = fields.Integer(string="Passives", compute="_compute_statistics")
    detractor_count = fields.Integer(string="Detractors", compute="_compute_statistics")
    nps = fields.Float(
        string="NPS",
        compute="_compute_statistics",
        help="Net Promoter Score: % promoters - % detractors, from -100 to 100.",
    )
    satisfaction_avg = fields.Float(string="Satisfaction", compute="_compute_statistics")
    below_target = fields.Boolean(compute="_compute_statistics")
    ticket_count = fields.Integer(string="Recovery Tickets", compute="_compute_statistics")

    _sql_constraints = [
        (
            "interval_months_positive",
            "CHECK(interval_months > 0)",
            "A recurring campaign runs at least every month.",
        ),
        ("skip_days_positive", "CHECK(skip_days >= 0)", "The skip period cannot be negative."),
        (
            "answer_days_positive",
            "CHECK(answer_days >= 0)",
            "The answer period cannot be negative.",
        ),
    ]

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------
    @api.depends(
        "user_input_ids.state",
        "user_input_ids.vip_nps_class",
        "user_input_ids.vip_satisfaction_score",
        "satisfaction_target",
    )
    @api.depends_context("uid")  # the counts follow the user's access (tickets, companies)
    def _compute_statistics(self):
        UserInput = self.env["survey.user_input"]
        domain = [("vip_campaign_id", "in", self.ids)]
        by_state = UserInput._read_group(domain, ["vip_campaign_id", "state"], ["__count"])
        by_class = UserInput._read_group(
            domain + [("state", "=", "done"), ("vip_nps_class", "!=", False)],
            ["vip_campaign_id", "vip_nps_class"],
            ["__count"],
        )
        satisfaction = dict(
            UserInput._read_group(
                domain + [("state", "=", "done")],
                ["vip_campaign_id"],
                ["vip_satisfaction_score:sum"],
            )
        )
        Ticket = self.env["vip.service.ticket"]
        # satisfaction users without the service group see no recovery ticket
        tickets = (
            dict(
                Ticket._read_group(
                    [("vip_survey_campaign_id", "in", self.ids)],
                    ["vip_survey_campaign_id"],
                    ["__count"],
                )
            )
            if Ticket.has_access("read")
            else {}
        )
        states, classes = {}, {}
        for campaign, state, count in by_state:
            states.setdefault(campaign, {})[state] = count
        for campaign, nps_class, count in by_class:
            classes.setdefault(campaign, {})[nps_class] = count
        for campaign in self:
            counts = states.get(campaign, {})
            nps_counts = classes.get(campaign, {})
            invited = sum(counts.values())
            completed = counts.get("done", 0)
            answered = sum(nps_counts.values())
            campaign.invited_count = invited
            campaign.started_count = counts.get("in_progress", 0) + completed
            campaign.completed_count = completed
            campaign.response_rate = round(100.0 * completed / invited, 1) if invited else 0.0
            campaign.promoter_count = nps_counts.get("promoter", 0)
            campaign.passive_count = nps_counts.get("passive", 0)
            campaign.detractor_count = nps_counts.get("detractor", 0)
            campaign.nps = (
                round(
                    100.0
                    * (nps_counts.get("promoter", 0) - nps_counts.get("detractor", 0))
                    / answered,
                    1,
                )
                if answered
                else 0.0
            )
            # a score of 0 is stored as NULL: average over the completed answers
            campaign.satisfaction_avg = (
                round((satisfaction.get(campaign) or 0.0) / completed, 1) if completed else 0.0
            )
            campaign.below_target = bool(
                completed and campaign.satisfaction_avg < campaign.satisfaction_target
            )
            campaign.ticket_count = tickets.get(campaign, 0)

    # ------------------------------------------------------------------
    # Constraints and onchanges
    # ------------------------------------------------------------------
    @api.constrains(
        "survey_id", "nps_question_id", "satisfaction_source", "satisfaction_question_id"
    )
    def _check_questions(self):
        for campaign in self:
            question = campaign.nps_question_id
            if question.survey_id != campaign.survey_id or not (
                question.question_type == "scale"
                and question.scale_min == 0
                and question.scale_max == 10
            ):
                raise ValidationError(
                    self.env._(
                        "Campaign %(campaign)s: the NPS question must be a 0-10 scale question "
                        "of the survey %(survey)s.",
                        campaign=campaign.display_name,
                        survey=campaign.survey_id.display_name,
                    )
                )
            if campaign.satisfaction_source == "question":
                satisfaction = campaign.satisfaction_question_id
                if (
                    not satisfaction
                    or satisfaction.survey_id != campaign.survey_id
                    or (satisfaction.question_type != "scale")
                ):
                    raise ValidationError(
                        self.env._(
                            "Campaign %(campaign)s: choose a scale question of the survey "
                            "%(survey)s as satisfaction question.",
                            campaign=campaign.display_name,
                            survey=campaign.survey_id.display_name,
                        )
                    )
            if campaign.satisfaction_source == "scoring" and (
                campaign.survey_id.scoring_type == "no_scoring"
            ):
                raise ValidationError(
                    self.env._(
                        "Campaign %(campaign)s: the survey %(survey)s has no scoring; choose "
                        "another satisfaction source.",
                        campaign=campaign.display_name,
                        survey=campaign.survey_id.display_name,
                    )
                )

    @api.model
    def _get_vip_bounds(self):
        return dict(
            super()._get_vip_bounds(),
            satisfaction_target=(0, 100),
            skip_days=(0, 3650),
            interval_months=(1, 36),
            answer_days=(0, 365),
        )

    @api.constrains("next_run_date")
    def _check_next_run_date(self):
        horizon = fields.Date.add(fields.Date.context_today(self), years=NEXT_RUN_YEARS)
        for campaign in self:
            if campaign.next_run_date and campaign.next_run_date > horizon:
                raise ValidationError(
                    self.env._(
                        "Campaign %(campaign)s: Next Run Date %(date)s is too far ahead (at most "
                        "%(years)s years from today).",
                        campaign=campaign.display_name,
                        date=campaign.next_run_date,
                        years=NEXT_RUN_YEARS,
                    )
                )

    @api.constrains("partner_domain")
    def _check_partner_domain(self):
        for campaign in self:
            try:
                self.env["res.partner"]._search(campaign._get_partner_domain_filter())
            except (ValueError, SyntaxError, NameError, TypeError) as error:
                raise ValidationError(
                    self.env._(
                        "Campaign %(campaign)s: the customer filter is not valid (%(error)s).",
                        campaign=campaign.display_name,
                        error=error,
                    )
                ) from error

    @api.onchange("survey_id")
    def _onchange_survey_id(self):
        if self.nps_question_id.survey_id != self.survey_id:
            self.nps_question_id = self.survey_id.question_ids.filtered(
                lambda q: q.question_type == "scale" and q.scale_min == 0 and q.scale_max == 10
            )[:1]
        if self.satisfaction_question_id.survey_id != self.survey_id:
            self.satisfaction_question_id = False

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_statistic_fields(vals.keys())
            if not self.env.su:
                self._check_run_fields(
                    [f for f in RUN_FIELDS & vals.keys() if vals[f] not in (False, 0, "draft")]
                )
        return super().create(vals_list)

    def write(self, vals):
        self._check_statistic_fields(vals.keys())
        if not self.env.su:
            self._check_run_fields(RUN_FIELDS & vals.keys())
        return super().write(vals)

    def _check_statistic_fields(self, fnames):
        fnames = STATISTIC_FIELDS & set(fnames)
        if fnames:
            raise AccessError(
                self.env._(
                    "The fields %(fields)s of a satisfaction campaign are computed from its "
                    "answers and cannot be written.",
                    fields=", ".join(
                        sorted(self._fields[f]._description_string(self.env) for f in fnames)
                    ),
                )
            )

    def _check_run_fields(self, fnames):
        if fnames:
            raise AccessError(
                self.env._(
                    "The fields %(fields)s of a satisfaction campaign change through its "
                    "buttons (Start, Stop, Reset to Draft) and its dispatch only.",
                    fields=", ".join(
                        sorted(self._fields[f]._description_string(self.env) for f in fnames)
                    ),
                )
            )

    def _write_run_state(self, vals):
        """Write the life-cycle and run fields (see ``RUN_FIELDS``): the caller's
        right to change these campaigns is checked, then the write passes the guard
        of :meth:`write` as superuser (the user stays the author of the tracking)."""
        self.check_access("write")
        return self.sudo().write(vals)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_start(self):
        """Start the campaign: the cron sends its first invitations on the next run date."""
        today = fields.Date.context_today(self)
        for campaign in self:
            if campaign.state != "draft":
                raise UserError(
                    self.env._(
                        "Campaign %(campaign)s is already started.", campaign=campaign.display_name
                    )
                )
            if not campaign.tier_ids and campaign.partner_domain in (False, "", "[]"):
                raise UserError(
                    self.env._(
                        "Campaign %(campaign)s: choose target tiers or a customer filter before "
                        "starting it.",
                        campaign=campaign.display_name,
                    )
                )
            if not campaign.survey_id.active or campaign.survey_id.access_mode == "internal":
                raise UserError(
                    self.env._(
                        "Campaign %(campaign)s: the survey %(survey)s must be active and open "
                        "to invited customers.",
                        campaign=campaign.display_name,
                        survey=campaign.survey_id.display_name,
                    )
                )
        self._write_run_state({"state": "running"})
        for campaign in self.filtered(lambda c: not c.next_run_date or c.next_run_date < today):
            campaign.next_run_date = today
        self.env.ref("vip_survey.ir_cron_vip_survey_dispatch")._trigger()
        return True

    def action_send_now(self):
        """Create and mail the invitations of the current run now, instead of waiting
        for the cron (all batches, in this transaction)."""
        self.ensure_one()
        if self.state != "running":
            raise UserError(
                self.env._(
                    "Campaign %(campaign)s must be running to send invitations.",
                    campaign=self.display_name,
                )
            )
        if not self.run_in_progress:
            self.next_run_date = fields.Date.context_today(self)
        while self._dispatch_batch():
            pass
        return True

    def action_done(self):
        self._write_run_state({"state": "done", "run_in_progress": False})
        return True

    def action_reset_draft(self):
        self._write_run_state({"state": "draft", "run_in_progress": False})
        return True

    def action_view_answers(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_survey.survey_user_input_action_vip"
        )
        action["domain"] = [("vip_campaign_id", "=", self.id)]
        action["context"] = {"search_default_group_by_nps_class": 1}
        return action

    def action_view_tickets(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_service_ticket.vip_service_ticket_action"
        )
        action["domain"] = [("vip_survey_campaign_id", "=", self.id)]
        action["context"] = {}
        return action

    def action_view_analysis(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_survey.vip_satisfaction_report_action"
        )
        action["domain"] = [("campaign_id", "=", self.id)]
        return action

    # ------------------------------------------------------------------
    # Targets
    # ------------------------------------------------------------------
    def _get_partner_domain_filter(self):
        """The customer filter as a domain (empty when not set)."""
        self.ensure_one()
        if not self.partner_domain:
            return []
        return safe_eval(self.partner_domain, {"context_today": fields.Date.context_today})

    def _get_target_domain(self):
        """Domain of the customers this campaign invites (hook: add conditions).

        Exclusions that depend on past answers (recently surveyed, already invited in
        this run) are applied in SQL by :meth:`_get_excluded_partner_ids`.
        """
        self.ensure_one()
        domain = [
            ("active", "=", True),
            ("email", "!=", False),
            ("vip_survey_opt_out", "=", False),
            ("company_id", "in", [False, self.company_id.id]),
        ]
        if self.skip_care_opt_out:
            domain.append(("vip_care_opt_out", "=", False))
        if self.tier_ids:
            domain.append(("vip_tier_id", "in", self.tier_ids.ids))
        return domain + self._get_partner_domain_filter()

    def _get_target_partner_ids(self, after=0, limit=None):
        """Ids of the target customers after the id ``after``, in id order (keyset
        pagination: one index range scan, bounded by ``limit``)."""
        self.ensure_one()
        Partner = self.env["res.partner"].with_context(active_test=False)
        query = Partner._search(
            self._get_target_domain() + [("id", ">", after)], order="id", limit=limit
        )
        return [row[0] for row in self.env.execute_query(query.select())]

    def _get_excluded_partner_ids(self, partner_ids):
        """Those of ``partner_ids`` already invited in the current run, or surveyed by
        any VIP campaign during the last ``skip_days`` days.

        ``partner_ids`` is a chunk of customer ids in ascending order: one range scan
        of the partner_id index over the chunk, whatever the number of invitations
        sent before (the result may hold other customers of the range).
        """
        self.ensure_one()
        if not partner_ids:
            return set()
        self.env["survey.user_input"].flush_model(
            ["partner_id", "vip_campaign_id", "vip_campaign_run", "create_date"]
        )
        skip = SQL("FALSE")
        if self.skip_days:
            since = fields.Datetime.now() - timedelta(days=self.skip_days)
            skip = SQL("ui.create_date >= %s", since)
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT ui.partner_id
                  FROM survey_user_input ui
                 WHERE ui.partner_id BETWEEN %(first)s AND %(last)s
                   AND ui.vip_campaign_id IS NOT NULL
                   AND ((ui.vip_campaign_id = %(campaign)s AND ui.vip_campaign_run = %(run)s)
                        OR %(skip)s)
                """,
                first=min(partner_ids),
                last=max(partner_ids),
                campaign=self.id,
                run=self.run_count,
                skip=skip,
            )
        )
        return {row[0] for row in rows}

    def _get_pending_partner_ids(self, limit=None):
        """Ids of the target customers not invited yet in the current run, after the
        run's cursor, in id order (at most ``limit``).

        Customers are read by chunks of ``limit`` along the id index and the chunk's
        exclusions are probed by id, so the cost of a batch does not grow with the
        invitations already sent nor with the number of customers.
        """
        self.ensure_one()
        chunk = limit or BATCH_SIZE
        cursor = self.run_cursor
        pending = []
        while not limit or len(pending) < limit:
            candidates = self._get_target_partner_ids(
                after=cursor, limit=(limit - len(pending)) if limit else chunk
            )
            if not candidates:
                break
            excluded = self._get_excluded_partner_ids(candidates)
            pending.extend(pid for pid in candidates if pid not in excluded)
            cursor = candidates[-1]
        return pending

    def _count_pending_partners(self):
        """Target customers after the run's cursor: an upper bound of the customers
        left to invite in the current run (cheap: no look-up of past invitations)."""
        self.ensure_one()
        Partner = self.env["res.partner"].with_context(active_test=False)
        return Partner.search_count(self._get_target_domain() + [("id", ">", self.run_cursor)])

    # ------------------------------------------------------------------
    # Dispatch
    # ------------------------------------------------------------------
    def _start_run(self):
        for campaign in self:
            campaign._write_run_state(
                {"run_count": campaign.run_count + 1, "run_in_progress": True, "run_cursor": 0}
            )

    def _finish_run(self):
        today = fields.Date.context_today(self)
        for campaign in self:
            vals = {"run_in_progress": False, "last_run_date": today}
            if campaign.recurrence == "recurring":
                base = max(campaign.next_run_date or today, today - relativedelta(years=1))
                next_date = base + relativedelta(months=campaign.interval_months)
                while next_date <= today:
                    next_date += relativedelta(months=campaign.interval_months)
                vals["next_run_date"] = next_date
            else:
                vals.update(state="done", next_run_date=False)
            campaign._write_run_state(vals)
            # a note for the campaign's responsible, in their language
            staff_env = self.with_context(
                lang=reader_lang(self.env, campaign.user_id, campaign.company_id)
            ).env
            campaign.message_post(
                body=staff_env._("Run %(run)s: invitations sent.", run=campaign.run_count),
            )

    def _dispatch_batch(self, batch_size=BATCH_SIZE, send=True):
        """Invite the next batch of customers of this campaign.

        Starts a run when the campaign is due, finishes it when nobody is left.
        Returns the invitations created (empty when the run is over).
        """
        self.ensure_one()
        today = fields.Date.context_today(self)
        if self.state != "running":
            return self.env["survey.user_input"]
        if not self.run_in_progress:
            if not self.next_run_date or self.next_run_date > today:
                return self.env["survey.user_input"]
            self._start_run()
        partner_ids = self._get_pending_partner_ids(limit=batch_size)
        if not partner_ids:
            self._finish_run()
            return self.env["survey.user_input"]
        invitations = self._create_invitations(self.env["res.partner"].browse(partner_ids))
        self._write_run_state({"run_cursor": max(partner_ids)})
        if send:
            self._send_invitations(invitations)
        return invitations

    def _prepare_invitation_vals(self, partner, deadline=False):
        """Values of the survey answer (invitation) of ``partner``, as the survey's
        ``_create_answer`` would build them, plus the campaign link."""
        self.ensure_one()
        vals = {
            "survey_id": self.survey_id.id,
            "partner_id": partner.id,
            "email": partner.email,
            "nickname": partner.name,
            "deadline": deadline,
            "access_token": str(uuid.uuid4()),
            "vip_campaign_id": self.id,
            "vip_campaign_run": self.run_count,
        }
        if self.survey_id.is_attempts_limited and self.survey_id.access_mode != "public":
            vals["invite_token"] = self.env["survey.user_input"]._generate_invite_token()
        return vals

    def _create_invitations(self, partners):
        """One survey answer (invitation with its own token) per customer.

        Set-based: one INSERT for the batch, with the values ``survey._create_answer``
        gives a new answer (see :meth:`_prepare_invitation_vals`); the ORM path is
        kept for surveys that copy the e-mail or nickname into an answer line.
        """
        self.ensure_one()
        survey = self.survey_id
        UserInput = self.env["survey.user_input"]
        if not partners:
            return UserInput
        # the same checks as survey._create_answer, once for the batch
        survey._check_answer_creation(
            self.env["res.users"], partners[:1], partners[:1].email, check_attempts=False
        )
        deadline = (
            fields.Datetime.now() + timedelta(days=self.answer_days) if self.answer_days else None
        )
        if survey.questions_selection != "all" or survey.question_ids.filtered(
            lambda q: q.save_as_email or q.save_as_nickname
        ):
            vals_list = [self._prepare_invitation_vals(partner, deadline) for partner in partners]
            # sudo: the campaign (and its cron) invites customers; survey answers are
            # otherwise created by survey officers only
            return UserInput.sudo().with_context(tracking_disable=True).create(vals_list)
        self.env["res.partner"].flush_model(["email", "name"])
        now = self.env.cr.now()
        ids = [
            row[0]
            for row in self.env.execute_query(
                SQL(
                    """
                    INSERT INTO survey_user_input (
                        survey_id, partner_id, email, nickname, access_token, invite_token,
                        state, start_datetime, deadline, test_entry, is_session_answer,
                        scoring_percentage, scoring_total, scoring_success,
                        survey_first_submitted, vip_campaign_id, vip_campaign_run,
                        create_uid, write_uid, create_date, write_date)
                    SELECT %(survey)s, p.id, p.email, p.name, gen_random_uuid()::text,
                           CASE WHEN %(limited)s THEN gen_random_uuid()::text END,
                           %(state)s, %(start)s, %(deadline)s, FALSE, %(session)s, 0, 0, FALSE,
                           FALSE, %(campaign)s, %(run)s, %(uid)s, %(uid)s, %(now)s, %(now)s
                      FROM res_partner p
                     WHERE p.id = ANY(%(partners)s)
                     ORDER BY p.id
                    RETURNING id
                    """,
                    survey=survey.id,
                    limited=bool(survey.is_attempts_limited and survey.access_mode != "public"),
                    deadline=deadline,
                    session=survey.session_state in ("ready", "in_progress"),
                    # a session already in progress skips the 'new' state (as _create_answer)
                    state="in_progress" if survey.session_state == "in_progress" else "new",
                    start=now if survey.session_state == "in_progress" else None,
                    campaign=self.id,
                    run=self.run_count,
                    uid=self.env.uid,
                    now=now,
                    partners=partners.ids,
                )
            )
        ]
        # the questions each answer shows, as survey.user_input.create sets them
        questions = survey._prepare_user_input_predefined_questions()
        if ids and questions:
            self.env.cr.execute(
                SQL(
                    """
                    INSERT INTO survey_question_survey_user_input_rel
                                (survey_user_input_id, survey_question_id)
                    SELECT a, q FROM unnest(%s::int[]) a CROSS JOIN unnest(%s::int[]) q
                    """,
                    ids,
                    questions.ids,
                )
            )
        UserInput.invalidate_model(["vip_campaign_id", "predefined_question_ids"])
        self.invalidate_recordset(["user_input_ids"])
        return UserInput.browse(ids)

    def _send_invitations(self, invitations):
        """Mail each invitation with the campaign template (one mass mailing)."""
        self.ensure_one()
        if not invitations or not self.mail_template_id:
            return
        # sudo: the campaign mails customers the campaign user cannot necessarily read
        composer = (
            self.env["mail.compose.message"]
            .sudo()
            .with_context(active_test=False)
            .create(
                {
                    "composition_mode": "mass_mail",
                    "model": "survey.user_input",
                    "res_ids": invitations.ids,
                    "template_id": self.mail_template_id.id,
                    "email_layout_xmlid": "mail.mail_notification_light",
                    "auto_delete": True,
                    "auto_delete_keep_log": False,
                }
            )
        )
        # sudo: the composer runs for the cron as well as for the manager who starts it
        composer._action_send_mail()

    @api.model
    def _cron_dispatch(self):
        """Invite one batch of customers of the first due campaign.

        Odoo calls the cron again (with a commit in between) while ``remaining`` is
        positive, so memory stays bounded whatever the number of customers.
        """
        today = fields.Date.context_today(self)
        campaigns = self.search(
            [
                ("state", "=", "running"),
                "|",
                ("run_in_progress", "=", True),
                ("next_run_date", "<=", today),
            ],
            order="id",
        )
        for campaign in campaigns:
            invitations = campaign._dispatch_batch()
            if invitations:
                remaining = sum(c._count_pending_partners() for c in campaigns) + 1
                self.env["ir.cron"]._notify_progress(done=len(invitations), remaining=remaining)
                _logger.info(
                    "vip.survey.campaign %s: %s invitations sent", campaign.id, len(invitations)
                )
                return
        self.env["ir.cron"]._notify_progress(done=0, remaining=0)
