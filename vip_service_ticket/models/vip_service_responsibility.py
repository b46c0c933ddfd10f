from odoo import api, fields, models


class VipServiceResponsibility(models.Model):
    """Who answers for the cause of a complaint: a department or a person.

    Managers keep the list; a complaint's *Responsibility* step picks one, so the
    analysis can group complaints by it (a free text could not be counted).
    """

    _name = "vip.service.responsibility"
    _inherit = ["vip.company.guard.mixin"]
    _description = "VIP Service Responsibility"
    _order = "sequence, name"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    kind = fields.Selection(
        [("department", "Department"), ("person", "Person")],
        required=True,
        default="department",
    )
    user_id = fields.Many2one(
        "res.users",
        check_company=True,
        domain=[("share", "=", False)],
        help="The person, or the head of the department, who answers for the complaints "
        "assigned to this responsibility.",
    )
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        index=True,
        default=lambda self: self.env.company,
        help="Leave empty to offer it in every company.",
    )
    description = fields.Text(translate=True)
    ticket_count = fields.Integer(string="Complaints", compute="_compute_ticket_count")

    @api.depends_context("allowed_company_ids")
    def _compute_ticket_count(self):
        counts = dict(
            self.env["vip.service.ticket"]._read_group(
                [("responsibility_id", "in", self.ids)], ["responsibility_id"], ["__count"]
            )
        )
        for responsibility in self:
            responsibility.ticket_count = counts.get(responsibility, 0)

    @api.onchange("user_id")
    def _onchange_user_id(self):
        if self.user_id and not self.name:
            self.name = self.user_id.name
