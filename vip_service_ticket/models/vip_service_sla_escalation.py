from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .vip_service_sla import MAX_WORK_HOURS

TRIGGERS = [
    ("warning", "Warning (share of the budget used)"),
    ("breach", "Breach"),
    ("breach_delay", "Breach + delay"),
]
ACTIONS = [
    ("notify_assignee", "Notify the assignee"),
    ("reassign_leader", "Reassign to the team leader and raise the priority"),
    ("notify_managers", "Notify the account manager and the service manager"),
]
DEADLINE_TYPES = [("first_response", "First response"), ("resolution", "Resolution")]


class VipServiceSlaEscalation(models.Model):
    _name = "vip.service.sla.escalation"
    _inherit = ["vip.bounds.mixin"]
    _description = "VIP Service SLA Escalation Step"
    _order = "sla_id, level, sequence, id"

    sla_id = fields.Many2one("vip.service.sla", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="sla_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    level = fields.Integer(
        required=True, default=1, help="Escalation level the ticket reaches with this step."
    )
    deadline_type = fields.Selection(
        DEADLINE_TYPES,
        string="Deadline",
        required=True,
        default="resolution",
        help="The SLA target this step watches. First-response steps stop once staff replied.",
    )
    trigger = fields.Selection(TRIGGERS, required=True, default="breach")
    delay_hours = fields.Float(
        string="Delay (working hours)",
        help="For 'Breach + delay': working hours after the deadline at which the step fires.",
    )
    action = fields.Selection(ACTIONS, required=True, default="notify_assignee")
    name = fields.Char(compute="_compute_name", store=True, readonly=False)

    _sql_constraints = [
        ("level_positive", "CHECK(level > 0)", "The escalation level must be positive."),
        ("delay_positive", "CHECK(delay_hours >= 0)", "The delay cannot be negative."),
    ]

    @api.model
    def _get_vip_bounds(self):
        return {"delay_hours": (0, MAX_WORK_HOURS), "level": (1, 1000)}

    @api.depends("trigger", "deadline_type", "delay_hours", "action")
    def _compute_name(self):
        for step in self:
            step.name = self._get_default_name(step.deadline_type, step.trigger, step.delay_hours)

    @api.model
    def _get_default_name(self, deadline_type, trigger, delay_hours):
        """The name a step gets from its deadline and trigger, in the current language."""
        triggers = dict(self._fields["trigger"]._description_selection(self.env))
        deadlines = dict(self._fields["deadline_type"]._description_selection(self.env))
        if trigger == "breach_delay":
            return self.env._(
                "%(deadline)s breached + %(hours)s h",
                deadline=deadlines.get(deadline_type, ""),
                hours=format(delay_hours or 0, "g"),
            )
        return f"{deadlines.get(deadline_type, '')}: {triggers.get(trigger, '')}"

    @api.model
    def _get_name_in_lang(self, step, lang):
        """``step`` (a row of the step's columns) named for a reader of ``lang``: the name
        built from its deadline and trigger in that language, unless an admin named the
        step (a name that is none of the built ones in the installed languages).

        Memoised on the cursor: a run names the same few steps for many tickets."""
        key = (step["deadline_type"], step["trigger"], step["delay_hours"], step["name"], lang)
        memo = self.env.cr.cache.setdefault("vip_service_step_names", {})
        if key not in memo:
            memo[key] = self._build_name_in_lang(step, lang)
        return memo[key]

    @api.model
    def _build_name_in_lang(self, step, lang):
        built = {
            code: self.with_context(lang=code)._get_default_name(
                step["deadline_type"], step["trigger"], step["delay_hours"]
            )
            for code, _name in self.env["res.lang"].get_installed()
        }
        if step["name"] and step["name"] not in built.values():
            return step["name"]
        return built.get(lang) or self.with_context(lang=lang)._get_default_name(
            step["deadline_type"], step["trigger"], step["delay_hours"]
        )

    @api.constrains("trigger", "delay_hours")
    def _check_delay(self):
        for step in self:
            if step.trigger == "breach_delay" and not step.delay_hours:
                raise ValidationError(
                    self.env._(
                        "SLA %(sla)s, level %(level)s: a 'Breach + delay' step needs a delay.",
                        sla=step.sla_id.display_name,
                        level=step.level,
                    )
                )
