from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    vip_service_ticket_ids = fields.One2many(
        "vip.service.ticket", "commercial_partner_id", string="Service Tickets"
    )
    vip_service_ticket_count = fields.Integer(
        string="Tickets", compute="_compute_vip_service_ticket_count"
    )

    def _compute_vip_service_ticket_count(self):
        counts = dict(
            self.env["vip.service.ticket"]._read_group(
                [("commercial_partner_id", "in", self.commercial_partner_id.ids)],
                ["commercial_partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.vip_service_ticket_count = counts.get(partner.commercial_partner_id, 0)

    def action_view_vip_service_tickets(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_service_ticket.vip_service_ticket_action"
        )
        action["domain"] = [("commercial_partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"default_partner_id": self.id}
        return action
