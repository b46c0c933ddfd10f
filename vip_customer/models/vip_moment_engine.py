"""The key-moment engine: one engine for every rule, set-based.

Each night (and when another add-on signals an event, see :meth:`_signal`)
the engine evaluates the active ``vip.moment.rule`` records. For a rule, the
trigger's method ``_moment_sql_<trigger_type>(rule, today, horizon)`` returns
an SQL query of candidate rows::

    partner_id integer, occasion_key varchar, occasion_date date

(the customers whose moment falls on or before ``horizon``; ``occasion_key``
names the occasion, e.g. the date of a birthday or the id of a ticket, so the
same occasion never gives two tasks). The engine wraps it in one statement that
keeps the customers of the rule's company and tiers, drops the occasions
already recorded and the customers within the rule's cool-down, and then
creates, for the selected rows, the occurrences (``vip.moment.occurrence``),
the activities (one ``mail.activity.create(vals_list)``), the e-mails (one
``send_mail_batch``) and the SMS (one mass composer).

Adding a trigger type is one method: ``selection_add`` the type on
``vip.moment.rule.trigger_type`` and define ``_moment_sql_<type>`` here (in
your add-on's ``_inherit = "vip.moment.engine"``). An add-on whose event should
act at once (a complaint closed) also calls :meth:`_signal` with the
customers concerned; the nightly run catches whatever a signal missed.
"""

import datetime
import logging
from collections import defaultdict

import psycopg2
from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL, format_date

from .vip_moment_occurrence import ENGINE_CONTEXT_KEY

_logger = logging.getLogger(__name__)

# occurrences created per cron call (Odoo's runner calls again while some remain);
# each call runs every rule's selection again, so a call takes a night's usual
# moments of a large program at once (~4,000 at 200k customers)
MOMENT_BATCH_SIZE = 5000
# the first batch of a call under a time limit (see ir.cron._vip_call_budget)
FIRST_BATCH_SIZE = 200
# events older than this are not turned into tasks (a new rule does not dig up the past)
EVENT_LOOKBACK_DAYS = 7
# context key: the activity type of the rule being fired (looked up once per batch)
ACTIVITY_TYPE_CONTEXT_KEY = "vip_moment_activity_type_id"


