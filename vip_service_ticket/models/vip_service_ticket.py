"""VIP service tickets: the record, its life cycle, mail gateway and complaint loop.

Split by concern over files of the same model: the SLA fields and guards in
``vip_service_ticket_sla.py`` (the work in ``vip.service.sla.engine`` and
``vip.service.escalation.engine``), the mail gateway in ``vip_service_ticket_mail.py``,
the complaint loop in ``vip_service_ticket_steps.py`` and its rules in
``vip_service_ticket_complaint_rules.py``.
"""

import re
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL, is_html_empty

from .vip_service_sla import PRIORITIES

# control characters nobody types (NUL cannot even be stored by PostgreSQL);
# newline, carriage return and tab are text
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

CHANNELS = [
    ("phone", "Phone"),
    ("email", "Email"),
    ("portal", "Portal"),
    ("chat", "Chat"),
    ("visit", "Visit"),
]
COMPLAINT_STEPS = [
    ("intake", "Intake"),
    ("verification", "Verification"),
    ("responsibility", "Responsibility Assigned"),
    ("solution", "Solution"),
    ("progress", "Progress Updates"),
    ("result", "Result"),
    ("follow_up", "Follow-up Visit"),
    ("confirmed", "Satisfaction Confirmed"),
]


class VipServiceTicket(models.Model):
    _name = "vip.service.ticket"
    _description = "VIP Service Ticket"
    _inherit = [
        "portal.mixin",
        "mail.thread.cc",
        "mail.activity.mixin",
        "rating.mixin",
        "vip.bounds.mixin",
    ]
    _order = "priority desc, id desc"
    _rec_names_search = ["number", "name"]
    _check_company_auto = True
    _primary_email = "email_from"
    _mail_post_access = "read"

    # ------------------------------------------------------------------
    # Defaults
    # ------------------------------------------------------------------
    def _default_stage_id(self):
        return self.env["vip.service.stage"].search([("fold", "=", False)], limit=1)

    def _default_team_id(self):
        company = self.env.company
        domain = [("company_id", "=", company.id)]
        return self.env["vip.service.team"].search(
            domain + [("member_ids", "in", self.env.uid)], limit=1
        ) or self.env["vip.service.team"].search(domain, limit=1)

    # ------------------------------------------------------------------
    # Fields
    # ------------------------------------------------------------------
    number = fields.Char(
        string="Ticket Number",
        required=True,
        readonly=True,
        copy=False,
        index="trigram",
        default=lambda self: self.env._("New"),
    )
    name = fields.Char(string="Subject", required=True, tracking=True)
    description = fields.Html()
    active = fields.Boolean(default=True)
    color = fields.Integer()
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        index=True,
        tracking=True,
        check_company=True,
        help="The contact who reported the ticket; their company is the customer account.",
    )
    commercial_partner_id = fields.Many2one(
        related="partner_id.commercial_partner_id",
        string="Customer Account",
        store=True,
        index=True,
    )
    email_from = fields.Char(
        string="Email",
        compute="_compute_email_from",
        store=True,
        readonly=False,
        help="Address of the customer, kept for tickets from senders not yet in the contacts.",
    )
    partner_phone = fields.Char(related="partner_id.phone", string="Phone")
    vip_tier_id = fields.Many2one(
        "vip.tier",
        string="VIP Tier",
        compute="_compute_vip_tier_id",
        store=True,
        index=True,
        help="Tier of the customer when the ticket was opened: later tier changes "
        "do not change the service promised on this ticket.",
    )
    # the badge colour of the tier, as on the customer lists
    vip_tier_level = fields.Integer(related="vip_tier_id.level", string="VIP Level")
    account_manager_id = fields.Many2one(
        related="commercial_partner_id.vip_account_manager_id", string="Account Manager"
    )
    channel = fields.Selection(CHANNELS, required=True, default="phone", tracking=True)
    category_id = fields.Many2one("vip.service.category", tracking=True)
    is_complaint = fields.Boolean(related="category_id.is_complaint", store=True)
    tag_ids = fields.Many2many("vip.service.tag", string="Tags")
    team_id = fields.Many2one(
        "vip.service.team",
        index=True,
        tracking=True,
        check_company=True,
        default=lambda self: self._default_team_id(),
    )
    user_id = fields.Many2one(
        "res.users",
        string="Assigned To",
        index=True,
        tracking=True,
        check_company=True,
        domain=[("share", "=", False)],
    )
    stage_id = fields.Many2one(
        "vip.service.stage",
        required=True,
        index=True,
        tracking=True,
        copy=False,
        ondelete="restrict",
        group_expand="_read_group_stage_ids",
        default=lambda self: self._default_stage_id(),
    )
    is_closed = fields.Boolean(related="stage_id.fold", string="Closed", store=True, index=True)
    priority = fields.Selection(PRIORITIES, default="1", required=True, index=True, tracking=True)
    root_cause_id = fields.Many2one("vip.service.root.cause", tracking=True)
    solution = fields.Html()
    # complaint_step and the loop: vip_service_ticket_steps.py
    close_date = fields.Datetime(string="Closed On", readonly=True, copy=False, index=True)
    reopen_count = fields.Integer(string="Reopened", readonly=True, copy=False)
    last_reopen_date = fields.Datetime(string="Last Reopened On", readonly=True, copy=False)
    assignment_ids = fields.One2many(
        "vip.service.ticket.assignment", "ticket_id", string="Assignment History"
    )
    # set by vip.moment.occurrence.action_open_ticket only (refused to users, see
    # SERVER_DERIVED_FIELDS); VIP users only: service agents may not read key moments
    vip_moment_occurrence_id = fields.Many2one(
        "vip.moment.occurrence",
        string="Key Moment",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        groups="vip_customer.group_vip_user",
        help="The contact of a key moment in which the customer raised this need.",
    )

    _sql_constraints = [
        (
            "number_company_uniq",
            "unique(number, company_id)",
            "Ticket numbers are unique per company.",
        ),
    ]

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------
    @api.depends("partner_id")
    def _compute_email_from(self):
        for ticket in self:
            if ticket.partner_id.email:
                ticket.email_from = ticket.partner_id.email

    @api.depends("partner_id")
    def _compute_vip_tier_id(self):
        # depends on the customer only: a later tier change of the customer leaves the
        # ticket's tier (and SLA) alone
        for ticket in self:
            ticket.vip_tier_id = ticket.partner_id.commercial_partner_id.vip_tier_id

    def _compute_access_url(self):
        result = super()._compute_access_url()
        for ticket in self:
            ticket.access_url = f"/my/tickets/{ticket.id}"
        return result

    @api.depends("number", "name")
    def _compute_display_name(self):
        for ticket in self:
            ticket.display_name = (
                f"{ticket.number} {ticket.name}" if ticket.id and ticket.name else ticket.name or ""
            )

    @api.model
    def _read_group_stage_ids(self, stages, domain):
        return stages.search([("active", "=", True)])

    # ------------------------------------------------------------------
    # Constraints
    # ------------------------------------------------------------------
    @api.constrains("stage_id", "root_cause_id", "solution", "category_id")
    def _check_complaint_closing(self):
        for ticket in self:
            if not (ticket.is_closed and ticket.is_complaint):
                continue
            missing = [
                label
                for fname, label in (
                    ("root_cause_id", self.env._("Root Cause")),
                    ("solution", self.env._("Solution")),
                )
                if (is_html_empty(ticket.solution) if fname == "solution" else not ticket[fname])
            ]
            if missing:
                raise ValidationError(
                    self.env._(
                        "Complaint %(ticket)s cannot be solved or closed yet: fill in "
                        "%(fields)s on the Resolution tab first, then choose %(stage)s again.",
                        ticket=ticket.display_name,
                        fields=self.env._(" and ").join(missing),
                        stage=ticket.stage_id.name,
                    )
                )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model
    def _prepare_ticket_vals(self, partner, category=None, **values):
        """Values to create a ticket for ``partner`` (the entry point of other modules).

        ``category`` is a ``vip.service.category`` record or an xml id; ``values``
        override anything (``name``, ``description``, ``user_id``, ``team_id``...).
        The tier, SLA, deadlines and assignee follow on create.

        vip_survey creates its recovery tickets with::

            Ticket.create(Ticket._prepare_ticket_vals(
                partner, "vip_service_ticket.vip_service_category_complaint",
                name=..., description=..., channel="visit",
                user_id=partner.commercial_partner_id.vip_account_manager_id.id))
        """
        if isinstance(category, str):
            category = self.env.ref(category)
        company = (
            self.env["res.company"].browse(values["company_id"])
            if values.get("company_id")
            else partner.company_id
            or partner.commercial_partner_id.vip_company_id
            or self.env.company
        )
        vals = {
            "partner_id": partner.id,
            "company_id": company.id,
            "name": self.env._("Request of %(customer)s", customer=partner.display_name),
        }
        if category:
            vals["category_id"] = category.id
            if category.is_complaint:
                vals["complaint_step"] = "intake"
        team = self.with_company(company)._default_team_id()
        if team:
            vals["team_id"] = team.id
        vals.update(values)
        return vals

    @api.model
    def _vip_clean_text(self, vals):
        """``vals`` without control characters in its texts: a NUL pasted in a
        subject over RPC, the mail gateway or the portal is dropped, not a 500."""
        cleaned = {}
        for fname, value in vals.items():
            field = self._fields.get(fname)
            if (
                isinstance(value, str)
                and field is not None
                and field.type in ("char", "text", "html")
                and CONTROL_CHARS.search(value)
            ):
                value = type(value)(CONTROL_CHARS.sub("", value))
            cleaned[fname] = value
        return cleaned

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [self._vip_clean_text(vals) for vals in vals_list]
        categories = self.env["vip.service.category"].browse(
            [vals["category_id"] for vals in vals_list if vals.get("category_id")]
        )
        complaint_ids = set(categories.filtered("is_complaint").ids)
        for vals in vals_list:
            company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
            if not vals.get("number") or vals["number"] == self.env._("New"):
                vals["number"] = (
                    self.env["ir.sequence"].with_company(company).next_by_code("vip.service.ticket")
                    or "/"
                )
            if vals.get("category_id") in complaint_ids and not vals.get("complaint_step"):
                vals["complaint_step"] = "intake"
        tickets = super().create(vals_list)
        tickets._assign_new_tickets()
        tickets._sla_on_create()
        for ticket in tickets.filtered("partner_id"):
            if ticket.partner_id not in ticket.message_partner_ids:
                ticket.message_subscribe(partner_ids=ticket.partner_id.ids)
        return tickets

    def write(self, vals):
        vals = self._vip_clean_text(vals)
        old_users, old_teams = {}, {}
        if "user_id" in vals or "team_id" in vals:
            old_users = {ticket: ticket.user_id for ticket in self}
            old_teams = {ticket: ticket.team_id for ticket in self}
        old_stages = {ticket: ticket.stage_id for ticket in self} if "stage_id" in vals else {}
        if vals.get("category_id"):
            category = self.env["vip.service.category"].browse(vals["category_id"])
            if category.is_complaint and "complaint_step" not in vals:
                starting = self.filtered(lambda t: not t.complaint_step)
                if starting:
                    super(VipServiceTicket, starting).write({"complaint_step": "intake"})
        result = super().write(vals)
        if old_users:
            self._log_assignments(
                old_users, kind=self.env.context.get("vip_assignment_kind"), old_teams=old_teams
            )
        if old_stages:
            self._on_stage_change(old_stages)
        self._sla_on_write(vals)
        return result

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_assign_to_me(self):
        self.with_context(vip_assignment_kind="manual").write({"user_id": self.env.uid})
        return True

    def action_open_reassign_wizard(self):
        # the wizard's rights decide (customers on the portal have none)
        self.env["vip.service.ticket.reassign"].check_access("create")
        self.check_access("write")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_service_ticket.vip_service_ticket_reassign_action"
        )
        action["context"] = {"active_model": self._name, "active_ids": self.ids}
        return action

    def action_view_moment(self):
        """The key moment (visit record) this ticket was opened from."""
        self.ensure_one()
        moment = self.vip_moment_occurrence_id
        moment.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "res_model": "vip.moment.occurrence",
            "res_id": moment.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    def action_view_assignments(self):
        self.ensure_one()
        self.env["vip.service.ticket.assignment"].check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_service_ticket.vip_service_ticket_assignment_action"
        )
        action["domain"] = [("ticket_id", "=", self.id)]
        action["context"] = {}
        return action

    # ------------------------------------------------------------------
    # Assignment
    # ------------------------------------------------------------------
    def _assign_new_tickets(self):
        """Give new tickets without assignee one, by their team's rule (set-based per team)."""
        by_team = defaultdict(self.browse)
        for ticket in self.filtered(lambda t: t.team_id and not t.user_id):
            by_team[ticket.team_id] |= ticket
        by_user = defaultdict(self.browse)
        for team, tickets in by_team.items():
            for ticket, user in team._assign_tickets(tickets).items():
                by_user[user] |= ticket
        for user, tickets in by_user.items():
            tickets.with_context(vip_assignment_kind="auto").write({"user_id": user.id})
        for ticket in self.filtered(lambda t: t.user_id and not t.assignment_ids):
            # assigned in the create values: history starts there
            ticket._log_assignments({ticket: self.env["res.users"]}, kind="manual")

    def _log_assignments(self, old_users, kind=None, reason=None, old_teams=None):
        """History rows for the tickets whose assignee or team changed (one batch create).

        The one writer of the assignment history: ``write`` calls it whoever changes
        ``user_id`` or ``team_id`` (a person, the transfer wizard, the automatic
        assignment, the escalation ladder through its grouped ``write``), the kind and
        reason coming from the context (``vip_assignment_kind``/``_reason``).

        :param old_users: ``{ticket: assignee before}``
        :param old_teams: ``{ticket: team before}`` (unchanged when not given)
        """
        reason = reason or self.env.context.get("vip_assignment_reason")
        old_teams = old_teams or {}
        vals_list = [
            {
                "ticket_id": ticket.id,
                "from_user_id": old.id,
                "to_user_id": ticket.user_id.id,
                "from_team_id": old_teams.get(ticket, ticket.team_id).id,
                "to_team_id": ticket.team_id.id,
                "kind": kind or "manual",
                "reason": reason,
                "company_id": ticket.company_id.id,
            }
            for ticket, old in old_users.items()
            if old != ticket.user_id or old_teams.get(ticket, ticket.team_id) != ticket.team_id
        ]
        if vals_list:
            # sudo: the history is written by the system on every reassignment, whoever
            # reassigns (its ACL is read-only for users)
            self.env["vip.service.ticket.assignment"].sudo().create(vals_list)

    # ------------------------------------------------------------------
    # Life cycle
    # ------------------------------------------------------------------
    def _get_reopen_stage(self):
        """Stage a reopened ticket, or a waiting ticket the customer answered, goes to."""
        stage = self.env.ref("vip_service_ticket.vip_service_stage_in_progress", False)
        if stage and stage.active and not stage.fold and not stage.pause_sla:
            return stage
        return self.env["vip.service.stage"].search(
            [("fold", "=", False), ("pause_sla", "=", False)], limit=1
        )

    def _on_stage_change(self, old_stages):
        """Pause, resume, close and reopen the tickets whose stage changed."""
        now = fields.Datetime.now()
        moved = self.filtered(lambda t: old_stages[t] != t.stage_id)
        resumed = moved.filtered(lambda t: t.sla_paused_since and not t.stage_id.pause_sla)
        resumed._sla_resume(now)
        paused = moved.filtered(
            lambda t: t.stage_id.pause_sla and not t.sla_paused_since and not t.is_closed
        )
        if paused:
            # sudo: the SLA clock is the server's (refused to users in write)
            paused.sudo().write({"sla_paused_since": now})
            paused._sla_schedule_escalations()
        closed = moved.filtered(lambda t: t.is_closed and not old_stages[t].fold)
        reopened = moved.filtered(lambda t: not t.is_closed and old_stages[t].fold)
        if closed:
            closed._on_close(now)
        if reopened:
            reopened._on_reopen(now)

    def _on_close(self, now):
        """Closing: SLA results, rating request, the key moments of the closing (the
        account manager's follow-up call is the built-in "ticket closed" rule)."""
        self._sla_on_close(now)
        self._send_rating_request()
        self._vip_signal_moments(["ticket_closed", "complaint_closed", "sla_breached"])

    def _on_reopen(self, now):
        # one write per reopen count, not per ticket
        for count, tickets in self.grouped("reopen_count").items():
            # sudo: reopening data is derived by the server (refused to users in write)
            tickets.sudo().write(
                {
                    "close_date": False,
                    "reopen_count": count + 1,
                    "last_reopen_date": now,
                    "sla_met": False,
                }
            )
        self._sla_schedule_escalations()

    def _send_rating_request(self):
        for ticket in self:
            template = ticket.stage_id.rating_template_id
            partner = ticket._rating_get_partner()
            if template and partner and partner != self.env.user.partner_id:
                ticket.rating_send_request(template, lang=partner.lang, force_send=False)

    @api.model
    def _get_rating_satisfaction_query(self):
        """The customers' ratings of tickets on the satisfaction scale (0-100), as SQL.

        One definition of "a ticket rating's satisfaction", read by the program KPIs
        (``vip.kpi.engine._get_satisfaction_sources``) and by vip_survey's satisfaction
        history: a rating the customer gave (consumed, 1-5 smileys) times 20, dated when
        it was given, for the ticket's customer account and company. Columns:
        ``rating_id, ticket_id, company_id, partner_id, date, satisfaction``.
        """
        return SQL(
            """
            SELECT r.id AS rating_id,
                   t.id AS ticket_id,
                   t.company_id AS company_id,
                   t.commercial_partner_id AS partner_id,
                   COALESCE(r.write_date, r.create_date)::date AS date,
                   (r.rating * 20.0)::float AS satisfaction
              FROM rating_rating r
              JOIN vip_service_ticket t ON t.id = r.res_id
             WHERE r.res_model = 'vip.service.ticket'
               AND r.consumed
               AND r.rating > 0
            """
        )

    def _vip_signal_moments(self, trigger_types):
        """Run the key-moment rules of ``trigger_types`` for the customers of these
        tickets now (the task comes at once; the nightly run catches what a signal
        missed)."""
        partners = self.sudo().commercial_partner_id
        if partners:
            self.env["vip.moment.engine"]._signal(trigger_types, partners)
        return True
