"""Satisfaction / NPS campaigns: what is asked, of whom, and how they answered.

This file holds the campaign's definition, statistics, rules and guards. Who is
invited, when, and how the invitations are created and mailed (the runs, the
cron) is in ``vip_survey_campaign_dispatch.py``.
"""

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools.safe_eval import safe_eval

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
    _inherit = ["mail.thread", "mail.activity.mixin", "vip.bounds.mixin", "vip.company.guard.mixin"]
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
        # an archived tier stays a target: read without it, the campaign would lose
        # its tier condition and invite every customer with an e-mail
        context={"active_test": False},
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
    # the switch of the former passive follow-up: the task is now the key moment
    # "Passive answer" of the company; a campaign may still keep out of it
    create_passive_activity = fields.Boolean(
        string="Follow-up Task for Passives",
        default=True,
        help="A passive answer to this campaign is a key moment \"Passive answer\": the "
        "active rules of that trigger (VIP > Configuration > Key Moment Rules) give the "
        "account manager a follow-up task. Off: no task for this campaign's passives.",
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

    def _has_targets(self):
        """Target tiers or a customer filter: a campaign without either would
        invite every customer with an e-mail."""
        self.ensure_one()
        return bool(self.tier_ids) or self.partner_domain not in (False, "", "[]")

    @api.constrains("tier_ids", "partner_domain", "state")
    def _check_targets(self):
        # action_start refuses a draft without targets; a started campaign keeps them
        for campaign in self.filtered(lambda c: c.state == "running"):
            if not campaign._has_targets():
                raise ValidationError(
                    self.env._(
                        "Campaign %(campaign)s is running: it needs target tiers or a "
                        "customer filter.",
                        campaign=campaign.display_name,
                    )
                )

    def _get_partner_domain_filter(self):
        """The customer filter as a domain (empty when not set)."""
        self.ensure_one()
        if not self.partner_domain:
            return []
        return safe_eval(self.partner_domain, {"context_today": fields.Date.context_today})

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