class VipMomentEngine(models.AbstractModel):
    _name = "vip.moment.engine"
    _description = "VIP Key Moment Engine"

    # ------------------------------------------------------------------
    # Horizon
    # ------------------------------------------------------------------
    @api.model
    def _cycle_end(self, cycle, today):
        """The last day of the cycle period containing ``today``."""
        if cycle == "weekly":
            return today + datetime.timedelta(days=6 - today.weekday())
        if cycle == "monthly":
            return today + relativedelta(day=31)
        return today

    @api.model
    def _horizon(self, rule, today):
        """Moments dated on or before this day get their task today: the end of
        the rule's cycle period plus its days ahead."""
        return self._cycle_end(rule.cycle, today) + datetime.timedelta(days=rule.lead_days)

    # ------------------------------------------------------------------
    # Selection
    # ------------------------------------------------------------------
    @api.model
    def _has_trigger(self, trigger_type):
        return hasattr(self, f"_moment_sql_{trigger_type}")

    @api.model
    def _candidates_sql(self, rule, today, horizon):
        """The trigger's candidate rows (see the module docstring)."""
        return getattr(self, f"_moment_sql_{rule.trigger_type}")(rule, today, horizon)

    @api.model
    def _selection_sql(self, rule, today, partner_ids=None):
        """One statement: the candidates of ``rule`` that get a task now."""
        horizon = self._horizon(rule, today)
        candidates = self._candidates_sql(rule, today, horizon)
        if rule.tier_ids:
            tier_filter = SQL(
                "p.vip_tier_id IN %s AND cp.vip_company_id = %s",
                tuple(rule.tier_ids.ids),
                rule.company_id.id,
            )
        elif rule.include_non_vip:
            # customers without a tier are in no program: the trigger's own query
            # keeps them to the rule's company (e.g. its loyalty accounts)
            tier_filter = SQL(
                "(p.vip_tier_id IS NULL OR cp.vip_company_id = %s)", rule.company_id.id
            )
        else:
            tier_filter = SQL(
                "p.vip_tier_id IS NOT NULL AND cp.vip_company_id = %s", rule.company_id.id
            )
        partner_filter = SQL("AND c.partner_id IN %s", tuple(partner_ids)) if partner_ids else SQL()
        cooldown_from = today - datetime.timedelta(days=rule.cooldown_days)
        return SQL(
            """
            SELECT DISTINCT ON (c.partner_id)
                   c.partner_id, c.occasion_key::varchar AS occasion_key,
                   c.occasion_date, p.vip_tier_id AS tier_id
              FROM (%(candidates)s) c
              JOIN res_partner p ON p.id = c.partner_id
              -- a contact (birthdays) is in its company's program, with its tier
              JOIN res_partner cp ON cp.id = p.commercial_partner_id
             WHERE p.active
               AND %(tier_filter)s
               %(partner_filter)s
               AND NOT EXISTS (
                   SELECT 1 FROM vip_moment_occurrence o
                    WHERE o.rule_id = %(rule)s
                      AND o.partner_id = c.partner_id
                      AND (o.occasion_key = c.occasion_key::varchar
                           OR (%(cooldown)s > 0 AND o.date > %(cooldown_from)s))
               )
             ORDER BY c.partner_id, c.occasion_date, c.occasion_key
            """,
            candidates=candidates,
            tier_filter=tier_filter,
            partner_filter=partner_filter,
            rule=rule.id,
            cooldown=rule.cooldown_days,
            cooldown_from=cooldown_from,
        )

    @api.model
    def _select(self, rule, today, partner_ids=None, limit=None):
        """``[(partner_id, occasion_key, occasion_date, tier_id)]`` to act on now."""
        query = self._selection_sql(rule, today, partner_ids)
        if limit is not None:
            query = SQL(
                "SELECT * FROM (%s) s ORDER BY occasion_date, partner_id LIMIT %s", query, limit
            )
        self.env.cr.execute(query)
        return self.env.cr.fetchall()

    @api.model
    def _select_with_total(self, rule, today, partner_ids=None, limit=None):
        """``(rows, total)``: :meth:`_select`'s rows and how many there are without
        ``limit``, in one statement (a batch of the nightly run needs no second count)."""
        query = self._selection_sql(rule, today, partner_ids)
        if limit is None:
            self.env.cr.execute(query)
            rows = self.env.cr.fetchall()
            return rows, len(rows)
        self.env.cr.execute(
            SQL(
                "SELECT *, COUNT(*) OVER () FROM (%s) s"
                " ORDER BY occasion_date, partner_id LIMIT %s",
                query,
                limit,
            )
        )
        rows = self.env.cr.fetchall()
        return [row[:-1] for row in rows], (rows[0][-1] if rows else 0)

    @api.model
    def _count(self, rule, today, partner_ids=None):
        self.env.cr.execute(
            SQL("SELECT COUNT(*) FROM (%s) s", self._selection_sql(rule, today, partner_ids))
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _flush_sources(self):
        """Hook: flush what the triggers read before the raw statements."""
        self.env.flush_all()

    # ------------------------------------------------------------------
    # Triggers of vip_customer's tier engine (events and anomalies)
    # ------------------------------------------------------------------
    @api.model
    def _moment_sql_tier_history(self, rule, today, directions):
        since = today - datetime.timedelta(days=EVENT_LOOKBACK_DAYS)
        return SQL(
            """
            SELECT h.partner_id, 'tier:' || h.id AS occasion_key, h.date AS occasion_date
              FROM vip_tier_history h
             WHERE h.company_id = %s AND h.direction IN %s AND h.date BETWEEN %s AND %s
            """,
            rule.company_id.id,
            tuple(directions),
            since,
            today,
        )

    @api.model
    def _moment_sql_tier_up(self, rule, today, horizon):
        """A customer who became VIP or moved up a tier in the last days."""
        return self._moment_sql_tier_history(rule, today, ("new", "upgrade"))

    @api.model
    def _moment_sql_tier_down(self, rule, today, horizon):
        """A customer who moved down a tier (and is still VIP) in the last days."""
        return self._moment_sql_tier_history(rule, today, ("downgrade",))

    @api.model
    def _moment_sql_downgrade_pending(self, rule, today, horizon):
        """A customer below the retention threshold: the downgrade is planned
        (one moment per planned date)."""
        return SQL(
            """
            SELECT p.id AS partner_id, 'downgrade:' || p.vip_downgrade_date AS occasion_key,
                   p.vip_downgrade_date AS occasion_date
              FROM res_partner p
             WHERE p.vip_company_id = %s AND p.vip_downgrade_date IS NOT NULL
            """,
            rule.company_id.id,
        )

    @api.model
    def _moment_sql_churn_high(self, rule, today, horizon):
        """A customer whose churn risk became high (one moment per episode: the
        day it started)."""
        return SQL(
            """
            SELECT p.id AS partner_id, 'churn:' || p.vip_churn_high_since AS occasion_key,
                   p.vip_churn_high_since AS occasion_date
              FROM res_partner p
             WHERE p.vip_company_id = %s AND p.vip_churn_level = 'high'
               AND p.vip_churn_high_since IS NOT NULL
            """,
            rule.company_id.id,
        )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    @api.model
    def _get_assignees(self, rule, partners):
        """``{partner id: res.users}``: who gets each customer's task."""
        if rule.assign_to == "user":
            user = rule.assign_user_id
            return {partner.id: user for partner in partners if user.active and not user.share}
        result = {}
        for partner in partners:
            if rule.assign_to == "salesperson":
                candidates = partner.commercial_partner_id.user_id | partner.user_id
                user = candidates.filtered(lambda u: u.active and not u.share)[:1]
            else:
                # the customer's responsible user, as everywhere in the program
                # (account manager, else salesperson; a hook other add-ons extend)
                user = partner._vip_get_responsible_user()
            if user:
                result[partner.id] = user
        return result

    @api.model
    def _deadline(self, rule, today, occasion_date):
        """Dated moments are due on their date (not before today), the others
        ``deadline_days`` after today."""
        if rule.trigger_kind == "scheduled" and occasion_date:
            return max(occasion_date, today)
        return today + datetime.timedelta(days=rule.deadline_days)

    @api.model
    def _prepare_activity_vals(self, rule, partner, user, deadline, occasion_date):
        lang = user.lang or self.env.lang or "en_US"
        rule_l = rule.with_context(lang=lang)
        env = rule_l.env
        summary = rule_l.activity_summary or rule_l.name
        lines = [
            env._(
                "%(moment)s of %(customer)s (%(tier)s).",
                moment=rule_l.name,
                customer=partner.display_name,
                tier=partner.vip_tier_id.with_context(lang=lang).name or "-",
            )
        ]
        if occasion_date:
            lines.append(
                env._("Occasion date: %(date)s.", date=format_date(env, occasion_date))
            )
        note = Markup("").join(Markup("<p>%s</p>") % line for line in lines)
        if rule_l.activity_note:
            note += rule_l.activity_note
        return {
            # _fire looks the rule's type up once for all its tasks (a query each)
            "activity_type_id": self.env.context.get(ACTIVITY_TYPE_CONTEXT_KEY)
            or rule._get_activity_type().id,
            "res_model_id": self.env["ir.model"]._get_id("res.partner"),
            "res_id": partner.id,
            "user_id": user.id,
            "date_deadline": deadline,
            "summary": summary,
            "note": note,
            "automated": True,
        }

    @api.model
    def _mail_reasons(self, partners):
        """``{partner: reason}`` of the customers who cannot be written to."""
        reasons = {}
        for partner in partners:
            if partner.vip_care_opt_out or partner.commercial_partner_id.vip_care_opt_out:
                reasons[partner] = self.env._("opted out")
            elif partner.is_blacklisted:
                reasons[partner] = self.env._("e-mail blacklisted")
            elif not partner.email_normalized:
                reasons[partner] = self.env._("no valid e-mail")
        return reasons

    @api.model
    def _fire(self, rule, rows, today):
        """Act on the selected ``rows`` of ``rule``: occurrences, tasks, messages.

        :return: the occurrences created
        """
        Occurrence = (
            self.env["vip.moment.occurrence"].sudo().with_context(**{ENGINE_CONTEXT_KEY: True})
        )
        if not rows:
            return Occurrence
        rule = rule.sudo()
        Partner = self.env["res.partner"].sudo()
        partners = Partner.browse([row[0] for row in rows])
        # the records of one prefetch set: one read for all, not one per customer
        partner_by_id = {partner.id: partner for partner in partners}
        reasons = defaultdict(list)
        assignees = self._get_assignees(rule, partners) if rule.create_activity else {}
        deadlines = {row[0]: self._deadline(rule, today, row[2]) for row in rows}
        activity_by_partner = {}
        if rule.create_activity:
            engine = self.with_context(**{ACTIVITY_TYPE_CONTEXT_KEY: rule._get_activity_type().id})
            vals_list, order = [], []
            for partner_id, _key, occasion_date, _tier in rows:
                user = assignees.get(partner_id)
                if not user:
                    reasons[partner_id].append(self.env._("nobody to assign the task to"))
                    continue
                vals_list.append(
                    engine._prepare_activity_vals(
                        rule,
                        partner_by_id[partner_id],
                        user,
                        deadlines[partner_id],
                        occasion_date,
                    )
                )
                order.append(partner_id)
            # one e-mail per task would flood the assignees on the first night
            activities = (
                self.env["mail.activity"]
                .sudo()
                .with_context(mail_activity_quick_update=True)
                .create(vals_list)
            )
            activity_by_partner = dict(zip(order, activities, strict=True))
        mailed, texted = set(), set()
        if rule.mail_template_id or rule.sms_template_id:
            blocked = self._mail_reasons(partners) if rule.mail_template_id else {}
            for partner, reason in blocked.items():
                reasons[partner.id].append(reason)
            if rule.mail_template_id:
                mailed = {p.id for p in partners if p not in blocked}
                if mailed:
                    rule.mail_template_id.sudo().send_mail_batch(
                        [pid for pid in partners.ids if pid in mailed],
                        email_values={"is_notification": True},
                    )
            if rule.sms_template_id:
                reachable = partners.filtered(
                    lambda p: (
                        (p.mobile or p.phone)
                        and not (p.vip_care_opt_out or p.commercial_partner_id.vip_care_opt_out)
                    )
                )
                for partner in partners - reachable:
                    reasons[partner.id].append(self.env._("no phone for the SMS"))
                if reachable:
                    reachable._message_sms_schedule_mass(template=rule.sms_template_id.sudo())
                    texted = set(reachable.ids)
        occurrences = Occurrence.create(
            [
                {
                    "rule_id": rule.id,
                    "partner_id": partner_id,
                    "occasion_key": key,
                    "occasion_date": occasion_date,
                    "tier_id": tier_id,
                    "date": today,
                    "date_deadline": deadlines[partner_id],
                    "user_id": activity_by_partner[partner_id].user_id.id
                    if partner_id in activity_by_partner
                    else False,
                    "activity_id": activity_by_partner[partner_id].id
                    if partner_id in activity_by_partner
                    else False,
                    # a moment without a task is processed by its messages
                    "state": "open" if partner_id in activity_by_partner else "done",
                    "date_done": False if partner_id in activity_by_partner else today,
                    "mail_sent": partner_id in mailed,
                    "sms_sent": partner_id in texted,
                    "skipped_reason": ", ".join(reasons[partner_id]) or False,
                    # the status on the run's day (a replayed or a test night), not the clock's
                    **Occurrence._board_values(
                        "open" if partner_id in activity_by_partner else "done",
                        deadlines[partner_id],
                        today,
                    ),
                }
                for partner_id, key, occasion_date, tier_id in rows
            ]
        )
        return occurrences

    # ------------------------------------------------------------------
    # Runs
    # ------------------------------------------------------------------
    @api.model
    def _get_rules(self, trigger_types=None, companies=None):
        domain = [("active", "=", True)]
        if trigger_types:
            domain.append(("trigger_type", "in", list(trigger_types)))
        if companies:
            domain.append(("company_id", "in", companies.ids))
        rules = self.env["vip.moment.rule"].sudo().search(domain)
        missing = rules.filtered(lambda r: not self._has_trigger(r.trigger_type))
        if missing:
            _logger.warning(
                "VIP key moments: no _moment_sql_<type> for %s, rules skipped",
                sorted(set(missing.mapped("trigger_type"))),
            )
        return rules - missing

    @api.model
    def _run(self, today=None, rules=None, partner_ids=None, limit=None, remaining=None):
        """Evaluate ``rules`` (default: every active rule) for ``today`` and act
        on at most ``limit`` customers in all.

        ``remaining``: a dict, filled with ``{rule id: customers left to act on}``
        for the rules evaluated (those after the limit is reached are not).

        :return: the occurrences created
        """
        today = today or fields.Date.context_today(self)
        rules = self._get_rules() if rules is None else rules
        self._flush_sources()
        self.env["vip.moment.occurrence"]._refresh_board_states(today)
        created = self.env["vip.moment.occurrence"].sudo()
        for rule in rules:
            room = None if limit is None else limit - len(created)
            if room is not None and room <= 0:
                break
            rows, total = self._select_with_total(rule, today, partner_ids, limit=room)
            if remaining is not None:
                remaining[rule.id] = total - len(rows)
            if rows:
                created |= self._fire(rule.with_company(rule.company_id), rows, today)
        return created

    @api.model
    def _pending(self, today=None, rules=None):
        """How many customers the rules still have to act on today."""
        today = today or fields.Date.context_today(self)
        rules = self._get_rules() if rules is None else rules
        self._flush_sources()
        return sum(self._count(rule, today) for rule in rules)

    @api.model
    def _signal(self, trigger_types, partners, today=None):
        """An add-on's event (a complaint closed, a detractor answer): run the
        active rules of ``trigger_types`` for these customers now.

        :return: the occurrences created
        """
        partners = partners.commercial_partner_id | partners
        if not partners:
            return self.env["vip.moment.occurrence"]
        companies = partners.sudo().mapped("vip_company_id") | self.env.company
        rules = self._get_rules(trigger_types, companies)
        if not rules:
            return self.env["vip.moment.occurrence"]
        try:
            # the event's own transaction (a portal answer, a ticket closed) must not
            # fail because the nightly run recorded the same occasion meanwhile
            with self.env.cr.savepoint():
                return self.sudo()._run(today=today, rules=rules, partner_ids=partners.ids)
        except psycopg2.IntegrityError:
            _logger.info(
                "VIP key moments: %s already recorded concurrently, left to the nightly run",
                trigger_types,
            )
            self.env.invalidate_all()
            return self.env["vip.moment.occurrence"]
        except Exception:
            # a rule an admin broke (a template that does not render...) must not fail
            # the customer's survey answer or the agent's ticket: logged, and the
            # nightly run meets the same error where the cron reports it
            _logger.exception(
                "VIP key moments: signal %s failed, left to the nightly run", trigger_types
            )
            self.env.invalidate_all()
            return self.env["vip.moment.occurrence"]

    @api.model
    def _cron_run_key_moments(self, batch_size=MOMENT_BATCH_SIZE):
        """Daily: act on the next customers of today's moments, report the
        progress and return; Odoo's cron runner commits and calls again while
        some remain (the recorded occurrences drop out of the selection, so
        each batch takes the next ones).

        Called by the runner, a call sizes its batches by time
        (``ir.cron._vip_call_budget``) until its share of the server's cron
        limit is spent; otherwise it is one batch of ``batch_size``."""
        today = fields.Date.context_today(self)
        rules = self._get_rules()
        budget = self.env["ir.cron"]._vip_call_budget(batch_size, FIRST_BATCH_SIZE)
        if budget.deferred:
            return self.env["ir.cron"]._vip_defer_call()
        done = 0
        # {rule id: customers left}, the latest count of each rule evaluated in this
        # call; a rule with none left is not selected again by the call's next batches
        left = {}
        for size in budget:
            pending_rules = rules.filtered(lambda rule: left.get(rule.id) != 0)
            created = self._run(today, rules=pending_rules, limit=size, remaining=left)
            budget.spent(len(created), size)
            done += len(created)
        remaining = 0
        if not budget.finished:
            # the last batch was full: the rules evaluated counted what they left in
            # their selection; only the rules no batch reached are counted again
            unreached = rules.filtered(lambda rule: rule.id not in left)
            remaining = sum(left.values()) + (self._pending(today, unreached) if unreached else 0)
        _logger.info("VIP key moments: %s moments recorded, %s remaining", done, remaining)
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
