"""The account managers' board of key moments (已处理 / 已到时 / 未到时).

The stored ``board_state`` groups the kanban and the pivot; the engine
refreshes it each night and the board refreshes it when it opens
(:meth:`action_open_board`), so "due" follows the calendar. Whatever depends
on the day in a search (Due, Not Yet Due, Overdue, Today, This Week, This
Month) reads ``state`` and ``date_deadline`` against the reader's today
through the search-only fields below, never the stored status.

A period holds the moments due in it: "Today" the moments due today, "This
Week" those due from Monday to Sunday, "This Month" those due in the
calendar month; no period is the cumulative board. The average of
``completion`` is the share processed (cancelled moments count in neither).
"""

import datetime

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression

from .vip_moment_occurrence import BOARD_STATES

BOARD_PERIODS = [("today", "Today"), ("week", "This week"), ("month", "This month")]


class VipMomentOccurrence(models.Model):
    _inherit = "vip.moment.occurrence"

    # every status is a column of the kanban, even an empty one
    board_state = fields.Selection(group_expand=True)
    board_state_now = fields.Selection(
        BOARD_STATES,
        string="Status Today",
        compute="_compute_board_now",
        search="_search_board_state_now",
        help="The status as of today (the stored status is refreshed each night).",
    )
    is_overdue = fields.Boolean(
        string="Overdue",
        compute="_compute_board_now",
        search="_search_is_overdue",
        help="Open, and due before today.",
    )
    board_period = fields.Selection(
        BOARD_PERIODS,
        string="Due In",
        compute="_compute_board_now",
        search="_search_board_period",
        help="The shortest period holding the due date: today, this week, this month.",
    )

    # ------------------------------------------------------------------
    # Completion: cancelled moments have none (NULL, left out of the average)
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        occurrences = super().create(vals_list)
        occurrences._clear_cancelled_completion()
        return occurrences

    def _mark_cancelled(self):
        result = super()._mark_cancelled()
        self._clear_cancelled_completion()
        return result

    def _clear_cancelled_completion(self):
        """The ORM stores a Float as 0.0, never NULL: a cancelled moment would
        count as not done in the completion rate. Our own column, raw."""
        cancelled = self.filtered(lambda o: o.state == "cancelled")
        if not cancelled:
            return
        cancelled.flush_recordset(["completion", "state"])
        self.env.cr.execute(
            "UPDATE vip_moment_occurrence SET completion = NULL "
            "WHERE id = ANY(%s) AND state = 'cancelled'",
            [cancelled.ids],
        )
        cancelled.invalidate_recordset(["completion"])

    # ------------------------------------------------------------------
    # One definition of the day-dependent states: these domains
    # ------------------------------------------------------------------
    @api.model
    def _board_today(self):
        return fields.Date.context_today(self)

    @api.model
    def _board_period_bounds(self, period, today):
        """``(first day, last day)`` of ``period`` around ``today``."""
        if period == "today":
            return today, today
        if period == "week":
            monday = today - datetime.timedelta(days=today.weekday())
            return monday, monday + datetime.timedelta(days=6)
        if period == "month":
            return today.replace(day=1), today + relativedelta(day=31)
        raise UserError(
            self.env._(
                "Unknown board period %(period)s: use one of %(periods)s.",
                period=period,
                periods=", ".join(key for key, _label in BOARD_PERIODS),
            )
        )

    @api.model
    def _board_state_domain(self, board_state, today):
        if board_state == "due":
            return [("state", "=", "open"), ("date_deadline", "<=", today)]
        if board_state == "not_due":
            return [("state", "=", "open"), ("date_deadline", ">", today)]
        if board_state in ("done", "cancelled"):
            return [("state", "=", board_state)]
        return [("id", "=", False)]

    @api.depends("state", "date_deadline")
    @api.depends_context("tz")
    def _compute_board_now(self):
        today = self._board_today()
        bounds = {period: self._board_period_bounds(period, today) for period, _l in BOARD_PERIODS}
        for occurrence in self:
            values = self._board_values(occurrence.state, occurrence.date_deadline, today)
            occurrence.board_state_now = values["board_state"]
            deadline = occurrence.date_deadline
            occurrence.is_overdue = bool(
                occurrence.state == "open" and deadline and deadline < today
            )
            occurrence.board_period = next(
                (
                    period
                    for period, (first, last) in bounds.items()
                    if deadline and first <= deadline <= last
                ),
                False,
            )

    def _search_board_state_now(self, operator, value):
        values = self._search_values(operator, value)
        today = self._board_today()
        domains = [self._board_state_domain(state, today) for state in values["in"]]
        return self._board_combine(domains, values["positive"])

    def _search_is_overdue(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Overdue is searched with = True or = False."))
        domain = [("state", "=", "open"), ("date_deadline", "<", self._board_today())]
        return self._board_combine([domain], (operator == "=") == value)

    def _search_board_period(self, operator, value):
        """A period holds the narrower ones: "this week" includes today."""
        values = self._search_values(operator, value)
        today = self._board_today()
        domains = []
        for period in values["in"]:
            first, last = self._board_period_bounds(period, today)
            domains.append([("date_deadline", ">=", first), ("date_deadline", "<=", last)])
        return self._board_combine(domains, values["positive"])

    @api.model
    def _board_combine(self, domains, positive):
        """The union of ``domains`` (each one term), or its complement."""
        if not domains:
            return [("id", "=", False)] if positive else []
        domain = expression.OR(domains)
        return domain if positive else ["!", *expression.normalize_domain(domain)]

    @api.model
    def _search_values(self, operator, value):
        """``{'in': [values], 'positive': bool}`` of a search on a selection."""
        if operator in ("=", "!="):
            values = [value] if value else []
        elif operator in ("in", "not in"):
            values = list(value or [])
        else:
            raise UserError(self.env._("This status is searched with =, !=, in or not in."))
        return {"in": [v for v in values if v], "positive": operator in ("=", "in")}

    # ------------------------------------------------------------------
    # The board
    # ------------------------------------------------------------------
    @api.model
    def action_open_board(self):
        """The key-moment board: the statuses refreshed for today; a VIP
        manager sees every account manager side by side, an account manager
        their own moments."""
        self.check_access("read")
        # the statuses of today (one statement on the open moments' status only)
        self._refresh_board_states(self._board_today())
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_customer.vip_moment_occurrence_action"
        )
        if self.env.user.has_group("vip_customer.group_vip_manager"):
            context = {"search_default_groupby_user": 1}
        else:
            context = {"search_default_filter_mine": 1}
        # the pivot: how many and the share processed
        action["context"] = {**context, "pivot_measures": ["__count__", "completion"]}
        return action
