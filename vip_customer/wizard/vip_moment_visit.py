from odoo import api, fields, models
from odoo.exceptions import UserError


class VipMomentVisit(models.TransientModel):
    """Record the contact of a key moment: reached or not, what the customer
    said, the needs raised and the next step. Processes the task and notes the
    contact on the customer's timeline."""

    _name = "vip.moment.visit"
    _description = "VIP Key Moment: Record the Contact"

    occurrence_id = fields.Many2one(
        "vip.moment.occurrence",
        string="Key Moment",
        required=True,
        ondelete="cascade",
        domain="[('id', 'in', occurrence_choice_ids)]",
    )
    # opened from the customer (Record Contact): the moments to choose from
    customer_id = fields.Many2one("res.partner", string="For Customer", readonly=True)
    occurrence_choice_ids = fields.Many2many(
        "vip.moment.occurrence", compute="_compute_occurrence_choice_ids"
    )
    partner_id = fields.Many2one(related="occurrence_id.partner_id")
    outcome = fields.Selection(
        [("reached", "Reached"), ("not_reached", "Not reached")],
        required=True,
        default="reached",
    )
    feedback = fields.Text()
    needs = fields.Text(string="Needs Raised")
    next_step = fields.Text()

    @api.depends("customer_id", "occurrence_id")
    def _compute_occurrence_choice_ids(self):
        for wizard in self:
            choices = wizard.occurrence_id
            if wizard.customer_id:
                choices |= self.env["res.partner"]._vip_recordable_moments(wizard.customer_id)
            wizard.occurrence_choice_ids = choices

    @api.model_create_multi
    def create(self, vals_list):
        wizards = super().create(vals_list)
        for wizard in wizards:
            # the caller must be allowed to record this moment's visit
            wizard.occurrence_id.check_access("write")
            wizard.occurrence_id._check_visit_writer()
        return wizards

    def action_record(self):
        self.ensure_one()
        occurrence = self.occurrence_id
        if occurrence.state != "open":
            raise UserError(
                self.env._(
                    "%(moment)s is already %(state)s: its contact was recorded.",
                    moment=occurrence.display_name,
                    state=dict(occurrence._fields["state"]._description_selection(self.env))[
                        occurrence.state
                    ],
                )
            )
        occurrence._record_visit(
            {
                "outcome": self.outcome,
                "feedback": self.feedback or False,
                "needs": self.needs or False,
                "next_step": self.next_step or False,
            }
        )
        return {"type": "ir.actions.act_window_close"}
