from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _name = "res.company"
    _inherit = ["res.company", "vip.bounds.mixin"]

    vip_window_months = fields.Integer(
        string="VIP Metrics Window (months)",
        default=12,
        help="Rolling window of the spend and purchase metrics shown on customers "
        "and compared with the previous window for churn risk.",
        groups="base.group_user",
    )
    vip_spend_basis = fields.Selection(
        [("untaxed", "Untaxed amount"), ("total", "Total amount")],
        string="VIP Spend Basis",
        default="untaxed",
        required=True,
        groups="base.group_user",
    )
    vip_churn_medium_threshold = fields.Integer(
        string="Churn Risk: Medium From", default=40, groups="base.group_user"
    )
    vip_churn_high_threshold = fields.Integer(
        string="Churn Risk: High From", default=70, groups="base.group_user"
    )
    vip_followup_lead_days = fields.Integer(
        string="Follow-up Lead Time (days)",
        default=7,
        help="Follow-up activities are scheduled this many days before they are due.",
        groups="base.group_user",
    )
    # Keyset cursor of the nightly tier run (one batch per cron call, see
    # vip_tier_engine_cron.py): the day of the run and the commercial partner
    # id evaluated last (0 once that day's run is complete), so each call goes
    # on where the previous one stopped.
    vip_recompute_cursor = fields.Integer(copy=False, groups="base.group_user")
    vip_recompute_date = fields.Date(
        string="Last VIP Tier Run", copy=False, groups="base.group_user"
    )

    @api.model
    def _get_vip_bounds(self):
        return {
            "vip_window_months": (1, 120),
            "vip_churn_medium_threshold": (1, 100),
            "vip_churn_high_threshold": (1, 100),
            "vip_followup_lead_days": (0, 365),
        }

    @api.constrains(
        "vip_window_months",
        "vip_churn_medium_threshold",
        "vip_churn_high_threshold",
        "vip_followup_lead_days",
    )
    def _check_vip_settings(self):
        for company in self:
            if company.vip_window_months < 1:
                raise ValidationError(
                    self.env._(
                        "%(company)s: the VIP metrics window must be at least one month.",
                        company=company.name,
                    )
                )
            if not (
                0 < company.vip_churn_medium_threshold < company.vip_churn_high_threshold <= 100
            ):
                raise ValidationError(
                    self.env._(
                        "%(company)s: churn risk levels must satisfy 0 < medium < high <= 100.",
                        company=company.name,
                    )
                )
            if company.vip_followup_lead_days < 0:
                raise ValidationError(
                    self.env._(
                        "%(company)s: the follow-up lead time cannot be negative.",
                        company=company.name,
                    )
                )
