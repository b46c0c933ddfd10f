from odoo import api, fields, models
from odoo.exceptions import ValidationError

# component of the account-manager score -> weight field (see vip.manager.scorecard)
SCORE_WEIGHT_FIELDS = {
    "retention": "vip_score_weight_retention",
    "renewal": "vip_score_weight_renewal",
    "satisfaction": "vip_score_weight_satisfaction",
    "followup": "vip_score_weight_followup",
    "sla": "vip_score_weight_sla",
    "growth": "vip_score_weight_growth",
}


class ResCompany(models.Model):
    _inherit = "res.company"  # pylint: disable=consider-merging-classes-inherited

    vip_score_weight_retention = fields.Integer(
        string="Score Weight: Retention",
        default=25,
        help="Weight of the retention of the account manager's customers in their score.",
        groups="base.group_user",
    )
    vip_score_weight_renewal = fields.Integer(
        string="Score Weight: Renewal",
        default=20,
        help="Weight of the renewal of the account manager's customers in their score.",
        groups="base.group_user",
    )
    vip_score_weight_satisfaction = fields.Integer(
        string="Score Weight: Satisfaction",
        default=20,
        help="Weight of the satisfaction of the account manager's customers in their score.",
        groups="base.group_user",
    )
    vip_score_weight_followup = fields.Integer(
        string="Score Weight: Follow-ups",
        default=15,
        help="Weight of the follow-ups done on time in the account manager's score.",
        groups="base.group_user",
    )
    vip_score_weight_sla = fields.Integer(
        string="Score Weight: SLA",
        default=10,
        help="Weight of the tickets of the account manager's customers solved within their SLA.",
        groups="base.group_user",
    )
    vip_score_weight_growth = fields.Integer(
        string="Score Weight: Spend Growth",
        default=10,
        help="Weight of the spend growth of the account manager's customers in their score.",
        groups="base.group_user",
    )

    @api.model
    def _get_vip_bounds(self):
        return {
            **super()._get_vip_bounds(),
            **dict.fromkeys(SCORE_WEIGHT_FIELDS.values(), (0, 100)),
        }

    @api.constrains(*SCORE_WEIGHT_FIELDS.values())
    def _check_vip_score_weights(self):
        for company in self:
            weights = company._get_vip_score_weights()
            if any(weight < 0 for weight in weights.values()) or not any(weights.values()):
                raise ValidationError(
                    self.env._(
                        "%(company)s: the account-manager score weights must be 0 or more, "
                        "and at least one above 0.",
                        company=company.name,
                    )
                )

    def _get_vip_score_weights(self):
        """``{component: weight}`` of the account-manager score of this company."""
        self.ensure_one()
        return {key: self[fname] for key, fname in SCORE_WEIGHT_FIELDS.items()}
