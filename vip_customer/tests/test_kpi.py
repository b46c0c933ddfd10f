import ast
import datetime
from unittest.mock import patch

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time
from lxml import etree

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL

from .common import VipCustomerCommon

D = datetime.date
JAN = D(2025, 1, 1)
FEB = D(2025, 2, 1)


@tagged("post_install", "-at_install")
class TestProgramKpis(VipCustomerCommon):
    """A small program built by hand over January and February 2025, and every
    KPI of February (and some of January) computed by hand.

    Tiers: C (level 1) < B (2) < A (3). Tier at the start of a period: the
    last history row before its first day; at the end: the last one on or
    before its last day.

    ========  =========================================  ========  ==========  ====================
    customer  tier history                               Jan       Feb         Feb purchases
    ========  =========================================  ========  ==========  ====================
    Alpha     C 2024-12-10, B 2025-02-10                 C->C      C->B up     1000 + 2000 (by its
                                                                               contact) = 2, 3000
    Beta      B 2024-12-01, left 2025-02-14              B->B      B->- lost   800, and 400 refunded
                                                                               in full: 1, 800
    Gamma     A 2024-11-01, left 02-05, A again 02-20    A->A      A->A stayed none
    Delta     C 2025-02-12                               -         -->C new    600: 1
    Epsilon   C 2024-12-01, left 2025-01-20, C 02-25     C->- lost -->C new    300 + 300: 2
    Zeta      never VIP                                  bucket    bucket      1000 (Jan: 200)
    Eta       never VIP                                  bucket    bucket(prev) none (Jan: 100)
    ========  =========================================  ========  ==========  ====================
    Alpha bought 500 in January.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Kpi = cls.env["vip.kpi.engine"]
        cls.Fact = cls.env["vip.kpi.fact"]
        cls.Period = cls.env["vip.kpi.period"]
        Partner = cls.env["res.partner"]
        cls.alpha = Partner.create(
            {"name": "Alpha Ltd", "is_company": True, "vip_account_manager_id": cls.vip_user.id}
        )
        cls.alpha_contact = Partner.create({"name": "Alice Alpha", "parent_id": cls.alpha.id})
        cls.beta = Partner.create({"name": "Beta Ltd", "is_company": True})
        cls.gamma = Partner.create(
            {"name": "Gamma Ltd", "is_company": True, "vip_account_manager_id": cls.vip_user.id}
        )
        cls.delta = Partner.create({"name": "Delta Ltd", "is_company": True})
        cls.epsilon = Partner.create({"name": "Epsilon Ltd", "is_company": True})
        cls.zeta = Partner.create({"name": "Zeta Ltd", "is_company": True})
        cls.eta = Partner.create({"name": "Eta Ltd", "is_company": True})
        c, b, a, none = cls.tier_c, cls.tier_b, cls.tier_a, cls.Tier
        cls._history(
            [
                (cls.gamma, none, a, D(2024, 11, 1)),
                (cls.beta, none, b, D(2024, 12, 1)),
                (cls.epsilon, none, c, D(2024, 12, 1)),
                (cls.alpha, none, c, D(2024, 12, 10)),
                (cls.epsilon, c, none, D(2025, 1, 20)),
                (cls.gamma, a, none, D(2025, 2, 5)),
                (cls.alpha, c, b, D(2025, 2, 10)),
                (cls.delta, none, c, D(2025, 2, 12)),
                (cls.beta, b, none, D(2025, 2, 14)),
                (cls.gamma, none, a, D(2025, 2, 20)),
                (cls.epsilon, none, c, D(2025, 2, 25)),
            ]
        )
        cls._invoice_on(cls.zeta, 200, D(2025, 1, 10))
        cls._invoice_on(cls.eta, 100, D(2025, 1, 12))
        cls._invoice_on(cls.alpha, 500, D(2025, 1, 15))
        cls._invoice_on(cls.beta, 800, D(2025, 2, 3))
        cls._invoice_on(cls.alpha, 1000, D(2025, 2, 5))
        cls.beta_second = cls._invoice_on(cls.beta, 400, D(2025, 2, 10))
        cls.beta_refund = cls.beta_second._reverse_moves(
            [{"invoice_date": D(2025, 2, 12), "date": D(2025, 2, 12)}], cancel=True
        )
        cls._invoice_on(cls.delta, 600, D(2025, 2, 13))
        cls._invoice_on(cls.zeta, 1000, D(2025, 2, 15))
        cls._invoice_on(cls.alpha_contact, 2000, D(2025, 2, 20))
        cls._invoice_on(cls.epsilon, 300, D(2025, 2, 26))
        cls._invoice_on(cls.epsilon, 300, D(2025, 2, 27))

    @classmethod
    def _history(cls, changes):
        """Tier history written the way the tier engine writes it."""
        cls.Engine._log_tier_changes(
            [
                {
                    "partner": partner,
                    "old_tier": old,
                    "new_tier": new,
                    "reason": "rule",
                    "date": day,
                }
                for partner, old, new, day in changes
            ]
        )

    @classmethod
    def _invoice_on(cls, partner, amount, day):
        return cls._invoice(partner, amount, days_ago=(cls.today - day).days)

    def _compute(self, start=FEB, period_type="month"):
        return self.Kpi._compute_period(self.company, period_type, start)

    def _facts(self, start=FEB, period_type="month"):
        facts = self.Fact.search(
            [
                ("company_id", "=", self.company.id),
                ("period_type", "=", period_type),
                ("date_start", "=", start),
            ]
        )
        return {fact.partner_id: fact for fact in facts}

    def _summary(self, start=FEB, period_type="month"):
        return self.Period.search(
            [
                ("company_id", "=", self.company.id),
                ("period_type", "=", period_type),
                ("date_start", "=", start),
            ]
        )

    # ------------------------------------------------------------------
    # One period, customer by customer
    # ------------------------------------------------------------------
    def test_february_facts(self):
        self.assertEqual(self.beta_second.payment_state, "reversed")
        self.assertEqual(self._compute(), 6)  # five VIP rows and the non-VIP bucket
        facts = self._facts()
        self.assertEqual(
            set(facts),
            {self.alpha, self.beta, self.gamma, self.delta, self.epsilon, self.env["res.partner"]},
        )
        alpha, beta, gamma = facts[self.alpha], facts[self.beta], facts[self.gamma]
        delta, epsilon, bucket = facts[self.delta], facts[self.epsilon], facts[self.Fact.partner_id]
        self.assertEqual(alpha.date_end, D(2025, 2, 28))
        expected = {
            # customer: tier start, tier end, movement, retention, renewal, repeat,
            #           spend, prev spend, purchases
            alpha: (self.tier_c, self.tier_b, "upgrade", 100, 100, 100, 3000, 500, 2),
            # the refund cancels the only second purchase: one purchase, no repeat
            beta: (self.tier_b, self.Tier, "lost", 0, 100, 0, 800, 0, 1),
            # left and came back within February: stayed, retained, did not buy
            gamma: (self.tier_a, self.tier_a, "stayed", 100, 0, False, 0, 0, 0),
            delta: (self.Tier, self.tier_c, "new", False, False, 0, 600, 0, 1),
            # left in January, back in February: new again
            epsilon: (self.Tier, self.tier_c, "new", False, False, 100, 600, 0, 2),
        }
        for fact, values in expected.items():
            got = (
                fact.tier_start_id,
                fact.tier_end_id,
                fact.movement,
                self._rate(fact, "retention_pct"),
                self._rate(fact, "renewal_pct"),
                self._rate(fact, "repeat_pct"),
                fact.spend,
                fact.prev_spend,
                fact.purchase_count,
            )
            self.assertEqual(got, values, fact.partner_id.name)
            self.assertEqual(fact.customer_count, 1)
        self.assertEqual((alpha.is_vip_start, alpha.is_vip_end), (True, True))
        self.assertEqual((beta.is_vip_start, beta.is_vip_end), (True, False))
        self.assertEqual((delta.is_vip_start, delta.is_vip_end), (False, True))
        # non-VIP buyers: Zeta bought in February (Eta only in January)
        self.assertEqual(
            (bucket.customer_count, bucket.spend, bucket.prev_spend, bucket.purchase_count),
            (1, 1000, 300, 1),
        )
        self.assertFalse(bucket.movement)
        self.assertEqual(self._rate(bucket, "retention_pct"), False)
        self.assertEqual(self._rate(bucket, "repeat_pct"), False)
        # no hook installed in vip_customer: no satisfaction nor ticket figures
        self.assertEqual(self._rate(alpha, "satisfaction"), False)
        self.assertEqual((alpha.ticket_count, alpha.satisfaction_count), (0, 0))

    def _rate(self, fact, fname):
        """The stored value of a nullable rate column (False when NULL: the
        ORM reads a NULL float as 0.0)."""
        self.env.cr.execute(
            SQL("SELECT %s FROM vip_kpi_fact WHERE id = %s", SQL.identifier(fname), fact.id)
        )
        value = self.env.cr.fetchone()[0]
        return False if value is None else value

    def _arch(self, model, view_type):
        views = self.env[model].get_views([(False, view_type)])["views"]
        return etree.fromstring(views[view_type]["arch"])

    def test_rates_outside_their_base_read_as_no_data(self):
        """A customer outside a rate's base has no figure there: Delta was not
        VIP at the start (no retention), Gamma bought nothing (no repeat). The
        list leaves the cell empty and the form says why, where "0.00" would
        read as "not retained"; Beta's real 0 (lost) shows."""
        self._compute()
        facts = self._facts()
        beta, gamma, delta = facts[self.beta], facts[self.gamma], facts[self.delta]
        self.assertFalse(delta.has_retention_pct)
        self.assertFalse(delta.has_renewal_pct)
        self.assertFalse(gamma.has_repeat_pct)
        self.assertTrue(beta.has_retention_pct)
        self.assertEqual(beta.retention_pct, 0)
        for fact in facts.values():
            for flag, column in fact._FIGURE_PRESENCE.items():
                self.assertEqual(
                    fact[flag], self._rate(fact, column) is not False, (fact.partner_id.name, flag)
                )
        self.assert_figures_shown_with_data_only("vip.kpi.fact")

    def test_a_month_in_progress_is_not_judged_yet(self):
        """Computed during February, the month is in progress: its renewal (Gamma
        has not bought yet) is not "below target", neither in the filter nor in
        red in the list and kanban. Computed again after its end (the nightly
        job does it the night after), it is judged."""
        arch = self._arch("vip.kpi.period", "search")
        [node] = arch.xpath("//filter[@name='renewal_below']")
        below = ast.literal_eval(node.get("domain")) + [("company_id", "=", self.company.id)]
        with freeze_time("2025-02-10 09:00:00"):
            self._compute()
        period = self._summary()
        self.assertTrue(period.is_partial)
        self.assertTrue(period.has_renewal)
        self.assertFalse(period.renewal_ok)  # 66.7% against 90% so far
        self.assertNotIn(period, self.Period.search(below))
        with freeze_time("2025-03-01 01:00:00"):
            self._compute()
        self.assertFalse(period.is_partial)
        self.assertIn(period, self.Period.search(below))
        # the day is the engine's (the cron's local day), not the UTC one: in Shanghai the
        # night run of March 1st at 01:00 is still February 28th in UTC
        for utc, partial in (("2025-02-28 17:00:00", False), ("2025-02-28 15:00:00", True)):
            with freeze_time(utc):
                self.Kpi.with_context(tz="Asia/Shanghai")._compute_period(
                    self.company, "month", FEB
                )
            self.assertEqual(period.is_partial, partial, utc)
        # the list and the kanban colour a rate red only once the period is over
        [renewal] = self._arch("vip.kpi.period", "list").xpath("//field[@name='renewal_rate']")
        self.assertIn("not is_partial", renewal.get("decoration-danger"))
        # and leaves a rate without data empty (the kanban shows "–"), not a grey 0.00
        self.assertIn("not has_renewal", renewal.get("invisible"))
        kanban = etree.tostring(self._arch("vip.kpi.period", "kanban"), encoding="unicode")
        self.assertIn("record.is_partial.raw_value ? 'btn-light'", kanban)

    def test_february_summary(self):
        self._compute()
        period = self._summary()
        self.assertEqual(period.name, "2025-02")
        self.assertEqual(period.date_end, D(2025, 2, 28))
        self.assertEqual(
            (period.vip_start_count, period.vip_end_count, period.new_count, period.lost_count),
            (3, 4, 2, 1),
        )
        self.assertAlmostEqual(period.retention_rate, 200 / 3)  # Alpha, Gamma of 3
        self.assertAlmostEqual(period.renewal_rate, 200 / 3)  # Alpha, Beta of 3
        self.assertAlmostEqual(period.repeat_rate, 50)  # Alpha, Epsilon of 4 buyers
        self.assertEqual((period.vip_spend, period.total_spend), (5000, 6000))
        self.assertAlmostEqual(period.vip_spend_share, 500 / 6)
        # default targets: 90 / 90 / 50 / 85
        self.assertEqual(
            (period.target_retention, period.target_renewal, period.target_repeat),
            (90, 90, 50),
        )
        self.assertEqual(
            (period.retention_ok, period.renewal_ok, period.repeat_ok),
            (False, False, True),
        )
        # no answers at all: satisfaction has no data, so it is not on target
        self.assertFalse(period.has_satisfaction)
        self.assertFalse(period.satisfaction_ok)
        # the pivot's average at the period level is the summary's rate
        [[retention, repeat]] = self.Fact._read_group(
            [("company_id", "=", self.company.id), ("date_start", "=", FEB)],
            aggregates=["retention_pct:avg", "repeat_pct:avg"],
        )
        self.assertAlmostEqual(retention, 200 / 3)
        self.assertAlmostEqual(repeat, 50)

    def test_migration_matrix_and_spend_by_tier(self):
        self._compute()
        groups = self.Fact._read_group(
            [("company_id", "=", self.company.id), ("date_start", "=", FEB)],
            ["tier_start_id", "tier_end_id"],
            ["customer_count:sum", "spend:sum"],
        )
        matrix = {(s.code, e.code): (n, spend) for s, e, n, spend in groups}
        self.assertEqual(
            matrix,
            {
                ("C", "B"): (1, 3000),
                ("B", False): (1, 800),
                ("A", "A"): (1, 0),
                (False, "C"): (2, 1200),
                (False, False): (1, 1000),  # the non-VIP buyers
            },
        )

    def test_january_and_renewed_period(self):
        self._compute(JAN)
        facts = self._facts(JAN)
        self.assertEqual(
            {p.name: f.movement for p, f in facts.items() if p},
            {
                "Alpha Ltd": "stayed",
                "Beta Ltd": "stayed",
                "Gamma Ltd": "stayed",
                "Epsilon Ltd": "lost",
            },
        )
        period = self._summary(JAN)
        self.assertEqual((period.vip_start_count, period.lost_count), (4, 1))
        self.assertAlmostEqual(period.retention_rate, 75)
        self.assertAlmostEqual(period.renewal_rate, 25)  # only Alpha bought
        self.assertEqual(facts[self.Fact.partner_id].customer_count, 2)  # Zeta and Eta
        # computing again replaces the period's rows, it does not add to them
        self.assertEqual(self._compute(JAN), 5)
        self.assertEqual(len(self._facts(JAN)), 5)
        self.assertEqual(len(self._summary(JAN)), 1)

    def test_quarter_and_range(self):
        # Q1 2025: start = 2025-01-01, end = 2025-03-31
        self.Kpi._compute_range(self.company, "quarter", D(2024, 12, 15), D(2025, 3, 1))
        self.assertFalse(self._summary(D(2024, 10, 1), "quarter"))  # starts before the range
        period = self._summary(JAN, "quarter")
        self.assertEqual(period.name, "2025 Q1")
        facts = self._facts(JAN, "quarter")
        self.assertEqual(facts[self.alpha].purchase_count, 3)
        self.assertEqual(facts[self.alpha].spend, 3500)
        self.assertEqual(facts[self.epsilon].movement, "stayed")  # C at both ends
        self.assertEqual(facts[self.beta].movement, "lost")
        self.Kpi._compute_range(self.company, "month", JAN, FEB)
        self.assertEqual(self._summary(JAN).name, "2025-01")
        self.assertEqual(self._summary(FEB).name, "2025-02")
        self.assertEqual(self.Kpi._period_name("year", JAN), "2025")

    def test_retention_tier_threshold(self):
        # retention of B and above: Beta (B, lost) and Gamma (A, kept); Alpha was C
        self.company.vip_kpi_retention_tier_id = self.tier_b
        self._compute()
        facts = self._facts()
        self.assertEqual(self._rate(facts[self.alpha], "retention_pct"), False)
        self.assertEqual(self._rate(facts[self.beta], "retention_pct"), 0)
        self.assertEqual(self._rate(facts[self.gamma], "retention_pct"), 100)
        self.assertAlmostEqual(self._summary().retention_rate, 50)
        self.assertEqual(
            (facts[self.alpha].retention_base, facts[self.beta].retention_base), (False, True)
        )
        # a B customer falling to C is not retained at the B level
        self.company.vip_kpi_retention_tier_id = self.tier_a
        self._compute()
        self.assertAlmostEqual(self._summary().retention_rate, 100)  # Gamma only

    def test_contact_purchases_roll_up(self):
        self._compute()
        facts = self._facts()
        self.assertNotIn(self.alpha_contact, facts)
        self.assertEqual(facts[self.alpha].purchase_count, 2)

    def test_manager_change_mid_period(self):
        """Documented rule: the whole period goes to the manager of the
        customer when the period is computed."""
        self._compute(JAN)
        self._compute()
        self.assertEqual(self._facts()[self.alpha].manager_id, self.vip_user)
        other = new_test_user(
            self.env,
            login="vip_kpi-other-manager",
            groups="base.group_user,vip_customer.group_vip_user",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        self.alpha.vip_account_manager_id = other
        self._compute()
        self.assertEqual(self._facts()[self.alpha].manager_id, other)
        self.assertEqual(self._facts()[self.gamma].manager_id, self.vip_user)
        # January, computed before the change, stays as it was computed
        self.assertEqual(self._facts(JAN)[self.alpha].manager_id, self.vip_user)

    # ------------------------------------------------------------------
    # Hooks: satisfaction and service
    # ------------------------------------------------------------------
    def test_hooks_reach_satisfaction_nps_sla(self):
        alpha, gamma, beta = self.alpha.id, self.gamma.id, self.beta.id

        def answers(engine, company, date_from, date_to):
            self.assertEqual((date_from, date_to), (FEB, D(2025, 2, 28)))
            return [
                SQL(
                    "SELECT * FROM (VALUES (%s, DATE '2025-02-03', 80.0::float, 10), "
                    "(%s, DATE '2025-02-20', 60.0, 6), (%s, DATE '2025-02-21', 90.0, 8), "
                    "(%s, DATE '2025-01-31', 10.0, 0)) AS v(partner_id, date, satisfaction, nps)",
                    alpha,
                    alpha,
                    gamma,
                    beta,  # January: outside the period
                ),
                SQL(
                    "SELECT %s AS partner_id, DATE '2025-02-22' AS date, "
                    "NULL::float AS satisfaction, NULL::int AS nps",
                    gamma,
                ),
            ]

        def tickets(engine, company, date_from, date_to):
            return [
                SQL(
                    "SELECT * FROM (VALUES (%s, DATE '2025-02-02', TRUE, TRUE), "
                    "(%s, DATE '2025-02-03', FALSE, NULL::bool), "
                    "(%s, DATE '2025-02-04', FALSE, TRUE), (%s, DATE '2025-02-05', TRUE, FALSE)) "
                    "AS v(partner_id, date, is_complaint, sla_met)",
                    alpha,
                    alpha,
                    gamma,
                    gamma,
                )
            ]

        Engine = type(self.Kpi)
        with (
            patch.object(Engine, "_get_satisfaction_sources", answers),
            patch.object(Engine, "_get_service_sources", tickets),
        ):
            self._compute()
        facts = self._facts()
        a, g, b = facts[self.alpha], facts[self.gamma], facts[self.beta]
        self.assertEqual((a.satisfaction, a.satisfaction_count), (70, 2))
        self.assertEqual(a.nps_pct, -100)  # last answer: 6, a detractor
        self.assertEqual((g.satisfaction, g.satisfaction_count), (90, 1))
        self.assertEqual((a.has_nps, b.has_nps), (True, False))
        self.assertEqual(g.nps_pct, 0)  # 8: passive
        self.assertEqual(self._rate(b, "satisfaction"), False)
        self.assertEqual(self._rate(b, "nps_pct"), False)
        self.assertEqual((a.ticket_count, a.complaint_count, a.sla_pct), (2, 1, 100))
        self.assertEqual((g.ticket_count, g.complaint_count, g.sla_pct), (2, 1, 50))
        self.assertEqual(self._rate(b, "sla_pct"), False)
        period = self._summary()
        self.assertAlmostEqual(period.satisfaction, 80)
        self.assertAlmostEqual(period.nps, -50)
        self.assertTrue(period.has_satisfaction)
        self.assertFalse(period.satisfaction_ok)  # 80 < 85
        self.assertTrue(period.nps_ok is False)  # -50 < 0

    # ------------------------------------------------------------------
    # Drill-down
    # ------------------------------------------------------------------
    def test_drilldown_to_customers(self):
        self._compute()
        period = self._summary()
        expected = {
            "retention": {self.alpha, self.beta, self.gamma},
            "retention_lost": {self.beta},
            "no_renewal": {self.gamma},
            "renewal": {self.alpha, self.beta, self.gamma},
            "repeat": {self.alpha, self.beta, self.delta, self.epsilon},
            "new": {self.delta, self.epsilon},
            "lost": {self.beta},
            "upgrade": {self.alpha},
        }
        for key, partners in expected.items():
            action = period.with_context(vip_kpi=key).action_open_facts()
            self.assertEqual(action["res_model"], "vip.kpi.fact")
            facts = self.Fact.search(action["domain"])
            self.assertEqual(set(facts.partner_id), partners, key)
        everything = self.Fact.search(period.action_open_facts()["domain"])
        self.assertEqual(len(everything), 6)
        with self.assertRaises(UserError):
            period.with_context(vip_kpi="nonsense").action_open_facts()

    # ------------------------------------------------------------------
    # Cron
    # ------------------------------------------------------------------
    def test_cron_batches_and_progress(self):
        today = fields.Date.context_today(self.Kpi)
        month = self.Kpi._period_start("month", today)
        companies = self.env["res.company"].search([])
        companies.sudo().write({"vip_kpi_date": today, "vip_kpi_history_cursor": False})
        self.company.write(
            {"vip_kpi_date": False, "vip_kpi_history_cursor": month - relativedelta(months=4)}
        )
        units = self.Kpi._pending_kpi_work(self.company, today)
        self.assertEqual([kind for kind, _periods in units], ["history"] * 4 + ["today"])
        total = sum(len(periods) for _kind, periods in units)
        progress = self.run_cron(self.Kpi._cron_compute_kpis, batch_size=3)
        self.assertGreater(len(progress), 2)
        self.assertEqual(sum(done for done, _rest in progress), total)
        self.assertEqual(progress[-1][1], 0)
        for (_done, remaining), (_next_done, next_remaining) in zip(
            progress, progress[1:], strict=False
        ):
            self.assertEqual(remaining, _next_done + next_remaining)
        self.assertFalse(self.company.vip_kpi_history_cursor)
        self.assertEqual(self.company.vip_kpi_date, today)
        for months_back in range(1, 5):
            self.assertTrue(self._summary(month - relativedelta(months=months_back)))
        for period_type in ("month", "quarter", "year"):
            self.assertTrue(self._summary(self.Kpi._period_start(period_type, today), period_type))
        # the day's work is done: the next call computes nothing
        self.assertEqual(self.run_cron(self.Kpi._cron_compute_kpis), [(0, 0)])

    def test_cron_works_by_time_under_the_runner(self):
        """Under a time limit a call does its first unit, then as many as the time
        allows: all of them with time to spare, one with none left, none at all
        (and a trigger for a new pass) when the pass's time is already spent."""
        today = fields.Date.context_today(self.Kpi)
        month = self.Kpi._period_start("month", today)
        self.env["res.company"].search([]).sudo().write(
            {"vip_kpi_date": today, "vip_kpi_history_cursor": False}
        )
        self.company.write(
            {"vip_kpi_date": False, "vip_kpi_history_cursor": month - relativedelta(months=3)}
        )
        units = self.Kpi._pending_kpi_work(self.company, today)
        first = len(units[0][1])
        total = sum(len(periods) for _kind, periods in units)
        Cron = type(self.env["ir.cron"])
        cron = self.env.ref("vip_customer.ir_cron_vip_compute_kpis")
        Trigger = self.env["ir.cron.trigger"]
        triggers = Trigger.search_count([("cron_id", "=", cron.id)])
        calls = []
        for seconds in (0.0, 1e-9, 600.0):
            with patch.object(Cron, "_vip_call_seconds", lambda _cron, s=seconds: s):
                calls += self.run_cron(
                    self.Kpi.with_context(cron_id=cron.id)._cron_compute_kpis, max_calls=1
                )
        self.assertEqual(calls, [(0, 0), (first, total - first), (total - first, 0)])
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), triggers + 1,
                         "a call with no time left asks for a new pass")
        self.assertFalse(self.company.vip_kpi_history_cursor)
        self.assertEqual(self.company.vip_kpi_date, today)

    def test_recompute_button(self):
        today = fields.Date.context_today(self.Kpi)
        self.company.vip_kpi_date = today
        Period = self.Period.with_user(self.vip_manager)
        action = Period.action_recompute_kpis()
        self.assertEqual(action["tag"], "display_notification")
        self.assertFalse(self.company.vip_kpi_date)
        cron = self.env.ref("vip_customer.ir_cron_vip_compute_kpis")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))
        Period.action_recompute_history()
        self.assertEqual(
            self.company.vip_kpi_history_cursor,
            self.Kpi._period_start("month", today) - relativedelta(months=24),
        )
        with self.assertRaises(AccessError):
            self.Period.with_user(self.vip_user).action_recompute_kpis()
        with self.assertRaises(AccessError):
            self.Period.with_user(self.salesman).action_recompute_history()

    # ------------------------------------------------------------------
    # Security
    # ------------------------------------------------------------------
    def test_nobody_writes_facts_or_periods(self):
        self._compute()
        fact = self._facts()[self.alpha]
        period = self._summary()
        for user in (self.vip_user, self.vip_manager):
            with self.assertRaises(AccessError):
                fact.with_user(user).write({"spend": 1})
            with self.assertRaises(AccessError):
                fact.with_user(user).unlink()
            with self.assertRaises(AccessError):
                self.Fact.with_user(user).create(
                    {"company_id": self.company.id, "period_type": "month", "date_start": FEB}
                )
        with self.assertRaises(AccessError):
            period.with_user(self.vip_manager).write({"retention_rate": 100})
        with self.assertRaises(AccessError):
            self.Period.with_user(self.vip_manager).create(
                {
                    "name": "x",
                    "company_id": self.company.id,
                    "period_type": "month",
                    "date_start": JAN,
                }
            )
        # even a superuser goes through the engine
        with self.assertRaises(UserError):
            fact.sudo().write({"spend": 1})
        with self.assertRaises(UserError):
            period.sudo().write({"retention_rate": 100})
        with self.assertRaises(UserError):
            period.sudo().unlink()
        self.assertEqual(fact.spend, 3000)
        self.assertAlmostEqual(period.retention_rate, 200 / 3)

    def test_account_manager_sees_own_customers(self):
        self._compute()
        own = self.Fact.with_user(self.vip_user).search([("date_start", "=", FEB)])
        self.assertEqual(set(own.partner_id), {self.alpha, self.gamma})
        everyone = self.Fact.with_user(self.vip_manager).search(
            [("company_id", "=", self.company.id), ("date_start", "=", FEB)]
        )
        self.assertEqual(len(everyone), 6)
        beta_fact = self._facts()[self.beta]
        with self.assertRaises(AccessError):
            beta_fact.with_user(self.vip_user).read(["spend"])
        # program summaries are for VIP managers
        with self.assertRaises(AccessError):
            self.Period.with_user(self.vip_user).search([])
        self.assertTrue(self.Period.with_user(self.vip_manager).search([("date_start", "=", FEB)]))
        with self.assertRaises(AccessError):
            self.Fact.with_user(self.salesman).search([])

    def test_company_targets_bounds(self):
        with self.assertRaises(ValidationError) as error:
            self.company.vip_target_retention = 120
        self.assertIn("Retention Target", str(error.exception))
        self.company.vip_target_nps = -20
        self.assertEqual(self.company.vip_target_nps, -20)
        other_company = self.env["res.company"].create({"name": "Other KPI company"})
        other_tier = self.Tier.create(
            {"name": "X", "code": "X", "level": 1, "company_id": other_company.id}
        )
        with self.assertRaises(ValidationError):
            self.company.vip_kpi_retention_tier_id = other_tier

    def test_retention_tier_cannot_move_to_another_company(self):
        """The company's check runs when the company is written; moving the tier
        itself to another company is refused too (hostile test: it succeeded)."""
        other_company = self.env["res.company"].create({"name": "Other KPI company"})
        self.company.vip_kpi_retention_tier_id = self.tier_b
        with self.assertRaises(ValidationError) as error:
            self.tier_b.company_id = other_company
        self.assertIn("retention tier", str(error.exception))
        self.company.vip_kpi_retention_tier_id = False
        spare = self.Tier.create({"name": "Spare", "code": "SP", "level": 9})
        spare.company_id = other_company  # not a retention tier: free to move
        self.assertEqual(spare.company_id, other_company)

    def test_bucket_counts_buyers_only(self):
        """A non-VIP customer whose only document of the period is a refund
        lowers the non-VIP spend but is not a purchasing customer."""
        theta = self.env["res.partner"].create({"name": "Theta Ltd", "is_company": True})
        refund = self._invoice(
            theta, 70, days_ago=(self.today - D(2025, 2, 17)).days, move_type="out_refund"
        )
        self.assertEqual(refund.state, "posted")
        self._compute()
        bucket = self._facts()[self.Fact.partner_id]
        # Zeta bought (1000); Theta only gave back 70
        self.assertEqual((bucket.customer_count, bucket.spend, bucket.purchase_count), (1, 930, 1))
        march = D(2025, 3, 1)
        self.assertEqual(self._compute(march), 5)
        bucket = self._facts(march)[self.Fact.partner_id]
        # nobody bought in March; Beta, VIP no more, joins the non-VIPs of the
        # previous period's spend: 800 (Beta) + 1000 (Zeta) - 70 (Theta)
        self.assertEqual((bucket.customer_count, bucket.spend, bucket.prev_spend), (0, 0, 1730))
        self.assertAlmostEqual(self._summary(march).vip_spend_share, 0)
