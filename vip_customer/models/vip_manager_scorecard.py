"""Account-manager scorecards: who makes the VIP program work?

One card per (company, period, account manager), written by the KPI engine
after the period's facts (``vip.kpi.engine._compute_period`` calls
``vip.manager.scorecard._compute_period``). Every figure is one aggregate:

- the customers' figures come from ``vip.kpi.fact`` grouped by ``manager_id``
  (the account manager when the period was computed: a manager change
  mid-period credits the whole period to the new manager);
- the follow-ups come from the VIP follow-up activities whose deadline falls
  in the period, open and done (the activity type keeps done activities
  archived with their ``date_done``), counted only when assigned to the
  customer's account manager (``vip_account_manager_id`` of the commercial
  partner): a follow-up someone assigns to a colleague on a customer the
  colleague does not manage counts for nobody. Done follow-ups cannot be
  edited or deleted but by VIP managers (``mail.activity``), so the person
  measured cannot change what measures them.

The score is the weighted mean of 0-100 components with the company's weights
(``res.company.vip_score_weight_*``); a component without data (no customer
VIP at the start, no answer, no ticket, no follow-up due, no spend in the
previous period) is left out of the mean rather than counted as 0. Rank 1 is
the best score of the company in that period; cards without any data have no
score and no rank.
"""

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .vip_kpi_fact import ENGINE_CONTEXT_KEY, PERIOD_TYPES, figure_presence


