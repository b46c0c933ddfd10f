"""The VIP tier engine: the nightly cron, batches of customers per call.

Odoo's cron runner calls ``_cron_recompute_tiers`` again (committing between
calls) as long as it reports customers remaining, up to 10 calls per run, then
reschedules the job at once. Each call evaluates the batches its time budget
allows (one batch outside the runner) and returns.

Progress marker: a keyset cursor per company, on res.company
(``vip_recompute_date``: the day of the run in progress or done last;
``vip_recompute_cursor``: the last commercial partner id evaluated by that
run, 0 once it is complete). Customers are taken by increasing id after the
cursor, so a call resumes where the previous one stopped, each customer is
evaluated once per night, and a run complete for today does nothing more
that day. A per-partner "evaluated on" date would rewrite every customer each
night, where the engine writes only the ~5% whose values change.

The run's last step once every customer is evaluated (cursor ``VALUE_STEP``):
the customer value of the company (RFM scores and segment, lifetime figures),
ranked over all its customers (``res.partner._vip_refresh_customer_value``,
in steps of its own under a time budget); an incremental run aggregates again
only the purchases of the customers it evaluated.
"""

import logging

from odoo import api, fields, models
from odoo.tools import SQL

from .vip_tier_engine import BATCH_SIZE

# the first batch of a call under a time limit: a second or less on a loaded machine
FIRST_BATCH_SIZE = 500

_logger = logging.getLogger(__name__)

# Cursor of a run whose customers are all evaluated: the customer value refresh remains.
VALUE_STEP = -1


