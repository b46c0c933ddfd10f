"""A VIP customer's key moments: the smart button of the customer form, the
"Record Contact" entry and the customers with open key-moment tasks (the
activity view of the board)."""

from odoo import api, fields, models
from odoo.exceptions import UserError

VIP_USER = "vip_customer.group_vip_user"


class ResPartner(models.Model):
    _inherit = "res.partner"

    vip_moment_ids = fields.One2many(
        "vip.moment.occurrence", "partner_id", string="Key Moments", groups=VIP_USER
    )
    vip_moment_count = fields.Integer(
        string="Key Moment Count", compute="_compute_vip_moment_count", groups=VIP_USER
    )
    vip_moment_open_count = fields.Integer(
        string="Open Key Moments", compute="_compute_vip_moment_count", groups=VIP_USER
    )

    def _vip_moment_domain(self):
        """The key moments of this customer and of its contacts (birthdays are
        the people's), as far as the reader may see them."""
        self.ensure_one()
        return [("partner_id", "child_of", self.id)]

    @api.depends_context("uid", "allowed_company_ids")
    def _compute_vip_moment_count(self):
        self.vip_moment_count = self.vip_moment_open_count = 0
        Occurrence = self.env["vip.moment.occurrence"]
        partners = self.filtered("id")
        if not partners or not Occurrence.has_access("read"):
            return
        # one query for the batch: each group's customer is counted for every
        # partner of ``self`` it descends from (a company and its contacts)
        groups = Occurrence._read_group(
            [("partner_id", "child_of", partners.ids)], ["partner_id", "state"], ["__count"]
        )
        for moment_partner, state, count in groups:
            ancestors, node = set(), moment_partner
            while node and node.id not in ancestors:
                ancestors.add(node.id)
                node = node.parent_id
            for partner in partners.filtered(lambda p, a=ancestors: p.id in a):
                partner.vip_moment_count += count
                if state == "open":
                    partner.vip_moment_open_count += count

    def action_vip_view_moments(self):
        """The key moments of this customer (smart button)."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_customer.vip_moment_occurrence_action"
        )
        action["domain"] = self._vip_moment_domain()
        action["view_mode"] = "list,kanban,form,pivot,graph"
        action["views"] = [(False, mode) for mode in action["view_mode"].split(",")]
        action["context"] = {"create": False, "pivot_measures": ["__count__", "completion"]}
        return action

    @api.model
    def _vip_recordable_moments(self, customer):
        """The open key moments of ``customer`` whose contact the current user
        records: their own, or any for a VIP manager."""
        domain = [*customer._vip_moment_domain(), ("state", "=", "open")]
        if not self.env.user.has_group("vip_customer.group_vip_manager"):
            domain.append(("user_id", "=", self.env.user.id))
        return self.env["vip.moment.occurrence"].search(domain, order="date_deadline, id")

    def action_vip_record_contact(self):
        """Record the contact of one of this customer's open key moments."""
        self.ensure_one()
        self.env["vip.moment.occurrence"].check_access("write")
        moments = self._vip_recordable_moments(self)
        if not moments:
            raise UserError(
                self.env._(
                    "%(customer)s has no open key moment assigned to you: there is no contact "
                    "to record.",
                    customer=self.display_name,
                )
            )
        action = moments[0].action_record_visit()
        action["context"] = {
            "default_occurrence_id": moments[0].id,
            "default_customer_id": self.id,
            "vip_choose_moment": len(moments) > 1,
        }
        return action
