from odoo import fields, models

from .vip_kpi_fact import PERIOD_TYPES


class VipKpiPeriod(models.Model):
    """The program KPIs of one company in one period, against its targets.

    Refreshed by ``vip.kpi.engine`` right after the facts of the period; the
    figures are averages and sums of ``vip.kpi.fact``, the targets are the
    company's at the time of the computation.
    """

    _name = "vip.kpi.period"
    _inherit = ["vip.kpi.engine.written.mixin"]
    _description = "VIP Program KPIs"
    _order = "date_start desc, period_type, company_id"

    name = fields.Char(string="Period", required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    period_type = fields.Selection(PERIOD_TYPES, required=True, readonly=True)
    date_start = fields.Date(string="Period Start", required=True, index=True, readonly=True)
    date_end = fields.Date(string="Period End", readonly=True)
    computed_at = fields.Datetime(string="Computed On", readonly=True)
    vip_start_count = fields.Integer(string="VIPs at Start", readonly=True)
    vip_end_count = fields.Integer(string="VIPs at End", readonly=True)
    new_count = fields.Integer(string="New VIPs", readonly=True)
    lost_count = fields.Integer(string="Lost VIPs", readonly=True)
    retention_rate = fields.Float(string="Retention (%)", aggregator="avg", readonly=True)
    renewal_rate = fields.Float(string="Renewal (%)", aggregator="avg", readonly=True)
    repeat_rate = fields.Float(string="Repeat Purchase (%)", aggregator="avg", readonly=True)
    satisfaction = fields.Float(aggregator="avg", readonly=True)
    nps = fields.Float(string="NPS", aggregator="avg", readonly=True)
    vip_spend = fields.Monetary(string="VIP Spend", readonly=True)
    total_spend = fields.Monetary(string="Total Spend", readonly=True)
    vip_spend_share = fields.Float(string="VIP Spend Share (%)", aggregator="avg", readonly=True)
    target_retention = fields.Float(string="Retention Target (%)", readonly=True)
    target_renewal = fields.Float(string="Renewal Target (%)", readonly=True)
    target_repeat = fields.Float(string="Repeat Purchase Target (%)", readonly=True)
    target_satisfaction = fields.Float(string="Satisfaction Target", readonly=True)
    target_nps = fields.Float(string="NPS Target", readonly=True)
    has_retention = fields.Boolean(readonly=True)
    has_renewal = fields.Boolean(readonly=True)
    has_repeat = fields.Boolean(readonly=True)
    has_satisfaction = fields.Boolean(readonly=True)
    has_nps = fields.Boolean(readonly=True)
    retention_ok = fields.Boolean(string="Retention on Target", readonly=True)
    renewal_ok = fields.Boolean(string="Renewal on Target", readonly=True)
    repeat_ok = fields.Boolean(string="Repeat Purchase on Target", readonly=True)
    satisfaction_ok = fields.Boolean(string="Satisfaction on Target", readonly=True)
    nps_ok = fields.Boolean(string="NPS on Target", readonly=True)

    _sql_constraints = [
        (
            "period_unique",
            "unique(company_id, period_type, date_start)",
            "One KPI summary per company and period.",
        )
    ]
