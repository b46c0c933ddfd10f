import bisect
import random
from datetime import date, timedelta
from unittest.mock import patch

from dateutil.relativedelta import relativedelta

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL

from odoo.addons.vip_customer.models.res_partner import VALUE_FIELDS
from odoo.addons.vip_customer.tools.vip_value import SEGMENTS, rfm_quintile, rfm_segment

from .common import VipCustomerCommon


@tagged("post_install", "-at_install")
class TestCustomerValue(VipCustomerCommon):
    """RFM scores, segment and lifetime value of the customers, refreshed by
    the nightly tier run: hand-computed on a small program.

    Company 1's customers with purchases (days ago: amount):

    ========  ==================================  =====  =====  =======  =====
    customer  purchases                           count  spend  last     RFM
    ========  ==================================  =====  =====  =======  =====
    Anchor    400: 10000, 100: 10000, and its       3    30000  5        544
              contact's 5: 10000
    Bamboo    20: 5000, 10: 5000, refund 8: 2000    2     8000  10       333
    Cedar     5: 1000                               1     1000  5        521
    Delta     700, 600, 500, 400: 20000 each        4    80000  400      155
    Elm       200: 3000                             1     3000  200      222
    ========  ==================================  =====  =====  =======  =====

    Five customers: a score is ``1 + 5 * (2 * below + ties) // 10``; Anchor and
    Cedar share the best recency (mid-rank: both 5), Cedar and Elm the lowest
    frequency (both 2). Fir's only invoice was reversed (no purchase), Ghost
    never bought, Holly buys in company 2 only (alone there: 333).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_2 = cls.setup_other_company(name="VIP Value Subsidiary")["company"]
        Partner = cls.env["res.partner"]

        def customer(name):
            return Partner.create({"name": name, "is_company": True})

        cls.anchor = customer("Anchor Corp")
        cls.buyer = Partner.create({"name": "Anchor Buyer", "parent_id": cls.anchor.id})
        cls.bamboo = customer("Bamboo Ltd")
        cls.cedar = customer("Cedar Shop")
        cls.delta = customer("Delta Holdings")
        cls.elm = customer("Elm Studio")
        cls.fir = customer("Fir Traders")
        cls.ghost = cls.customer  # never bought
        cls.holly = customer("Holly Partners")
        for partner, amount, days in [
            (cls.anchor, 10000, 400),
            (cls.anchor, 10000, 100),
            (cls.buyer, 10000, 5),
            (cls.bamboo, 5000, 20),
            (cls.bamboo, 5000, 10),
            (cls.cedar, 1000, 5),
            (cls.delta, 20000, 700),
            (cls.delta, 20000, 600),
            (cls.delta, 20000, 500),
            (cls.delta, 20000, 400),
            (cls.elm, 3000, 200),
        ]:
            cls._invoice(partner, amount, days_ago=days)
        cls._invoice(cls.bamboo, 2000, days_ago=8, move_type="out_refund")
        cls._invoice(cls.fir, 5000, days_ago=30)._reverse_moves(cancel=True)
        cls._invoice(cls.holly, 7000, days_ago=50, company=cls.company_2)
        # a customer of company 1's program buying in company 2 too: not counted there
        cls._invoice(cls.anchor, 90000, days_ago=3, company=cls.company_2)

    def night(self, company=None):
        """What the nightly run does for a company: tiers, then the value."""
        company = company or self.company
        self.Engine._recompute(company)
        return self.env["res.partner"]._vip_refresh_customer_value(company)

    def value(self, partner):
        return {fname: partner[fname] for fname in VALUE_FIELDS}

    def expected(self, rfm, segment, spend, count, days, tenure, avg):
        return {
            "vip_rfm_recency": int(rfm[0]),
            "vip_rfm_frequency": int(rfm[1]),
            "vip_rfm_monetary": int(rfm[2]),
            "vip_rfm_score": rfm,
            "vip_rfm_segment": segment,
            "vip_lifetime_spend": spend,
            "vip_lifetime_purchase_count": count,
            "vip_customer_since": self.today - relativedelta(days=days),
            "vip_tenure_years": tenure,
            "vip_avg_yearly_spend": avg,
        }

    EMPTY = dict.fromkeys(VALUE_FIELDS, False) | {
        "vip_rfm_recency": 0,
        "vip_rfm_frequency": 0,
        "vip_rfm_monetary": 0,
        "vip_lifetime_spend": 0.0,
        "vip_lifetime_purchase_count": 0,
        "vip_tenure_years": 0.0,
        "vip_avg_yearly_spend": 0.0,
    }

    # ------------------------------------------------------------------
    # The values
    # ------------------------------------------------------------------
    def test_scores_segments_and_lifetime_value(self):
        self.assertEqual(self.night(), 5, "five customers with purchases, valued once")
        expected = {
            # 400 days: 1.1 years, 30000 / 1.1 a year
            self.anchor: self.expected("544", "champions", 30000, 3, 400, 1.1, 27272.73),
            # the refund lowers the spend, not the purchases; under a year: one year
            self.bamboo: self.expected("333", "loyal", 8000, 2, 20, 0.1, 8000),
            self.cedar: self.expected("521", "new", 1000, 1, 5, 0.0, 1000),
            # 700 days: 1.9 years
            self.delta: self.expected("155", "cant_lose", 80000, 4, 700, 1.9, 42105.26),
            self.elm: self.expected("222", "hibernating", 3000, 1, 200, 0.5, 3000),
        }
        for partner, values in expected.items():
            with self.subTest(customer=partner.name):
                self.assertEqual(self.value(partner), values)
        for partner in (self.buyer, self.fir, self.ghost, self.holly):
            with self.subTest(customer=partner.name):
                self.assertEqual(self.value(partner), self.EMPTY)

    def test_refresh_keeps_the_customers_rows_in_the_database(self):
        """Bounded memory: the values are staged and written in PostgreSQL, a
        batch of customer ids at a time (no list of every changed customer comes
        back to Python: a first night changes millions); it reports how many
        changed, what was cached is read again. The work table keeps one row per
        customer with purchases for the next night, nothing left to write."""
        self.Engine._recompute(self.company)
        self.assertFalse(self.anchor.vip_rfm_score, "cached before the refresh")
        self.assertEqual(self.env["res.partner"]._vip_refresh_customer_value(self.company), 5)
        self.assertIsNone(self.env.cr.description, "the statement returned no rows")
        self.assertEqual(self.anchor.vip_rfm_score, "544")
        self.assertEqual(self._work_tables(), {"stage": 5, "fresh": 0, "dirty": 0, "run": "done"})

    def _work_tables(self, company=None):
        company = company or self.company
        counts = {}
        for key, table, where in (
            ("stage", "vip_customer_value_stage", SQL("TRUE")),
            ("fresh", "vip_customer_value_stage", SQL("fresh")),
            ("dirty", "vip_customer_value_dirty", SQL("TRUE")),
        ):
            [(counts[key],)] = self.env.execute_query(
                SQL(
                    "SELECT COUNT(*) FROM %s WHERE company_id = %s AND %s",
                    SQL.identifier(table),
                    company.id,
                    where,
                )
            )
        rows = self.env.execute_query(
            SQL("SELECT phase FROM vip_customer_value_run WHERE company_id = %s", company.id)
        )
        counts["run"] = rows[0][0] if rows else None
        return counts

    def _refresh_steps(self, full):
        """An incremental or full refresh step by step: ``(values changed,
        customers aggregated)``."""
        Partner = self.env["res.partner"]
        Partner._vip_value_run_start(self.company, self.today, full=full)
        aggregated = 0
        while True:
            phase = Partner._vip_value_run(self.company, self.today)["phase"]
            count, finished, changed = Partner._vip_refresh_customer_value_step(
                self.company, self.today, 2, full=full
            )
            if phase == "aggregate":
                aggregated += count
            if finished:
                return changed, aggregated

    def test_incremental_refresh_aggregates_only_the_evaluated_customers(self):
        """A night after the first one reads the purchases of the customers the
        tier engine evaluated only; the others keep their staged purchases and
        are ranked again with them: the values are a full refresh's."""
        self.night()
        # Bamboo buys twice more: the latest purchase, four purchases like Delta, 18000
        self._invoice(self.bamboo, 5000, days_ago=2)
        self._invoice(self.bamboo, 5000, days_ago=1)
        self.Engine._recompute(self.company, partner_ids=self.bamboo.ids)
        self.assertEqual(self._work_tables()["dirty"], 1)
        changed, aggregated = self._refresh_steps(full=False)
        self.assertEqual(aggregated, 1, "Bamboo's purchases only")
        self.assertEqual(self._work_tables(), {"stage": 5, "fresh": 0, "dirty": 0, "run": "done"})
        incremental = self._all_values()
        self.assertEqual(self.bamboo.vip_lifetime_spend, 18000)
        self.assertEqual(self.bamboo.vip_rfm_score, "553")
        self.assertGreater(changed, 1, "the others' ranks moved with Bamboo's")
        # the same values as every purchase read again, and nothing left to write
        changed, everyone = self._refresh_steps(full=True)
        self.assertEqual(changed, 0)
        self.assertGreaterEqual(everyone, 6, "a full refresh reads every customer's purchases")
        self.assertEqual(self._all_values(), incremental)

    def test_incremental_refresh_drops_who_is_no_longer_a_customer(self):
        """Elm becomes a contact of Anchor, Cedar's only purchase is reversed,
        Delta joins another company's program: an incremental night stages and
        ranks them as a full one would."""
        self.night()
        self.env["account.move"].search([("partner_id", "=", self.cedar.id)])._reverse_moves(
            cancel=True
        )
        self.elm.write({"parent_id": self.anchor.id, "is_company": False})
        self.env.flush_all()
        self.env.cr.execute(
            SQL("UPDATE res_partner SET vip_company_id = %s WHERE id = %s",
                self.company_2.id, self.delta.id)
        )
        self.env.invalidate_all()
        # the incremental tier night evaluates the marked customers (Anchor, Cedar)
        due = self.env["res.partner"].search(
            [("vip_eval_date", "<=", self.today), ("id", "in", self.customers_ids())]
        )
        self.assertEqual(due, self.anchor | self.cedar)
        self.Engine._recompute(self.company, partner_ids=due.ids)
        self._refresh_steps(full=False)
        incremental = self._all_values()
        self.assertEqual(self.value(self.cedar), self.EMPTY)
        self.assertEqual(self.value(self.elm), self.EMPTY)
        self.assertEqual(self._work_tables()["stage"], 2, "Anchor and Bamboo")
        self.assertEqual(self.anchor.vip_lifetime_spend, 33000, "with Elm's purchase")
        self.assertEqual(self._refresh_steps(full=True)[0], 0)
        self.assertEqual(self._all_values(), incremental)

    def test_a_shared_customer_buying_elsewhere_is_valued_there(self):
        """A shared customer (no company) buying in company 2 only: company 1's
        night evaluates her first and finds nothing of its own; company 2's
        incremental refresh aggregates her all the same (every company keeping
        a work table lists her), as a full refresh does."""
        Partner = self.env["res.partner"]
        self.night()
        self.night(self.company_2)
        ivy = Partner.create({"name": "Ivy Shared", "is_company": True})
        self._invoice(ivy, 9000, days_ago=2, company=self.company_2)
        self.Engine._recompute(self.company, partner_ids=ivy.ids)
        self.assertEqual(Partner._vip_refresh_customer_value(self.company, full=False), 0)
        Partner._vip_refresh_customer_value(self.company_2, full=False)
        self.assertEqual(ivy.vip_lifetime_spend, 9000)
        self.assertEqual(ivy.vip_lifetime_purchase_count, 1)
        incremental = self._all_values()
        self.assertEqual(Partner._vip_refresh_customer_value(self.company_2), 0)
        self.assertEqual(self._all_values(), incremental)

    def customers_ids(self):
        return (self.anchor | self.bamboo | self.cedar | self.delta | self.elm | self.fir).ids

    def test_incremental_refresh_without_a_complete_one_is_full(self):
        """No complete refresh to build on (never run, a crash emptied the
        unlogged work tables, a full one left half-done): it reads everyone."""
        Partner = self.env["res.partner"]
        Partner._vip_value_run_end(self.company)  # the demo's refresh forgotten: never run
        self.Engine._recompute(self.company)
        changed, everyone = self._refresh_steps(full=False)
        self.assertEqual(changed, 5, "never run: every customer valued")
        self.assertGreaterEqual(everyone, 6)
        Partner._vip_value_run_end(self.company)  # what a crash leaves
        self.assertEqual(self._refresh_steps(full=False), (0, everyone))
        Partner._vip_value_run_start(self.company, self.today, full=True)
        Partner._vip_refresh_customer_value_step(self.company, self.today, 2, full=True)
        self.assertEqual(self._work_tables()["run"], "aggregate")
        self.assertEqual(
            self._refresh_steps(full=False), (0, everyone), "half-done full: full again"
        )
        self.assertEqual(self._refresh_steps(full=False), (0, 0), "complete: incremental")

    def _all_values(self):
        partners = self.env["res.partner"].with_context(active_test=False).search([])
        partners.invalidate_recordset(list(VALUE_FIELDS))
        return {partner.id: self.value(partner) for partner in partners}

    def _forget_values(self):
        # as before any refresh (raw SQL on the add-on's own columns, as the refresh)
        self.env.flush_all()
        self.env.cr.execute(SQL(
            "UPDATE res_partner SET %s",
            SQL(", ").join(SQL("%s = NULL", SQL.identifier(col)) for col in VALUE_FIELDS),
        ))
        self.env.invalidate_all()

    def test_steps_of_one_customer_give_the_values_of_one_run(self):
        """The cron's time budget spreads the refresh over calls: one customer
        per step, the state kept between steps, gives every customer the values
        a refresh at once gives (and nobody else any)."""
        Partner = self.env["res.partner"]
        # every company (the demo ones too: the values of all customers are compared)
        companies = self.env["res.company"].sudo().search([], order="id")
        for company in companies:
            self.Engine._recompute(company)
            Partner._vip_refresh_customer_value(company)
        expected = self._all_values()
        self.assertEqual(expected[self.anchor.id]["vip_rfm_score"], "544")
        self._forget_values()
        self.assertFalse(self.anchor.vip_rfm_score)
        steps = {}
        for company in companies:
            for step in range(100):
                _count, finished, changed = Partner._vip_refresh_customer_value_step(
                    company, self.today, 1
                )
                if finished:
                    steps[company] = step + 1
                    break
        # aggregate (9 customers of company 1, one a step), rank, apply 5, clear
        self.assertGreater(steps[self.company], 15, "one customer per step")
        self.assertEqual(changed, 1, "Holly, company 2's only buyer")
        self.assertEqual(self._all_values(), expected)

    def test_a_step_of_another_day_starts_the_run_again(self):
        """A run left half-done (a day's cron out of time) is not continued
        with the next day's values: the next day starts over."""
        self.Engine._recompute(self.company)
        Partner = self.env["res.partner"]
        yesterday = self.today - relativedelta(days=1)
        for _step in range(3):  # half the aggregate of yesterday's run
            Partner._vip_refresh_customer_value_step(self.company, yesterday, 2)
        while not Partner._vip_refresh_customer_value_step(self.company, self.today, 2)[1]:
            pass
        # 400 days ago is 1.1 years today
        self.assertEqual(self.value(self.anchor),
                         self.expected("544", "champions", 30000, 3, 400, 1.1, 27272.73))
        self.assertEqual(self.anchor.vip_rfm_score, "544", "the cache was invalidated")
        self.assertEqual(self.env["res.partner"]._vip_refresh_customer_value(self.company), 0)

    def test_two_companies_are_kept_apart(self):
        self.night()
        self.night(self.company_2)
        # Holly is company 2's only customer: the middle of everything
        self.assertEqual(
            self.value(self.holly),
            self.expected("333", "loyal", 7000, 1, 50, 0.1, 7000),
        )
        # Anchor's purchase in company 2 neither counts for it nor ranks it there
        self.assertEqual(self.anchor.vip_lifetime_spend, 30000)
        self.assertEqual(self.anchor.vip_rfm_score, "544")
        # company 2's refresh leaves company 1's customers alone, and back
        self.assertEqual(self.env["res.partner"]._vip_refresh_customer_value(self.company), 0)
        self.assertEqual(self.holly.vip_rfm_score, "333")

    def test_lost_purchases_and_contacts_lose_their_value(self):
        self.night()
        # Cedar's only invoice is reversed; Elm becomes a contact of Anchor (its
        # invoices now count for Anchor)
        self.env["account.move"].search([("partner_id", "=", self.cedar.id)])._reverse_moves(
            cancel=True
        )
        self.elm.write({"parent_id": self.anchor.id, "is_company": False})
        self.night()
        self.assertEqual(self.value(self.cedar), self.EMPTY)
        self.assertEqual(self.value(self.elm), self.EMPTY)
        # three customers left, ranked again (a score: 1 + 5 * (2 * below + ties) // 6);
        # Anchor: 4 purchases with Elm's, 33000, since 400 days, ties Delta's frequency
        self.assertEqual(
            self.value(self.anchor),
            self.expected("543", "loyal", 33000, 4, 400, 1.1, 30000),
        )
        self.assertEqual(self.bamboo.vip_rfm_score, "311")
        self.assertEqual(self.bamboo.vip_rfm_segment, "potential")
        self.assertEqual(self.delta.vip_rfm_score, "145")
        self.assertEqual(self.delta.vip_rfm_segment, "cant_lose")
        # nothing moved since: nothing is written again
        self.assertEqual(self.env["res.partner"]._vip_refresh_customer_value(self.company), 0)

    def test_purchase_sources_of_other_addons_count(self):
        """Purchases are what the tier engine counts: a source another add-on
        adds (say, POS orders) counts in the value too."""
        engine_cls = type(self.Engine)
        original = engine_cls._get_purchase_sources
        ghost_id = self.ghost.id

        def sources(engine, company, date_from):
            return original(engine, company, date_from) + [
                SQL(
                    "SELECT %s AS partner_id, CURRENT_DATE - 30 AS date, 500000.0 AS amount, "
                    "1 AS purchase_count",
                    ghost_id,
                )
            ]

        with patch.object(engine_cls, "_get_purchase_sources", sources):
            self.night()
        self.assertEqual(self.ghost.vip_lifetime_spend, 500000)
        self.assertEqual(self.ghost.vip_rfm_monetary, 5)
        self.assertEqual(self.delta.vip_rfm_monetary, 4, "no longer the biggest spender")

    def test_segment_sql_is_the_documented_table(self):
        """The SQL CASE of the refresh gives the segment of tools.vip_value for
        every combination of scores."""
        Partner = self.env["res.partner"]
        combos = [(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)]
        rows = self.env.execute_query(
            SQL(
                "SELECT r, f, m, %s FROM unnest(%s::int[], %s::int[], %s::int[]) AS t(r, f, m)",
                Partner._vip_segment_sql(SQL("r"), SQL("f"), SQL("m")),
                [c[0] for c in combos],
                [c[1] for c in combos],
                [c[2] for c in combos],
            )
        )
        self.assertEqual(len(rows), 125)
        for r, f, m, segment in rows:
            self.assertEqual(segment, rfm_segment(r, f, m), f"R{r} F{f} M{m}")
        self.assertEqual({row[3] for row in rows}, set(SEGMENTS), "every segment reachable")
        selection = dict(Partner._fields["vip_rfm_segment"].selection)
        self.assertEqual(set(selection), set(SEGMENTS))

    def test_rank_step_gives_each_staged_customer_its_quintiles(self):
        """The rank step's SQL (histograms for recency and frequency, one sort
        for the spend) scores every staged customer as ``rfm_quintile`` does
        from its rank: 600 customers over few dates and counts (large ties),
        spends from unique to shared, a spend unknown (ranked last); a second
        pass changes nothing, a changed spend moves only who it should."""
        Partner = self.env["res.partner"]
        Partner._vip_value_tables()
        company = self.company_2
        rng = random.Random(13)
        start = date(2020, 1, 1)
        rows = []
        for partner_id in range(1, 601):
            first = start + timedelta(days=rng.randrange(0, 1500))
            spend = rng.choice([None, 100, 250, 250.5]) if partner_id % 7 == 0 else round(
                rng.uniform(-50, 90000), 2
            )
            rows.append((partner_id, spend, rng.randint(1, 9), first,
                         first + timedelta(days=rng.randrange(0, 40) * 10)))
        self.env.cr.execute(SQL("DELETE FROM vip_customer_value_stage WHERE company_id = %s",
                                company.id))
        self.env.cr.execute(SQL(
            """INSERT INTO vip_customer_value_stage
                   (company_id, partner_id, spend, purchases, first_date, last_date)
               SELECT %s, * FROM unnest(%s::int4[], %s::numeric[], %s::int8[], %s::date[],
                                        %s::date[])""",
            company.id, *[list(column) for column in zip(*rows, strict=True)],
        ))

        def expected_scores():
            def key(value):  # NULL ranks after every value, as ORDER BY puts it
                return (value is None, value if value is not None else 0)

            result = {row[0]: [] for row in rows}
            for index in (4, 2, 1):  # recency (last date), frequency, spend
                keys = sorted(key(row[index]) for row in rows)
                for row in rows:
                    below = bisect.bisect_left(keys, key(row[index]))
                    ties = bisect.bisect_right(keys, key(row[index])) - below
                    result[row[0]].append(rfm_quintile(below, ties, len(rows)))
            return result

        def staged_scores():
            return {
                partner_id: [r, f, m]
                for partner_id, r, f, m in self.env.execute_query(SQL(
                    "SELECT partner_id, r, f, m FROM vip_customer_value_stage "
                    "WHERE company_id = %s", company.id))
            }

        today = date(2026, 6, 1)
        self.env.cr.execute(Partner._vip_value_rank_sql(company, today))
        self.assertEqual(self.env.cr.rowcount, 600)
        self.assertEqual(staged_scores(), expected_scores())
        self.assertGreater(len({tuple(s) for s in staged_scores().values()}), 50)
        self.env.cr.execute(Partner._vip_value_rank_sql(company, today))
        self.assertEqual(self.env.cr.rowcount, 0, "nothing moved, nothing marked fresh")
        # the lowest spender becomes the biggest one
        lowest = min((row for row in rows if row[1] is not None), key=lambda row: row[1])
        rows[rows.index(lowest)] = (lowest[0], 10**6, *lowest[2:])
        self.env.cr.execute(SQL(
            "UPDATE vip_customer_value_stage SET spend = %s WHERE company_id = %s "
            "AND partner_id = %s", 10**6, company.id, lowest[0]))
        self.env.cr.execute(Partner._vip_value_rank_sql(company, today))
        moved = self.env.cr.rowcount
        self.assertEqual(staged_scores(), expected_scores())
        self.assertTrue(1 < moved < 600, f"only the customers crossing a fifth move: {moved}")

    # ------------------------------------------------------------------
    # Search, group, nightly run
    # ------------------------------------------------------------------
    def test_vip_user_searches_and_groups_by_segment(self):
        self.night()
        Partner = self.env["res.partner"].with_user(self.vip_user)
        ours = [("id", "in", (self.anchor | self.bamboo | self.cedar | self.delta | self.elm).ids)]
        self.assertEqual(
            Partner.search([*ours, ("vip_rfm_segment", "=", "champions")]), self.anchor
        )
        self.assertEqual(
            Partner.search([*ours, ("vip_rfm_segment", "in", ("cant_lose", "at_risk"))]),
            self.delta,
        )
        self.assertEqual(
            Partner.search([*ours, ("vip_lifetime_spend", ">", 5000)]),
            self.anchor | self.bamboo | self.delta,
        )
        groups = dict(Partner._read_group(ours, ["vip_rfm_segment"], ["vip_lifetime_spend:sum"]))
        self.assertEqual(
            groups,
            {
                "champions": 30000,
                "loyal": 8000,
                "new": 1000,
                "cant_lose": 80000,
                "hibernating": 3000,
            },
        )

    def test_nightly_run_refreshes_the_value_in_a_call_of_its_own(self):
        engine = self.Engine.sudo()
        for company in self.env["res.company"].sudo().search([]) - self.company:
            engine._save_resume_point(company, 0, self.today)
        refresh = type(self.env["res.partner"])._vip_refresh_customer_value
        refreshed = []

        def spy(partners, company, today=None, **kwargs):
            refreshed.append(company)
            return refresh(partners, company, today, **kwargs)

        with patch.object(type(self.env["res.partner"]), "_vip_refresh_customer_value", spy):
            progress = self.run_cron(self.Engine._cron_recompute_tiers, batch_size=4)
        # 6 customers (5 buyers and Fir): batches of 4 and 2, then the value alone
        self.assertEqual(progress, [(4, 3), (2, 1), (1, 0)])
        self.assertEqual(refreshed, [self.company])
        self.assertEqual(self.anchor.vip_rfm_segment, "champions")
        self.assertEqual(self.delta.vip_lifetime_spend, 80000)
        self.assertFalse(self.company.vip_recompute_cursor, "today's run is complete")

    # ------------------------------------------------------------------
    # Who writes it: nobody but the refresh
    # ------------------------------------------------------------------
    def _forged(self):
        return {
            "vip_rfm_recency": 5,
            "vip_rfm_frequency": 5,
            "vip_rfm_monetary": 5,
            "vip_rfm_score": "555",
            "vip_rfm_segment": "champions",
            "vip_lifetime_spend": 10**7,
            "vip_lifetime_purchase_count": 99,
            "vip_customer_since": self.today - relativedelta(years=20),
            "vip_tenure_years": 20.0,
            "vip_avg_yearly_spend": 10**6,
        }

    def test_value_refused_to_every_user_over_rpc(self):
        self.night()
        self.assertEqual(set(self._forged()), set(VALUE_FIELDS))
        before = self.value(self.elm)
        for user in (self.vip_user, self.vip_manager, self.salesman):
            for fname, value in self._forged().items():
                with self.subTest(user=user.login, field=fname):
                    with self.assertRaisesRegex(AccessError, "cannot be set by hand"):
                        self.elm.with_user(user).write({fname: value})
                    with self.assertRaises(AccessError):
                        self.env["res.partner"].with_user(user).create(
                            {"name": "Forged", fname: value}
                        )
        self.assertEqual(self.value(self.elm), before)
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Forged")]))
        label = self.env["res.partner"]._fields["vip_rfm_segment"].string
        with self.assertRaisesRegex(AccessError, label):
            self.elm.with_user(self.vip_user).write({"vip_rfm_segment": False})

    def test_value_hidden_from_users_outside_the_program(self):
        self.night()
        with self.assertRaises(AccessError):
            self.anchor.with_user(self.salesman).read(["vip_rfm_segment"])
        with self.assertRaises(AccessError):
            self.env["res.partner"].with_user(self.salesman).search(
                [("vip_lifetime_spend", ">", 0)]
            )
        self.assertEqual(
            self.anchor.with_user(self.vip_user).read(["vip_rfm_score"])[0]["vip_rfm_score"],
            "544",
        )

    def test_merge_by_a_contact_manager_skips_the_value(self):
        """The generic merge copies every field as the merging user: the value
        (which nobody writes) is left to the nightly refresh, the merge works."""
        self.night()
        merger = new_test_user(
            self.env,
            login="vip_customer-value-merger",
            groups="base.group_user,base.group_partner_manager",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        twin = self.env["res.partner"].create({"name": "Elm Studio Ltd", "is_company": True})
        wizard = (
            self.env["base.partner.merge.automatic.wizard"]
            .with_user(merger)
            .create(
                {
                    "partner_ids": [Command.set((twin | self.elm).ids)],
                    "dst_partner_id": twin.id,
                }
            )
        )
        wizard.action_merge()
        self.assertFalse(self.elm.exists())
        self.assertEqual(self.value(twin), self.EMPTY, "not copied by the merging user")
        self.night()
        self.assertEqual(twin.vip_lifetime_spend, 3000)
        self.assertEqual(twin.vip_rfm_score, "222")

    def test_value_columns_are_hooked_by_nobody(self):
        """The refresh writes its columns with raw SQL: each is a plain stored
        field of this module that nothing tracks or computes from."""
        registry = self.env.registry
        for fname in VALUE_FIELDS:
            field = self.env["res.partner"]._fields[fname]
            with self.subTest(field=fname):
                self.assertEqual(field._module, "vip_customer")
                self.assertTrue(field.store)
                self.assertFalse(field.compute or field.related or field.translate)
                self.assertFalse(getattr(field, "tracking", None))
                self.assertFalse(field.copy)
                self.assertEqual(field.groups, "vip_customer.group_vip_user")
                stored = [dep for dep in registry.get_dependent_fields(field) if dep.store]
                self.assertFalse(stored, f"stored fields computed from {fname}")
