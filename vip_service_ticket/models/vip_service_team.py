import ast
from collections import Counter

from odoo import api, fields, models
from odoo.exceptions import ValidationError

ASSIGNMENT_METHODS = [
    ("manual", "Manual"),
    ("round_robin", "Round-robin"),
    ("least_open", "Least open tickets"),
]
# open tickets re-planned at a time when a team changes its working hours
REPLAN_BATCH_SIZE = 1000


class VipServiceTeam(models.Model):
    _name = "vip.service.team"
    _description = "VIP Service Team"
    _inherit = ["mail.thread", "mail.alias.mixin", "vip.bounds.mixin", "vip.company.guard.mixin"]
    _order = "sequence, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    color = fields.Integer()
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    leader_id = fields.Many2one(
        "res.users",
        string="Team Leader",
        check_company=True,
        domain=[("share", "=", False)],
        tracking=True,
        help="Receives the tickets of this team that breach their SLA.",
    )
    service_manager_id = fields.Many2one(
        "res.users",
        check_company=True,
        domain=[("share", "=", False)],
        tracking=True,
        help="Notified with the account manager when a breach is not solved in time. "
        "Defaults to the team leader.",
    )
    member_ids = fields.Many2many(
        "res.users",
        "vip_service_team_member_rel",
        "team_id",
        "user_id",
        string="Members",
        check_company=True,
        domain=[("share", "=", False)],
    )
    resource_calendar_id = fields.Many2one(
        "resource.calendar",
        string="Working Hours",
        check_company=True,
        default=lambda self: self.env.company.resource_calendar_id,
        help="SLA targets count the working hours of this calendar, its public holidays "
        "and closures. Without a calendar, the company's is used.",
    )
    assignment_method = fields.Selection(
        ASSIGNMENT_METHODS,
        required=True,
        default="least_open",
        help="New tickets go to the customer's account manager when they are a member of "
        "the team; otherwise to the next member in turn (round-robin), to the member with "
        "the fewest open tickets, or to nobody (manual).",
    )
    last_assigned_user_id = fields.Many2one("res.users", copy=False, readonly=True)
    reopen_days = fields.Integer(
        string="Reopen Window (days)",
        default=7,
        help="A reply of the customer to a ticket closed less than this many days ago reopens "
        "it. 0: replies never reopen.",
    )

    ticket_ids = fields.One2many("vip.service.ticket", "team_id", string="Tickets")
    open_ticket_count = fields.Integer(compute="_compute_ticket_counts")
    unassigned_ticket_count = fields.Integer(compute="_compute_ticket_counts")
    at_risk_ticket_count = fields.Integer(compute="_compute_ticket_counts")
    breached_ticket_count = fields.Integer(compute="_compute_ticket_counts")
    escalated_ticket_count = fields.Integer(compute="_compute_ticket_counts")
    waiting_ticket_count = fields.Integer(compute="_compute_ticket_counts")

    _sql_constraints = [
        (
            "reopen_days_positive",
            "CHECK(reopen_days >= 0)",
            "The reopen window cannot be negative.",
        ),
    ]

    @api.model
    def _get_vip_bounds(self):
        return {"reopen_days": (0, 3650)}

    def _compute_ticket_counts(self):
        Ticket = self.env["vip.service.ticket"]
        # the SLA engine's definitions of open, at risk, breached, waiting
        Sla = self.env["vip.service.sla.engine"]
        base = [("team_id", "in", self.ids), *Sla._get_open_domain()]
        counters = {
            "open_ticket_count": [],
            "unassigned_ticket_count": [("user_id", "=", False)],
            "at_risk_ticket_count": Sla._get_at_risk_domain(),
            "breached_ticket_count": Sla._get_breached_domain(),
            "escalated_ticket_count": [("escalation_level", ">", 0)],
            "waiting_ticket_count": Sla._get_waiting_domain(),
        }
        for fname, domain in counters.items():
            counts = dict(Ticket._read_group(base + domain, ["team_id"], ["__count"]))
            for team in self:
                team[fname] = counts.get(team, 0)

    @api.constrains("leader_id", "member_ids", "assignment_method")
    def _check_members(self):
        for team in self:
            if team.assignment_method != "manual" and not team.member_ids:
                raise ValidationError(
                    self.env._(
                        "Team %(team)s assigns tickets automatically: give it at least one member.",
                        team=team.display_name,
                    )
                )

    # ------------------------------------------------------------------
    # Mail alias
    # ------------------------------------------------------------------
    def _alias_get_creation_values(self):
        values = super()._alias_get_creation_values()
        values["alias_model_id"] = self.env["ir.model"]._get_id("vip.service.ticket")
        if self.id:
            defaults = ast.literal_eval(self.alias_defaults or "{}")
            defaults.update({"team_id": self.id, "company_id": self.company_id.id})
            values["alias_defaults"] = defaults
        return values

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def _action_view_tickets(self, domain, name):
        """The team's open tickets matching ``domain`` (the counters' definitions)."""
        self.ensure_one()
        domain = [*self.env["vip.service.sla.engine"]._get_open_domain(), *domain]
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_service_ticket.vip_service_ticket_action"
        )
        action.update(
            {
                "name": name,
                "domain": [("team_id", "=", self.id), *domain],
                "context": {"default_team_id": self.id},
            }
        )
        return action

    def action_view_open_tickets(self):
        return self._action_view_tickets([], self.env._("Open Tickets of %(team)s", team=self.name))

    def action_view_unassigned_tickets(self):
        return self._action_view_tickets(
            [("user_id", "=", False)], self.env._("Unassigned Tickets")
        )

    def action_view_at_risk_tickets(self):
        return self._action_view_tickets(
            self.env["vip.service.sla.engine"]._get_at_risk_domain(), self.env._("At Risk")
        )

    def action_view_breached_tickets(self):
        return self._action_view_tickets(
            self.env["vip.service.sla.engine"]._get_breached_domain(),
            self.env._("Breached Tickets"),
        )

    def action_view_escalated_tickets(self):
        return self._action_view_tickets(
            [("escalation_level", ">", 0)],
            self.env._("Escalated Tickets"),
        )

    def action_view_waiting_tickets(self):
        return self._action_view_tickets(
            self.env["vip.service.sla.engine"]._get_waiting_domain(),
            self.env._("Waiting for Customer"),
        )

    # ------------------------------------------------------------------
    # Assignment
    # ------------------------------------------------------------------
    def write(self, vals):
        if "resource_calendar_id" not in vals:
            return super().write(vals)
        # the open tickets keep the working time they used on the old hours, and plan
        # what is left on the new ones (see vip.service.ticket._sla_replan)
        for tickets in self._iter_open_sla_tickets():
            tickets._sla_replan()
        result = super().write(vals)
        for tickets in self._iter_open_sla_tickets():
            tickets._sla_compute_deadlines(match=False)
        return result

    def _iter_open_sla_tickets(self, batch_size=None):
        """The open tickets with an SLA of these teams, ``batch_size`` at a time in id
        order (keyset pagination: ``id > last``); each batch is dropped from the cache
        (flushed first) before the next is read, so re-planning a team's tickets holds
        one batch, not every open ticket of the team."""
        Ticket = self.env["vip.service.ticket"]
        domain = [("team_id", "in", self.ids), ("is_closed", "=", False), ("sla_id", "!=", False)]
        last_id = 0
        while True:
            batch = Ticket.search(
                domain + [("id", ">", last_id)], order="id", limit=batch_size or REPLAN_BATCH_SIZE
            )
            if not batch:
                return
            yield batch
            last_id = batch[-1].id
            batch.invalidate_recordset()

    def _get_sla_calendar(self):
        """Calendar the SLA of this team's tickets is counted on (hook)."""
        self.ensure_one()
        return self.resource_calendar_id or self.company_id.resource_calendar_id

    def _assign_tickets(self, tickets):
        """Choose an assignee for each of ``tickets`` (all of this team, none assigned).

        Returns ``{ticket: user}`` (tickets left out stay unassigned). The account manager
        of the customer wins when they are a member; then the team's method applies. Load
        is counted once for the whole batch, so a batch of new tickets is spread evenly.
        """
        self.ensure_one()
        result = {}
        members = self.member_ids.filtered("active").sorted("id")
        if not members:
            return result
        rest = self.env["vip.service.ticket"]
        for ticket in tickets:
            manager = ticket.commercial_partner_id.vip_account_manager_id
            if manager and manager in members:
                result[ticket] = manager
            else:
                rest |= ticket
        if not rest or self.assignment_method == "manual":
            return result
        if self.assignment_method == "round_robin":
            last = self.last_assigned_user_id
            index = members.ids.index(last.id) if last in members else -1
            for ticket in rest:
                index = (index + 1) % len(members)
                result[ticket] = members[index]
            self.sudo().last_assigned_user_id = members[index]  # internal pointer
        else:
            # Everyone's open load, counted once over all teams (sudo: load of colleagues
            # whose tickets the current user may not read).
            load = Counter(
                {
                    user.id: count
                    for user, count in self.env["vip.service.ticket"]
                    .sudo()
                    ._read_group(
                        [("user_id", "in", members.ids), ("is_closed", "=", False)],
                        ["user_id"],
                        ["__count"],
                    )
                }
            )
            for ticket in rest:
                user = min(members, key=lambda member: (load[member.id], member.id))
                load[user.id] += 1
                result[ticket] = user
        return result
