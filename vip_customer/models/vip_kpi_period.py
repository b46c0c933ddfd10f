from odoo import api, fields, models
from odoo.exceptions import UserError

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
    is_partial = fields.Boolean(
        string="In Progress",
        readonly=True,
        help="Computed before the period ended: its figures are to date (on the first day "
        "of a month nobody has bought yet) and are judged against the targets only once "
        "the period is over (the nightly job computes it again the night after its end).",
    )
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
    total_spend = fields.Monetary(readonly=True)
    vip_spend_share = fields.Float(string="VIP Spend Share (%)", aggregator="avg", readonly=True)
    has_spend_share = fields.Boolean(
        compute="_compute_has_spend_share",
        store=True,
        help="The VIP spend share is a figure only when the period's total spend is above 0 "
        "and holds the VIP spend (refunds larger than the purchases give no share).",
    )
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

    @api.depends("vip_spend", "total_spend")
    def _compute_has_spend_share(self):
        for period in self:
            period.has_spend_share = period._is_spend_share_defined(
                period.vip_spend, period.total_spend
            )

    @api.model
    def _is_spend_share_defined(self, vip_spend, total_spend):
        """A share of the spend is a percentage only when the total spend is
        positive and the VIP spend lies within it (non-VIP or VIP refunds
        larger than the purchases would give a share below 0 or above 100)."""
        return total_spend > 0 and 0 <= vip_spend <= total_spend

    # ------------------------------------------------------------------
    # Drill-down: the customers behind each figure
    # ------------------------------------------------------------------
    @api.model
    def _get_drilldown_domains(self):
        """``{figure key: (title, extra domain on vip.kpi.fact)}``: the rows
        behind each figure of the summary (a rate's base: the rows where its
        column is set, told by the booleans and counts of the fact since a
        domain reads a NULL number as 0). A hook: add the key of a new figure."""
        return {
            "customers": (self.env._("VIP customers"), [("partner_id", "!=", False)]),
            "vip_start": (self.env._("VIP at start"), [("is_vip_start", "=", True)]),
            "vip_end": (self.env._("VIP at end"), [("is_vip_end", "=", True)]),
            "retention": (self.env._("Retention"), [("retention_base", "=", True)]),
            "retention_lost": (
                self.env._("Not retained"),
                [("retention_base", "=", True), ("retention_pct", "<", 50)],
            ),
            "renewal": (self.env._("Renewal"), [("is_vip_start", "=", True)]),
            "no_renewal": (
                self.env._("Not renewed"),
                [("is_vip_start", "=", True), ("purchase_count", "=", 0)],
            ),
            "repeat": (
                self.env._("Repeat purchase"),
                [("partner_id", "!=", False), ("purchase_count", ">", 0)],
            ),
            "new": (self.env._("New VIPs"), [("movement", "=", "new")]),
            "lost": (self.env._("Lost VIPs"), [("movement", "=", "lost")]),
            "upgrade": (self.env._("Upgraded"), [("movement", "=", "upgrade")]),
            "downgrade": (self.env._("Downgraded"), [("movement", "=", "downgrade")]),
            "satisfaction": (self.env._("Satisfaction"), [("satisfaction_count", ">", 0)]),
            "nps": (self.env._("NPS"), [("has_nps", "=", True)]),
            "spend": (self.env._("Spend"), []),
        }

    def _get_drilldown(self, key):
        """``(title, extra domain)`` of the figure ``key``; a clear error for
        a key that is not a known figure name (a list or a dict from RPC too)."""
        drilldowns = self._get_drilldown_domains()
        if not isinstance(key, str) or key not in drilldowns:
            raise UserError(self.env._("Unknown KPI %(key)s: nothing to open.", key=key))
        return drilldowns[key]

    def _get_facts_domain(self, key=None):
        self.ensure_one()
        domain = [
            ("company_id", "=", self.company_id.id),
            ("period_type", "=", self.period_type),
            ("date_start", "=", self.date_start),
        ]
        if not (key is None or key is False or key == ""):
            domain += self._get_drilldown(key)[1]
        return domain

    def _ensure_one_period(self):
        """The one period a drill-down button acts on (the same id twice is
        that period); a clear error instead of "Expected singleton"."""
        period = self.browse(list(dict.fromkeys(self.ids)))
        if len(period) != 1:
            raise UserError(
                self.env._(
                    "Open the figures of one period at a time (%(count)s given).",
                    count=len(period),
                )
            )
        return period

    def action_open_facts(self):
        """Open the customers behind one figure of the period: the figure is
        the context key ``vip_kpi`` (e.g. ``retention``, ``new``, ``lost``;
        none: every row of the period)."""
        period = self._ensure_one_period()
        key = self.env.context.get("vip_kpi")
        domain = period._get_facts_domain(key)
        title = self._get_drilldown(key)[0] if key else None
        name = (
            self.env._("%(figure)s - %(period)s", figure=title, period=period.name)
            if title
            else period.name
        )
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": "vip.kpi.fact",
            "view_mode": "list,pivot,graph",
            "views": [(False, "list"), (False, "pivot"), (False, "graph")],
            "domain": domain,
            "context": {"create": False, "edit": False, "delete": False},
            "target": "current",
        }

    # ------------------------------------------------------------------
    # Recomputation on demand
    # ------------------------------------------------------------------
    @api.model
    def action_recompute_kpis(self):
        """Button "Recompute KPIs": the current and just-ended periods of the
        user's companies are computed again by the KPI cron, in the
        background."""
        return self._request_recompute(history=False)

    @api.model
    def action_recompute_history(self):
        """Button "Recompute History": the last 24 months (and their quarters
        and years) are computed again by the KPI cron, in the background."""
        return self._request_recompute(history=True)

    @api.model
    def _request_recompute(self, history):
        companies = self.env.companies
        self.env["vip.kpi.engine"]._request_kpi_run(companies, history=history)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "title": self.env._("Program KPIs"),
                "message": self.env._(
                    "The KPIs are being recomputed in the background: "
                    "reload the page in a few minutes."
                ),
                "sticky": False,
            },
        }
