from odoo import fields, models

from .vip_survey_campaign import NPS_CLASSES


class ResPartner(models.Model):
    _inherit = "res.partner"

    vip_survey_opt_out = fields.Boolean(
        string="No Satisfaction Surveys",
        help="Never invite this customer to satisfaction surveys.",
    )
    vip_nps_score = fields.Integer(string="Last NPS", readonly=True, copy=False)
    vip_nps_date = fields.Date(string="Last NPS Date", readonly=True, copy=False)
    vip_nps_class = fields.Selection(NPS_CLASSES, string="NPS Class", readonly=True, copy=False)
    vip_satisfaction_score = fields.Float(
        string="Satisfaction (/100)",
        readonly=True,
        copy=False,
        help="Satisfaction score of the customer's last completed survey, out of 100.",
    )
    vip_satisfaction_count = fields.Integer(
        string="Satisfaction", compute="_compute_vip_satisfaction_count"
    )

    def _compute_vip_satisfaction_count(self):
        Report = self.env["vip.satisfaction.report"]
        if not Report.has_access("read"):
            self.vip_satisfaction_count = 0
            return
        counts = dict(
            Report._read_group(
                [
                    ("partner_id", "in", self.commercial_partner_id.ids),
                    ("state", "=", "done"),
                ],
                ["partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.vip_satisfaction_count = counts.get(partner.commercial_partner_id, 0)

    def action_view_vip_satisfaction(self):
        """Satisfaction history of the customer: survey answers and ticket ratings."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_survey.vip_satisfaction_report_action_partner"
        )
        action["domain"] = [
            ("partner_id", "=", self.commercial_partner_id.id),
            ("state", "=", "done"),
        ]
        action["display_name"] = self.env._(
            "Satisfaction of %(customer)s", customer=self.commercial_partner_id.display_name
        )
        return action
