from odoo import api, fields, models
from odoo.exceptions import AccessError

from .vip_survey_campaign import NPS_CLASSES

# Written by the survey completion hook only (as superuser, after its own checks).
DERIVED_FIELDS = {"vip_nps_score", "vip_nps_date", "vip_nps_class", "vip_satisfaction_score"}


class ResPartner(models.Model):
    _inherit = "res.partner"

    # internal analytics: never readable by the customer's own portal user
    vip_survey_opt_out = fields.Boolean(
        string="No Satisfaction Surveys",
        groups="base.group_user",
        help="Never invite this customer to satisfaction surveys.",
    )
    vip_nps_score = fields.Integer(
        string="Last NPS", readonly=True, copy=False, groups="vip_customer.group_vip_user"
    )
    vip_nps_date = fields.Date(
        string="Last NPS Date", readonly=True, copy=False, groups="vip_customer.group_vip_user"
    )
    vip_nps_class = fields.Selection(
        NPS_CLASSES,
        string="NPS Class",
        readonly=True,
        copy=False,
        groups="vip_customer.group_vip_user",
    )
    vip_satisfaction_score = fields.Float(
        string="Satisfaction (/100)",
        readonly=True,
        copy=False,
        groups="vip_customer.group_vip_user",
        help="Satisfaction score of the customer's last completed survey, out of 100.",
    )
    vip_satisfaction_count = fields.Integer(
        string="Satisfaction",
        compute="_compute_vip_satisfaction_count",
        groups="vip_survey.group_vip_survey_user",
    )

    @api.depends_context("uid")  # the count follows the user's access to the analysis
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

    @api.model
    def fields_get(self, allfields=None, attributes=None):
        result = super().fields_get(allfields, attributes)
        if self.env.context.get("vip_survey_merge"):
            # the contact merge copies the fields it is given: these ones it must not
            # (see base.partner.merge.automatic.wizard._update_values)
            for fname in DERIVED_FIELDS:
                result.pop(fname, None)
        return result

    @api.model_create_multi
    def create(self, vals_list):
        self._vip_check_survey_fields({key for vals in vals_list for key in vals})
        return super().create(vals_list)

    def write(self, vals):
        self._vip_check_survey_fields(vals.keys())
        return super().write(vals)

    def _vip_check_survey_fields(self, fnames):
        """The last NPS and satisfaction come from the customer's own answers: refused
        to everyone in create/write (a read-only field in a view protects nothing)."""
        derived = DERIVED_FIELDS & set(fnames)
        if derived and not self.env.su:
            raise AccessError(
                self.env._(
                    "The fields %(fields)s of a customer come from their survey answers and "
                    "cannot be written.",
                    fields=", ".join(
                        sorted(self._fields[f]._description_string(self.env) for f in derived)
                    ),
                )
            )

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
