from odoo import api, fields, models
from odoo.exceptions import UserError

PERIOD_TYPES = [("month", "Month"), ("quarter", "Quarter"), ("year", "Year")]
ENGINE_CONTEXT_KEY = "vip_kpi_engine"


class VipKpiEngineWrittenMixin(models.AbstractModel):
    """Rows only the KPI engine writes.

    The KPI tables are snapshots of the tier history and the purchases: a row
    typed or edited by hand would be a figure nobody can explain. Create, write
    and unlink are refused unless the engine itself runs them (superuser and the
    context key ``vip_kpi_engine``); the ACLs already give users read only.
    """

    _name = "vip.kpi.engine.written.mixin"
    _description = "VIP KPI: rows written by the engine only"

    def _check_kpi_engine_writes(self, operation):
        self.check_access(operation)
        if not (self.env.su and self.env.context.get(ENGINE_CONTEXT_KEY)):
            raise UserError(
                self.env._(
                    "%(model)s is computed by the KPI engine: it cannot be edited. "
                    "Use Recompute KPIs instead.",
                    model=self._description,
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        self._check_kpi_engine_writes("create")
        return super().create(vals_list)

    def write(self, vals):
        self._check_kpi_engine_writes("write")
        return super().write(vals)

    def unlink(self):
        self._check_kpi_engine_writes("unlink")
        return super().unlink()


class VipKpiFact(models.Model):
    """One customer in one period: the snapshot the program KPIs are read from.

    Filled by ``vip.kpi.engine`` with one INSERT ... SELECT per period. Each
    rate is a column that is 100 or 0 on the rows in its base and NULL
    elsewhere, so a pivot's average at any grouping (tier, manager, month) is
    the rate of that group. A manager change mid-period credits the whole
    period to the account manager at the time the period is computed.
    """

    _name = "vip.kpi.fact"
    _inherit = ["vip.kpi.engine.written.mixin"]
    _description = "VIP KPI Fact"
    _order = "date_start desc, company_id, partner_id"
    _rec_name = "partner_id"
    # a snapshot rewritten by the engine, tens of thousands of rows a night:
    # no create/write columns (two foreign keys checked on every row, nothing to audit)
    _log_access = False

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    period_type = fields.Selection(PERIOD_TYPES, required=True, readonly=True)
    date_start = fields.Date(string="Period Start", required=True, index=True, readonly=True)
    date_end = fields.Date(string="Period End", readonly=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        ondelete="cascade",
        index=True,
        readonly=True,
        help="Empty on the row that sums up the customers who bought in the period "
        "without being VIP.",
    )
    customer_count = fields.Integer(string="Customers", readonly=True)
    tier_start_id = fields.Many2one("vip.tier", string="Tier at Start", readonly=True)
    tier_end_id = fields.Many2one("vip.tier", string="Tier at End", readonly=True)
    manager_id = fields.Many2one("res.users", string="Account Manager", index=True, readonly=True)
    movement = fields.Selection(
        [
            ("stayed", "Stayed"),
            ("upgrade", "Upgraded"),
            ("downgrade", "Downgraded"),
            ("new", "New VIP"),
            ("lost", "Left VIP"),
        ],
        readonly=True,
    )
    is_vip_start = fields.Boolean(string="VIP at Start", readonly=True)
    is_vip_end = fields.Boolean(string="VIP at End", readonly=True)
    # The bases of the rates as booleans: a domain cannot tell a NULL rate
    # from a 0 one (the ORM reads a NULL number as 0), the drill-downs can.
    retention_base = fields.Boolean(
        string="Counts in Retention",
        readonly=True,
        help="VIP at the start of the period (at or above the retention tier when one is set).",
    )
    retention_pct = fields.Float(
        string="Retention (%)",
        aggregator="avg",
        readonly=True,
        help="100 when a customer VIP at the start of the period (at or above the "
        "retention tier when one is set) is still VIP at its end, 0 when not.",
    )
    renewal_pct = fields.Float(
        string="Renewal (%)",
        aggregator="avg",
        readonly=True,
        help="100 when a customer VIP at the start of the period bought in it, 0 when not.",
    )
    repeat_pct = fields.Float(
        string="Repeat Purchase (%)",
        aggregator="avg",
        readonly=True,
        help="Among VIP customers who bought in the period: 100 with two purchases or "
        "more, 0 with one.",
    )
    spend = fields.Monetary(readonly=True)
    prev_spend = fields.Monetary(string="Previous Period Spend", readonly=True)
    purchase_count = fields.Integer(string="Purchases", readonly=True)
    satisfaction = fields.Float(aggregator="avg", readonly=True)
    satisfaction_count = fields.Integer(string="Satisfaction Answers", readonly=True)
    nps_pct = fields.Float(
        string="NPS",
        aggregator="avg",
        readonly=True,
        help="+100 for a promoter (9-10), 0 for a passive (7-8), -100 for a detractor "
        "(0-6), from the customer's last answer in the period.",
    )
    has_nps = fields.Boolean(string="Answered NPS", readonly=True)
    ticket_count = fields.Integer(string="Tickets", readonly=True)
    complaint_count = fields.Integer(string="Complaints", readonly=True)
    sla_pct = fields.Float(string="SLA Met (%)", aggregator="avg", readonly=True)
