from odoo import models
from odoo.exceptions import UserError


class VipMomentVisit(models.TransientModel):
    _inherit = "vip.moment.visit"

    def action_record_open_ticket(self):
        """Record the contact and open a service ticket for the needs raised, in one
        click (the assignee or a VIP manager: see ``action_open_ticket``)."""
        self.ensure_one()
        if not (self.needs or "").strip():
            raise UserError(
                self.env._("Needs Raised: write the customer's needs to open a ticket for them.")
            )
        self.action_record()
        return self.occurrence_id.action_open_ticket()