class VipTierEngine(models.AbstractModel):
    _inherit = "vip.tier.engine"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _cron_recompute_tiers(self, batch_size=BATCH_SIZE, today=None):
        """Nightly: evaluate the next customers of today's run, report the
        progress and return.

        Called by Odoo's cron runner, a call works by time
        (``ir.cron._vip_call_budget``): batches of customers sized from the
        time the previous ones took, at most ``batch_size`` each, until its
        share of the server's cron limit is spent. Outside the runner (or
        without a limit) a call is one batch of ``batch_size``.

        Companies are run one after the other (by id); a batch is the next
        customers after the company's cursor. Once they are all evaluated,
        the company's customer value is refreshed: in steps under the runner
        (``res.partner._vip_refresh_customer_value_step``), else at once in a
        call of its own (in the same call only when no customer was evaluated
        in it). ``remaining`` counts the customers of today's run not
        evaluated yet, in every company, plus one per value refresh to come.
        "Run Manually" on the cron is one such call; to evaluate every
        customer again the same day, "Re-evaluate All Now" (settings) starts a
        new run (:meth:`_request_full_run`).
        """
        today = today or fields.Date.context_today(self)
        engine = self.sudo()  # the rules decide for every company, whoever runs the job
        budget = self.env["ir.cron"]._vip_call_budget(batch_size, FIRST_BATCH_SIZE)
        if budget.deferred:
            return self.env["ir.cron"]._vip_defer_call()
        companies = engine._get_recompute_companies(today)
        done = 0
        remaining = 0
        for company in companies:
            for size in budget:
                count, more = engine._recompute_step(company, today, size, budget.limited)
                budget.spent(count)
                done += count
                if not more:
                    break  # the company's run is complete: the next company
            remaining += engine._remaining_in_run(company, today)
        if not companies:
            _logger.info(
                "VIP tiers: every customer already evaluated today, nothing to do "
                "(\"Re-evaluate All Now\" in the settings evaluates them again)"
            )
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)

    def _recompute_step(self, company, today, size, stepwise):
        """One step of ``company``'s run of ``today``: a batch of at most
        ``size`` customers, or (every customer evaluated) the customer value
        refresh, a step of it when ``stepwise``.

        :return: ``(count, more)``: the customers the step went through (at
            least 1), and whether the company's run goes on after it
        """
        if company.vip_recompute_date != today:
            self._start_run(company, today)
        cursor = company.vip_recompute_cursor
        if cursor != VALUE_STEP:
            full = self._is_full_run(company, today)
            ids = self._pending_customers(
                company, cursor, today, limit=size, full=full, count=False
            )[0]
            if ids:
                self.with_context(vip_night_run=True)._recompute(
                    company, partner_ids=ids, today=today
                )
            if len(ids) == size:
                self._save_resume_point(company, ids[-1], today, evaluated=len(ids))
                return len(ids), True
            self._save_resume_point(company, VALUE_STEP, today, evaluated=len(ids))
            if ids:
                # every customer evaluated: the value refresh is the next step
                return len(ids), True
        Partner = self.env["res.partner"].sudo()
        # a full run ranks every customer's purchases again, an incremental one
        # aggregates only the customers it evaluated
        full = self._is_full_run(company, today)
        if stepwise:
            count, finished, _changed = Partner._vip_refresh_customer_value_step(
                company, today, size, full=full
            )
        else:
            Partner._vip_refresh_customer_value(company, today, full=full)
            count, finished = 1, True
        if not finished:
            return max(count, 1), True
        self._save_resume_point(company, 0, today)
        _logger.info("VIP tiers of %s: today's run is complete", company.name)
        return max(count, 1), False

    def _remaining_in_run(self, company, today):
        """What is left of ``company``'s run of ``today``: the customers not
        evaluated yet plus one for the value refresh (0 once complete).

        The customers are counted once per run (the first call's end; a count
        reads every partner after the cursor, ~1 s at 200k customers), then
        each batch lowers the count (``vip_recompute_pending``). Customers
        created during the run are evaluated all the same (the run ends when
        a batch comes back short), the count only reports them late."""
        started = company.vip_recompute_date == today
        if started:
            cursor = company.vip_recompute_cursor
            if not cursor:
                return 0
            if cursor == VALUE_STEP:
                return 1
            if company.vip_recompute_pending:
                return company.vip_recompute_pending + 1
        else:
            cursor = 0
        full = self._is_full_run(company, today)
        count = self._pending_customers(company, cursor, today, full=full)[1]
        if started:
            self.env.cr.execute(
                SQL(
                    "UPDATE res_company SET vip_recompute_pending = %s WHERE id = %s",
                    count,
                    company.id,
                )
            )
            company.invalidate_recordset(["vip_recompute_pending"])
        return count + 1

    @api.model
    def _get_recompute_companies(self, today):
        """The companies whose run of ``today`` is not complete, by id."""
        # every company: a handful of records
        companies = self.env["res.company"].sudo().search([], order="id")  # pylint: disable=no-search-all
        return companies.filtered(
            lambda c: c.vip_recompute_date != today or c.vip_recompute_cursor
        )

    def _start_run(self, company, today):
        """A run of a new day starts: full when one was requested (rules or
        settings changed, "Re-evaluate All Now", never run, a replay of an
        earlier day), incremental
        otherwise. The choice holds for the whole run (``vip_recompute_run_full``),
        and a request made during it is kept for the next one."""
        full = self._is_full_run(company, today)
        self.env.cr.execute(
            SQL(
                "UPDATE res_company SET vip_recompute_run_full = %s, vip_recompute_full = FALSE, "
                "vip_recompute_cursor = 0, vip_recompute_date = %s, "
                "vip_recompute_pending = NULL WHERE id = %s",
                bool(full),
                today,
                company.id,
            )
        )
        company.invalidate_recordset(
            [
                "vip_recompute_run_full",
                "vip_recompute_full",
                "vip_recompute_cursor",
                "vip_recompute_date",
                "vip_recompute_pending",
            ]
        )
        _logger.info(
            "VIP tiers of %s: %s run", company.name, "full" if full else "incremental"
        )

    def _is_full_run(self, company, today):
        """Whether the run of ``today`` (started, or the next one) is full."""
        if company.vip_recompute_date == today:
            return bool(company.vip_recompute_run_full)
        # a full run left unfinished (past midnight) is not continued as incremental:
        # the customers after its cursor were not evaluated. A day earlier than the
        # last run (a replay) is full too: the stored evaluation days and the
        # customer value's work table are a later day's.
        return bool(
            company.vip_recompute_full
            or not company.vip_recompute_date
            or (company.vip_recompute_run_full and company.vip_recompute_cursor)
            or today < company.vip_recompute_date
        )

    @api.model
    def _pending_customers(self, company, cursor, today, limit=None, full=True, count=True):
        """The customers of ``company`` after ``cursor`` (a partner id) that a
        run on ``today`` evaluates: the ones ``_fetch_rows`` evaluates
        (commercial partners with purchases up to today or in the program),
        all of them in a full run, in an incremental run those whose next
        evaluation day has come (``vip_eval_date``: marked by a change, or a
        day their result changes by the calendar).

        :return: ``(ids, count)``: the first ``limit`` ids (none without a
            limit) and how many there are in all (None with ``count`` False:
            a batch of a call only needs its ids)
        """
        self.env["account.move"].flush_model()
        self.env["res.partner"].flush_model()
        if not full:
            query = SQL(
                """SELECT rp.id FROM res_partner rp
                    WHERE rp.vip_eval_date <= %(today)s AND rp.id > %(cursor)s
                      AND %(customers)s""",
                today=today,
                cursor=cursor,
                customers=self._customers_where(company),
            )
            return self._pending_ids(query, limit, count)
        context = self._prepare_run_context(company, today)
        # EXISTS probes the purchase index partner by partner, from the cursor on: an
        # "IN (SELECT ... purchases)" inside the OR became a sub-plan scanning every
        # purchase once per partner when its hash did not fit in work_mem (minutes at
        # 200k customers). Cost: the ids stop at ``limit``; the count reads the
        # partners after the cursor (~1 s at 200k / 2M at the start of a run, less
        # as it goes on).
        query = SQL(
            """WITH purchases AS (%(purchases)s)
               SELECT rp.id FROM res_partner rp
                WHERE rp.id > %(cursor)s AND %(customers)s
                  AND (rp.vip_company_id = %(company)s
                       OR EXISTS (SELECT 1 FROM purchases p
                                   WHERE p.partner_id = rp.id AND p.date <= %(today)s))""",
            purchases=self._purchases_sql(company, context["horizon"]),
            cursor=cursor,
            customers=self._customers_where(company),
            company=company.id,
            today=today,
        )
        return self._pending_ids(query, limit, count)

    def _pending_ids(self, query, limit, count=True):
        ids = []
        if limit:
            rows = self.env.execute_query(SQL("%s ORDER BY rp.id LIMIT %s", query, limit))
            ids = [row[0] for row in rows]
        if not count:
            return ids, None
        if limit and len(ids) < limit:
            return ids, len(ids)  # the last batch: nothing after it
        [(count,)] = self.env.execute_query(SQL("SELECT COUNT(*) FROM (%s) AS pending", query))
        return ids, count

    def _save_resume_point(self, company, partner_id, today, evaluated=0):
        """Record the cursor of ``company``'s run: ``partner_id`` evaluated
        last on ``today`` (0: the run of that day is complete; ``today``
        False: no run yet, the next call starts one); ``evaluated`` customers
        fewer are pending (once counted, see :meth:`_remaining_in_run`).

        Plain SQL on the engine's columns of res.company (nothing tracks or
        depends on them): ``res.company.write()`` does far more than they
        need, once per batch.
        """
        self.env.cr.execute(
            SQL(
                "UPDATE res_company SET vip_recompute_cursor = %s, vip_recompute_date = %s, "
                "vip_recompute_pending = vip_recompute_pending "
                "- LEAST(vip_recompute_pending, %s) "
                "WHERE id = %s",
                partner_id,
                today or None,
                evaluated,
                company.id,
            )
        )
        company.invalidate_recordset(
            ["vip_recompute_cursor", "vip_recompute_date", "vip_recompute_pending"]
        )

    @api.model
    def _request_full_run(self, companies):
        """Evaluate every customer of ``companies`` again, in the background:
        their run starts over and the nightly cron is triggered (its batches
        run in the cron worker, not in the caller's request).

        :return: the ``ir.cron.trigger`` created
        """
        for company in companies:
            self._save_resume_point(company, 0, False)
        self.env["res.company"].browse(companies.ids).sudo()._vip_request_full_run()
        # sudo: the cron is an admin record; the caller's rights were checked
        cron = self.env.ref("vip_customer.ir_cron_vip_recompute_tiers").sudo()
        return cron._trigger()
