from datetime import datetime, timedelta

from odoo import fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL


class Digest(models.Model):
    """The VIP program in Odoo's periodic digest e-mail.

    Each KPI is computed for the digest's window (``start_datetime`` /
    ``end_datetime`` in the context, see ``digest.digest._compute_kpis``) and
    its company, the way Odoo's own digest KPIs are (crm, account): a
    recipient without access to the figure gets an ``AccessError``, which the
    digest turns into "leave this KPI out of this recipient's e-mail".
    Windows are read as whole days: from the day after the start to the day
    of the end, both included (tier changes and answers are dated by day).
    """

    _inherit = "digest.digest"

    kpi_vip_new = fields.Boolean(string="New VIPs")
    kpi_vip_new_value = fields.Integer(compute="_compute_kpi_vip_new_value")
    kpi_vip_lost = fields.Boolean(string="Lost VIPs")
    kpi_vip_lost_value = fields.Integer(compute="_compute_kpi_vip_lost_value")
    kpi_vip_retention = fields.Boolean(string="VIP Retention (last month, %)")
    kpi_vip_retention_value = fields.Float(compute="_compute_kpi_vip_retention_value")
    kpi_vip_satisfaction = fields.Boolean(string="VIP Satisfaction")
    kpi_vip_satisfaction_value = fields.Float(compute="_compute_kpi_vip_satisfaction_value")

    def _get_vip_kpi_window(self):
        """``(first day, last day, companies)`` of the digest's current window,
        or ``None`` outside a digest run (a plain ``read``, an export: no window
        in the context), where the VIP KPIs read 0 as Odoo's own ones do."""
        bounds = []
        for key in ("start_datetime", "end_datetime"):
            value = self.env.context.get(key)
            if isinstance(value, str):
                try:
                    value = fields.Datetime.to_datetime(value)
                except ValueError:
                    return None
            # (the digest's own datetimes may carry the company's time zone)
            if not isinstance(value, datetime):
                return None
            bounds.append(value)
        start, end = bounds
        __, __, companies = self._get_kpi_compute_parameters()
        # the digest passes datetimes in the company's time zone: their day is the local day
        return start.date() + timedelta(days=1), end.date(), companies

    def _check_vip_digest_access(self, group):
        if not self.env.user.has_group(group):
            raise AccessError(
                self.env._("Do not have access, skip this data for user's digest email")
            )

    def _compute_vip_tier_moves(self, direction, fname):
        """Customers whose tier history has a ``direction`` change in the window."""
        window = self._get_vip_kpi_window()
        if not window:
            self[fname] = 0
            return
        self._check_vip_digest_access("vip_customer.group_vip_user")
        date_from, date_to, companies = window
        counts = dict(
            self.env["vip.tier.history"]._read_group(
                [
                    ("company_id", "in", companies.ids),
                    ("direction", "=", direction),
                    ("date", ">=", date_from),
                    ("date", "<=", date_to),
                ],
                groupby=["company_id"],
                aggregates=["partner_id:count_distinct"],
            )
        )
        for digest in self:
            digest[fname] = counts.get(digest.company_id or self.env.company, 0)

    def _compute_kpi_vip_new_value(self):
        self._compute_vip_tier_moves("new", "kpi_vip_new_value")

    def _compute_kpi_vip_lost_value(self):
        self._compute_vip_tier_moves("removed", "kpi_vip_lost_value")

    def _compute_kpi_vip_retention_value(self):
        """Retention of the last month the KPI engine closed before the window's end.

        The program measures retention over whole months (VIP at the start, still
        VIP at the end), so the digest shows the latest month that ended before its
        window did, as computed by the KPI engine (``vip.kpi.period``); 0 when no
        month has been computed or it had no VIP customer at its start.
        """
        window = self._get_vip_kpi_window()
        if not window:
            self.kpi_vip_retention_value = 0.0
            return
        self._check_vip_digest_access("vip_customer.group_vip_manager")
        __, date_to, companies = window
        periods = self.env["vip.kpi.period"].search(
            [
                ("company_id", "in", companies.ids),
                ("period_type", "=", "month"),
                ("date_end", "<", date_to),
                # computed once the month was over (not yet: its last day's figures)
                ("is_partial", "=", False),
            ],
            order="date_start desc",
        )
        rates = {}
        for period in periods:  # newest first: keep the first one per company
            rates.setdefault(
                period.company_id, period.retention_rate if period.has_retention else 0.0
            )
        for digest in self:
            digest.kpi_vip_retention_value = rates.get(digest.company_id or self.env.company, 0.0)

    def _compute_kpi_vip_satisfaction_value(self):
        """Mean satisfaction (0-100) of the answers given in the window by VIP customers.

        The answers are the KPI engine's satisfaction sources (survey answers and
        ticket ratings when their add-ons are installed); a customer counts as VIP
        when their tier history says they were on the day of the answer.
        """
        window = self._get_vip_kpi_window()
        if not window:
            self.kpi_vip_satisfaction_value = 0.0
            return
        self._check_vip_digest_access("vip_customer.group_vip_user")
        date_from, date_to, companies = window
        engine = self.env["vip.kpi.engine"]
        self.env["vip.tier.history"].flush_model(
            ["partner_id", "company_id", "date", "new_tier_id"]
        )
        values = {}
        for company in companies:
            sources = engine._get_satisfaction_sources(company, date_from, date_to)
            if not sources:
                continue
            self.env.cr.execute(
                SQL(
                    """
                    SELECT AVG(src.satisfaction)
                      FROM (%(sources)s) src
                      JOIN LATERAL (
                            SELECT h.new_tier_id
                              FROM vip_tier_history h
                             WHERE h.partner_id = src.partner_id
                               AND h.company_id = %(company)s
                               AND h.date <= src.date
                          ORDER BY h.date DESC, h.id DESC
                             LIMIT 1
                           ) tier ON tier.new_tier_id IS NOT NULL
                     WHERE src.satisfaction IS NOT NULL
                       AND src.date >= %(date_from)s
                       AND src.date <= %(date_to)s
                    """,
                    sources=SQL(" UNION ALL ").join(sources),
                    company=company.id,
                    date_from=date_from,
                    date_to=date_to,
                )
            )
            values[company] = self.env.cr.fetchone()[0] or 0.0
        for digest in self:
            digest.kpi_vip_satisfaction_value = values.get(
                digest.company_id or self.env.company, 0.0
            )

    def _compute_kpis_actions(self, company, user):
        res = super()._compute_kpis_actions(company, user)
        menu = self.env.ref("vip_customer.vip_menu_root").id
        res["kpi_vip_new"] = f"vip_customer.vip_tier_history_action_movements?menu_id={menu}"
        res["kpi_vip_lost"] = f"vip_customer.vip_tier_history_action_movements?menu_id={menu}"
        res["kpi_vip_retention"] = f"vip_customer.vip_kpi_period_action?menu_id={menu}"
        # the program overview is the VIP managers'; an account manager's figures are
        # their customers' rows of the KPIs by customer
        satisfaction = (
            "vip_customer.vip_kpi_period_action"
            if user.has_group("vip_customer.group_vip_manager")
            else "vip_customer.vip_kpi_fact_action"
        )
        res["kpi_vip_satisfaction"] = f"{satisfaction}?menu_id={menu}"
        return res
