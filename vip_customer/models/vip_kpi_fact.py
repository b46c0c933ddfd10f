from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

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


def figure_presence(label):
    """The ``has_<figure>`` field of a :class:`VipKpiFigureMixin` model."""
    return fields.Boolean(string=label, compute="_compute_has_figures")


class VipKpiFigureMixin(models.AbstractModel):
    """Figures that may have no data.

    A KPI figure without data (no customer in its base, no answer, no ticket)
    is stored NULL, so that averages leave it out; the ORM reads a NULL number
    as 0, and a list would show "0.00" for "nothing to measure". Each such
    figure gets a boolean ``has_<figure>``, read from the column itself, that
    the views use to show the figure or "no data".
    """

    _name = "vip.kpi.figure.mixin"
    _description = "VIP KPI: figures without data"

    # {boolean field: stored float column}, set by each model
    _FIGURE_PRESENCE = {}

    @api.depends(lambda self: list(self._FIGURE_PRESENCE.values()))
    def _compute_has_figures(self):
        columns = self._FIGURE_PRESENCE
        stored = self.filtered("id")
        present = {}
        if stored:
            self.flush_recordset(list(columns.values()))
            rows = self.env.execute_query(
                SQL(
                    "SELECT id, %s FROM %s WHERE id = ANY(%s)",
                    SQL(", ").join(
                        SQL("%s IS NOT NULL", SQL.identifier(column))
                        for column in columns.values()
                    ),
                    SQL.identifier(self._table),
                    stored.ids,
                )
            )
            present = {row[0]: row[1:] for row in rows}
        for record in self:
            flags = present.get(record.id) or (False,) * len(columns)
            for name, flag in zip(columns, flags, strict=True):
                record[name] = flag


class VipKpiFact(models.Model):
    """One customer in one period: the snapshot the program KPIs are read from.

    Filled by ``vip.kpi.engine`` with one INSERT ... SELECT per period. Each
    rate is a column that is 100 or 0 on the rows in its base and NULL
    elsewhere, so a pivot's average at any grouping (tier, manager, month) is
    the rate of that group. A manager change mid-period credits the whole
    period to the account manager at the time the period is computed.
    """

    _name = "vip.kpi.fact"
    _inherit = ["vip.kpi.engine.written.mixin", "vip.kpi.figure.mixin"]
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

    _FIGURE_PRESENCE = {
        "has_retention_pct": "retention_pct",
        "has_renewal_pct": "renewal_pct",
        "has_repeat_pct": "repeat_pct",
        "has_satisfaction": "satisfaction",
        "has_nps_pct": "nps_pct",
        "has_sla_pct": "sla_pct",
    }
    has_retention_pct = figure_presence("Retention Has Data")
    has_renewal_pct = figure_presence("Renewal Has Data")
    has_repeat_pct = figure_presence("Repeat Purchase Has Data")
    has_satisfaction = figure_presence("Satisfaction Has Data")
    has_nps_pct = figure_presence("NPS Has Data")
    has_sla_pct = figure_presence("SLA Has Data")