class VipManagerScorecard(models.Model):
    _name = "vip.manager.scorecard"
    _inherit = ["vip.kpi.engine.written.mixin", "vip.kpi.figure.mixin"]
    _description = "VIP Account Manager Scorecard"
    _order = "date_start desc, company_id, rank, user_id"
    _rec_name = "user_id"

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    period_type = fields.Selection(PERIOD_TYPES, required=True, readonly=True)
    date_start = fields.Date(string="Period Start", required=True, index=True, readonly=True)
    date_end = fields.Date(string="Period End", readonly=True)
    period_name = fields.Char(string="Period", readonly=True)
    is_partial = fields.Boolean(
        string="In Progress",
        readonly=True,
        help="Computed before the period ended: its figures are to date; the nightly job "
        "computes the card again the night after the period's end.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Account Manager",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    customer_count = fields.Integer(
        string="Customers",
        readonly=True,
        help="VIP customers (at the start or the end of the period) the account manager "
        "looks after.",
    )
    followup_due_count = fields.Integer(
        string="Follow-ups Due",
        readonly=True,
        help="VIP follow-ups assigned to the account manager whose deadline falls in the period.",
    )
    followup_on_time_count = fields.Integer(
        string="Follow-ups On Time",
        readonly=True,
        help="Follow-ups due in the period and done on or before their deadline.",
    )
    followup_overdue_count = fields.Integer(
        string="Follow-ups Overdue",
        readonly=True,
        help="Follow-ups due in the period and done after their deadline, or not done "
        "while their deadline has passed.",
    )
    followup_rate = fields.Float(
        string="Follow-ups On Time (%)",
        aggregator="avg",
        readonly=True,
        help="Follow-ups done on time among those done or overdue; follow-ups not yet due "
        "do not count.",
    )
    retention_rate = fields.Float(
        string="Retention (%)",
        aggregator="avg",
        readonly=True,
        help="The account manager's customers VIP at the start of the period still VIP at its end.",
    )
    renewal_rate = fields.Float(
        string="Renewal (%)",
        aggregator="avg",
        readonly=True,
        help="The account manager's customers VIP at the start of the period who bought in it.",
    )
    satisfaction = fields.Float(aggregator="avg", readonly=True)
    nps = fields.Float(string="NPS", aggregator="avg", readonly=True)
    ticket_count = fields.Integer(string="Tickets", readonly=True)
    complaint_count = fields.Integer(string="Complaints", readonly=True)
    sla_rate = fields.Float(string="SLA Met (%)", aggregator="avg", readonly=True)
    spend = fields.Monetary(readonly=True)
    prev_spend = fields.Monetary(string="Previous Period Spend", readonly=True)
    spend_growth = fields.Float(
        string="Spend Growth (%)",
        aggregator="avg",
        readonly=True,
        help="Spend of the account manager's customers against the previous period of the "
        "same length.",
    )
    score = fields.Float(
        aggregator="avg",
        readonly=True,
        help="Weighted mean (0-100) of retention, renewal, satisfaction, follow-ups on time, "
        "SLA met and spend growth (50 = flat, 0 = -100%, 100 = +100% or more), with the "
        "weights set in the VIP settings. A figure without data is left out.",
    )
    rank = fields.Integer(
        aggregator="min",
        readonly=True,
        help="1 = best score among the company's account managers in the period.",
    )
    score_components = fields.Json(
        string="Score Inputs",
        readonly=True,
        help="The engine's inputs of the score: each component with data (0-100; a "
        "component without data is absent) and the weights of the company when the card "
        "was computed.",
    )
    score_detail = fields.Char(
        string="Score Components",
        compute="_compute_score_detail",
        search="_search_score_detail",
        help="Each component (0-100) with its weight when the card was computed; a "
        "component without data is left out of the score.",
    )

    # a figure without data is NULL (left out of the score and of the averages)
    _FIGURE_PRESENCE = {
        "has_followup_rate": "followup_rate",
        "has_retention_rate": "retention_rate",
        "has_renewal_rate": "renewal_rate",
        "has_satisfaction": "satisfaction",
        "has_nps": "nps",
        "has_sla_rate": "sla_rate",
        "has_spend_growth": "spend_growth",
    }
    has_followup_rate = figure_presence("Follow-up Rate Has Data")
    has_retention_rate = figure_presence("Retention Has Data")
    has_renewal_rate = figure_presence("Renewal Has Data")
    has_satisfaction = figure_presence("Satisfaction Has Data")
    has_nps = figure_presence("NPS Has Data")
    has_sla_rate = figure_presence("SLA Has Data")
    has_spend_growth = figure_presence("Spend Growth Has Data")

    _sql_constraints = [
        (
            "period_user_unique",
            "UNIQUE(company_id, period_type, date_start, user_id)",
            "One scorecard per account manager and period.",
        )
    ]

    # ------------------------------------------------------------------
    # Compute
    # ------------------------------------------------------------------
    @api.depends("score_components")
    def _compute_score_detail(self):
        labels = self._get_score_component_labels()
        for card in self:
            stored = card.score_components or {}
            values, weights = stored.get("values", {}), stored.get("weights", {})
            parts = []
            for key, label in labels.items():
                value = values.get(key)
                parts.append(
                    self.env._("%(label)s: no data", label=label)
                    if value is None
                    else self.env._(
                        "%(label)s: %(value)s × %(weight)s",
                        label=label,
                        value=format(round(value, 1), "g"),
                        weight=weights.get(key, 0),
                    )
                )
            card.score_detail = " · ".join(parts) if stored else False

    def _search_score_detail(self, operator, value):
        # built at display time in the reader's language: nothing to search in
        raise UserError(
            self.env._(
                "The field “Score Components” is built when a card is displayed and cannot be "
                "searched; search on the score or its figures instead."
            )
        )

    # The score inputs (Json) are not a figure to group or search by: a group
    # per distinct dictionary matches no row when opened.
    _UNGROUPABLE_FIELDS = ("score_components",)
    _UNSEARCHABLE_FIELDS = ("score_components", "score_detail")

    @api.model
    def fields_get(self, allfields=None, attributes=None):
        result = super().fields_get(allfields=allfields, attributes=attributes)
        for name, description in result.items():
            if name in self._UNGROUPABLE_FIELDS and "groupable" in description:
                description["groupable"] = False
            if name in self._UNSEARCHABLE_FIELDS and "searchable" in description:
                description["searchable"] = False
            if name in self._UNGROUPABLE_FIELDS and "sortable" in description:
                description["sortable"] = False
        return result

    @api.model
    def _read_group_groupby(self, groupby_spec, query):
        if groupby_spec.split(":")[0] in self._UNGROUPABLE_FIELDS:
            raise UserError(
                self.env._(
                    "The scorecards cannot be grouped by “Score Inputs”; group them by the "
                    "account manager, the period or a figure instead."
                )
            )
        return super()._read_group_groupby(groupby_spec, query)

    # ------------------------------------------------------------------
    # Hooks
    # ------------------------------------------------------------------
    @api.model
    def _get_score_component_labels(self):
        """Hook: ``{component: label}`` of the score, in display order."""
        return {
            "retention": self.env._("Retention"),
            "renewal": self.env._("Renewal"),
            "satisfaction": self.env._("Satisfaction"),
            "followup": self.env._("Follow-ups"),
            "sla": self.env._("SLA"),
            "growth": self.env._("Growth"),
        }

    @api.model
    def _get_score_components(self, vals):
        """Hook: ``{component: value 0-100, or None without data}`` from the
        figures of one card (``vals``: its column values, None for no data).

        Spend growth maps to 50 when flat, 0 at -100% and 100 at +100% or more,
        so a manager whose customers spend more is rewarded without one big
        customer's jump swamping the other components.
        """
        growth = vals.get("spend_growth")
        return {
            "retention": vals.get("retention_rate"),
            "renewal": vals.get("renewal_rate"),
            "satisfaction": vals.get("satisfaction"),
            "followup": vals.get("followup_rate"),
            "sla": vals.get("sla_rate"),
            "growth": None if growth is None else max(0.0, min(100.0, 50.0 + growth / 2.0)),
        }

    @api.model
    def _get_score(self, components, weights):
        """The weighted mean of the components that have data (None when
        none has, or when every weight of those is 0)."""
        used = [
            (value, weights.get(key, 0))
            for key, value in components.items()
            if value is not None and weights.get(key, 0) > 0
        ]
        total_weight = sum(weight for _value, weight in used)
        if not total_weight:
            return None
        return sum(value * weight for value, weight in used) / total_weight

    # ------------------------------------------------------------------
    # Engine
    # ------------------------------------------------------------------
    @api.model
    def _read_fact_figures(self, company, period_type, date_start):
        """``{user id: figures}`` of the period's facts, one aggregate grouped
        by account manager (the non-VIP bucket row has no manager)."""
        rates = {
            "retention_rate": "retention_pct:avg",
            "renewal_rate": "renewal_pct:avg",
            "satisfaction": "satisfaction:avg",
            "nps": "nps_pct:avg",
            "sla_rate": "sla_pct:avg",
        }
        aggregates = {
            "customer_count": "customer_count:sum",
            **rates,
            "ticket_count": "ticket_count:sum",
            "complaint_count": "complaint_count:sum",
            "spend": "spend:sum",
            "prev_spend": "prev_spend:sum",
        }
        # sudo: the engine reads every manager's facts, whoever triggered it
        groups = (
            self.env["vip.kpi.fact"]
            .sudo()
            ._read_group(
                [
                    ("company_id", "=", company.id),
                    ("period_type", "=", period_type),
                    ("date_start", "=", date_start),
                    ("manager_id", "!=", False),
                    ("partner_id", "!=", False),
                ],
                ["manager_id"],
                [*aggregates.values(), *(f"{spec.split(':')[0]}:count" for spec in rates.values())],
            )
        )
        result = {}
        for manager, *values in groups:
            figures = dict(zip(aggregates, values, strict=False))
            # _read_group reads an average over NULLs only as 0: COUNT(column)
            # tells "no data" (left out of the score) from a real 0
            for name, count in zip(rates, values[len(aggregates) :], strict=True):
                if not count:
                    figures[name] = None
            result[manager.id] = figures
        return result

    @api.model
    def _get_followup_activity_type(self):
        """Hook: the activity type counted as follow-ups."""
        return self.env.ref(
            "vip_customer.mail_activity_type_vip_followup", raise_if_not_found=False
        )

    @api.model
    def _followup_sql(self, company, date_start, date_end, select, user=None):
        """The one definition of "a follow-up of the period": a VIP follow-up
        activity (open, or done and kept archived) on a customer of the
        company's VIP program, assigned to that customer's account manager
        (``vip_account_manager_id`` of the commercial partner), whose deadline
        falls in the period; alias ``a``.
        ``select`` is the SQL of the columns read; ``user`` narrows it to one
        assignee."""
        activity_type = self._get_followup_activity_type()
        self.env["mail.activity"].flush_model(
            [
                "res_model",
                "res_id",
                "activity_type_id",
                "user_id",
                "date_deadline",
                "date_done",
                "active",
            ]
        )
        self.env["res.partner"].flush_model(
            ["commercial_partner_id", "vip_company_id", "vip_account_manager_id"]
        )
        return SQL(
            """
            SELECT %(select)s
              FROM mail_activity a
              JOIN res_partner p ON p.id = a.res_id
              JOIN res_partner cp ON cp.id = p.commercial_partner_id
             WHERE a.res_model = 'res.partner'
               AND a.activity_type_id = %(type_id)s
               AND a.date_deadline BETWEEN %(date_start)s AND %(date_end)s
               AND cp.vip_company_id = %(company_id)s
               AND a.user_id = cp.vip_account_manager_id
               AND %(user_clause)s
            """,
            select=select,
            type_id=activity_type.id if activity_type else 0,
            date_start=date_start,
            date_end=date_end,
            company_id=company.id,
            user_clause=SQL("a.user_id = %s", user.id) if user else SQL("TRUE"),
        )

    @api.model
    def _read_followup_figures(self, company, date_start, date_end, today):
        """``{user id: (due, on time, overdue)}``: one read aggregate over the
        period's follow-ups grouped by assignee. On time: done on or before
        the deadline; overdue: done after it, or not done and past it."""
        # raw SQL: a read aggregate comparing two columns per row (done on or
        # before the deadline), which _read_group cannot express
        query = self._followup_sql(
            company,
            date_start,
            date_end,
            SQL(
                """a.user_id,
                   COUNT(*),
                   COUNT(*) FILTER (WHERE NOT a.active AND a.date_done <= a.date_deadline),
                   COUNT(*) FILTER (WHERE (a.active AND a.date_deadline < %(today)s)
                                       OR (NOT a.active AND a.date_done > a.date_deadline))""",
                today=today,
            ),
        )
        self.env.cr.execute(SQL("%s GROUP BY a.user_id", query))
        return {user_id: tuple(counts) for user_id, *counts in self.env.cr.fetchall()}

    @api.model
    def _prepare_scorecard_vals(self, company, period_type, date_start, today=None):
        """The values of the period's cards, scored and ranked."""
        engine = self.env["vip.kpi.engine"]
        date_start, date_end, _prev_start = engine._period_bounds(period_type, date_start)
        today = today or fields.Date.context_today(self)
        facts = self._read_fact_figures(company, period_type, date_start)
        followups = self._read_followup_figures(company, date_start, date_end, today)
        weights = company.sudo()._get_vip_score_weights()
        vals_list = []
        for user_id in sorted(set(facts) | set(followups)):
            vals = {
                "company_id": company.id,
                "period_type": period_type,
                "date_start": date_start,
                "date_end": date_end,
                "period_name": engine._period_name(period_type, date_start),
                # the engine's day, as for the period's summary (vip.kpi.period)
                "is_partial": today <= date_end,
                "user_id": user_id,
                "customer_count": 0,
                "ticket_count": 0,
                "complaint_count": 0,
                "spend": 0.0,
                "prev_spend": 0.0,
                **facts.get(user_id, {}),
            }
            # a sum over NULLs only is NULL: no ticket is 0 tickets
            for key in ("customer_count", "ticket_count", "complaint_count", "spend", "prev_spend"):
                vals[key] = vals[key] or 0
            due, on_time, overdue = followups.get(user_id, (0, 0, 0))
            vals.update(
                followup_due_count=due,
                followup_on_time_count=on_time,
                followup_overdue_count=overdue,
                followup_rate=100.0 * on_time / (on_time + overdue) if on_time + overdue else None,
                spend_growth=100.0 * (vals["spend"] - vals["prev_spend"]) / vals["prev_spend"]
                if vals["prev_spend"] > 0
                else None,
            )
            components = self._get_score_components(vals)
            vals["score"] = self._get_score(components, weights)
            # only the components with data: XML-RPC cannot marshal a None
            # (a missing key reads as "no data", see _compute_score_detail)
            vals["score_components"] = {
                "values": {key: value for key, value in components.items() if value is not None},
                "weights": weights,
            }
            vals_list.append(vals)
        # competition ranking: equal scores share a rank, the next one skips
        scored = sorted((v for v in vals_list if v["score"] is not None), key=lambda v: -v["score"])
        for position, vals in enumerate(scored, start=1):
            previous = scored[position - 2] if position > 1 else None
            same = previous is not None and round(previous["score"], 6) == round(vals["score"], 6)
            vals["rank"] = previous["rank"] if same else position
        return vals_list

    @api.model
    def _compute_period(self, company, period_type, date_start):
        """Replace the cards of one period of ``company`` by fresh ones.

        Called by the KPI engine right after it refilled the period's facts.
        Returns the number of cards written.
        """
        date_start = self.env["vip.kpi.engine"]._period_start(period_type, date_start)
        vals_list = self._prepare_scorecard_vals(company, period_type, date_start)
        # sudo + engine context: the cards are written by the engine only
        cards = self.sudo().with_context(**{ENGINE_CONTEXT_KEY: True, "active_test": False})
        cards.search(
            [
                ("company_id", "=", company.id),
                ("period_type", "=", period_type),
                ("date_start", "=", date_start),
            ]
        ).unlink()
        created = cards.create(vals_list)
        self._write_no_data(created, vals_list)
        return len(vals_list)

    @api.model
    def _write_no_data(self, cards, vals_list):
        """Store NULL where a figure has no data (the ORM stores None as 0.0),
        so that the averages of the pivot leave those cards out, like the
        averages of the facts do.

        Raw SQL on the engine's own table, on the rows it has just created.
        """
        nullable = [
            name for name, field in self._fields.items() if field.type == "float" and field.store
        ]
        self.env.flush_all()
        for name in nullable:
            ids = [
                card.id
                for card, vals in zip(cards, vals_list, strict=True)
                if vals.get(name) is None
            ]
            if ids:
                self.env.cr.execute(
                    SQL(
                        "UPDATE %s SET %s = NULL WHERE id = ANY(%s)",
                        SQL.identifier(self._table),
                        SQL.identifier(name),
                        ids,
                    )
                )
        cards.invalidate_recordset(nullable + list(self._FIGURE_PRESENCE))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_open_customers(self):
        """The facts of this card's customers (pivot by tier at the end of the period)."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_customer.vip_manager_scorecard_action_facts"
        )
        action["domain"] = [
            ("company_id", "=", self.company_id.id),
            ("period_type", "=", self.period_type),
            ("date_start", "=", self.date_start),
            ("manager_id", "=", self.user_id.id),
            ("partner_id", "!=", False),
        ]
        action["display_name"] = self.env._(
            "Customers of %(manager)s, %(period)s",
            manager=self.user_id.name,
            period=self.period_name,
        )
        return action

    def action_open_followups(self):
        """The follow-ups behind the card's counts, done ones included."""
        self.ensure_one()
        self.check_access("read")
        self.env.cr.execute(
            self._followup_sql(
                self.company_id, self.date_start, self.date_end, SQL("a.id"), user=self.user_id
            )
        )
        activity_ids = [row[0] for row in self.env.cr.fetchall()]
        return {
            "type": "ir.actions.act_window",
            "name": self.env._(
                "Follow-ups of %(manager)s, %(period)s",
                manager=self.user_id.name,
                period=self.period_name,
            ),
            "res_model": "mail.activity",
            "view_mode": "list,form",
            "views": [(False, "list"), (False, "form")],
            "domain": [("id", "in", activity_ids)],
            "context": {"active_test": False, "create": False},
        }
