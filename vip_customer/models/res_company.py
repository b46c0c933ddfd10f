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

    # Program KPI targets (see vip.kpi.period): a rate at or above its target is on target.
    vip_target_retention = fields.Float(
        string="Retention Target (%)",
        default=90.0,
        help="Share of the VIP customers at the start of a period still VIP at its end.",
        groups="base.group_user",
    )
    vip_target_renewal = fields.Float(
        string="Renewal Target (%)",
        default=90.0,
        help="Share of the VIP customers at the start of a period who buy again in it.",
        groups="base.group_user",
    )
    vip_target_repeat = fields.Float(
        string="Repeat Purchase Target (%)",
        default=50.0,
        help="Share of the VIP customers who bought in a period who bought twice or more.",
        groups="base.group_user",
    )
    vip_target_satisfaction = fields.Float(
        string="Satisfaction Target", default=85.0, groups="base.group_user"
    )
    vip_target_nps = fields.Float(string="NPS Target", default=0.0, groups="base.group_user")
    vip_kpi_retention_tier_id = fields.Many2one(
        "vip.tier",
        string="Retention From Tier",
        help="Retention counts the customers at or above this tier at the start of a period "
        "who are still at or above it at the end. Empty: any VIP tier.",
        domain="[('company_id', '=', id)]",
        groups="base.group_user",
    )
    # State of the KPI cron (see vip_kpi_engine.py): the day the current
    # periods were last computed, and the start of the next past month to
    # recompute when a history recomputation was asked for (empty: none).
    vip_kpi_date = fields.Date(string="Last KPI Run", copy=False, groups="base.group_user")
    vip_kpi_history_cursor = fields.Date(copy=False, groups="base.group_user")

    @api.model
    def _get_vip_bounds(self):
        return {
            "vip_window_months": (1, 120),
            "vip_churn_medium_threshold": (1, 100),
            "vip_churn_high_threshold": (1, 100),
            "vip_followup_lead_days": (0, 365),
            "vip_target_retention": (0, 100),
            "vip_target_renewal": (0, 100),
            "vip_target_repeat": (0, 100),
            "vip_target_satisfaction": (0, 100),
            "vip_target_nps": (-100, 100),
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

    @api.constrains("vip_kpi_retention_tier_id")
    def _check_vip_kpi_retention_tier_id(self):
        for company in self:
            tier = company.vip_kpi_retention_tier_id
            if tier and tier.company_id != company:
                raise ValidationError(
                    self.env._(
                        "%(company)s: the retention tier %(tier)s belongs to another company.",
                        company=company.name,
                        tier=tier.display_name,
                    )
                )
