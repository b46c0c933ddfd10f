import contextlib
import random
from datetime import timedelta
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import SQL

from ..models.res_partner import VALUE_FIELDS
from ..models.vip_tier_engine import SQL_COLUMNS
from .common import VipCustomerCommon

# What the nightly run stores for a customer: its tier, every raw column of the
# engine and the customer value (RFM scores, lifetime figures).
STORED = ("vip_tier_id", "vip_tier_since", *SQL_COLUMNS, *VALUE_FIELDS)


class _Rollback(Exception):
    """Undo the full night run to compare (see _full_night_aside)."""


@tagged("post_install", "-at_install")
class TestTierIncremental(VipCustomerCommon):
    """The incremental night evaluates only the customers whose result can have
    changed; a full night over the same history on the same day stores exactly
    the same for every customer, after any number of incremental nights."""

    def setUp(self):
        super().setUp()
        # the other companies' runs are done for the whole simulation: only this
        # company's customers count
        self.evaluated = []
        engine_cls = type(self.Engine)
        evaluate = engine_cls._evaluate_customer
        companies = engine_cls._get_recompute_companies

        def this_company(engine, today):
            return companies(engine, today) & self.company

        patcher = patch.object(engine_cls, "_get_recompute_companies", this_company)
        patcher.start()
        self.addCleanup(patcher.stop)

        def spy(engine, row, context, signals):
            self.evaluated.append(row["id"])
            return evaluate(engine, row, context, signals)

        patcher = patch.object(engine_cls, "_evaluate_customer", spy)
        patcher.start()
        self.addCleanup(patcher.stop)
        # two windows: B counts six months, A and C the company's twelve
        self.tier_b.window_months = 6

    def _night(self, day, full=False):
        if full:
            self.Engine.sudo()._request_full_run(self.company)
        self.evaluated.clear()
        self.run_cron(self.Engine._cron_recompute_tiers, today=day, max_calls=20)
        return len(self.evaluated)

    def _full_night_aside(self, day, partners):
        """What a full night on ``day`` stores for ``partners``, then undone:
        the incremental nights go on from their own results."""
        result = {}
        with contextlib.suppress(_Rollback), self.env.cr.savepoint():
            result["evaluated"] = self._night(day, full=True)
            result["snapshot"] = self._snapshot(partners)
            raise _Rollback
        self.env.invalidate_all()
        return result["evaluated"], result["snapshot"]

    def _eval_date(self, partner):
        # what a user reads after the changes are saved (marks are made at the flush)
        self.env.flush_all()
        partner.invalidate_recordset(["vip_eval_date"])
        return partner.vip_eval_date

    def _snapshot(self, partners):
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                "SELECT id, %s FROM res_partner WHERE id = ANY(%s) ORDER BY id",
                SQL(", ").join(SQL.identifier(name) for name in STORED),
                partners.ids,
            )
        )
        return {row[0]: dict(zip(STORED, row[1:], strict=True)) for row in rows}

    def _history(self, rng, partners):
        for partner in partners:
            for _purchase in range(rng.randint(0, 6)):
                self._invoice(partner, rng.choice([3000, 12000, 25000, 40000, 70000]),
                              days_ago=rng.randint(1, 700))
            if rng.random() < 0.3:
                self._invoice(partner, rng.choice([2000, 10000]), days_ago=rng.randint(1, 300),
                              move_type="out_refund")

    def test_incremental_nights_equal_full_nights(self):
        rng = random.Random(13)
        Partner = self.env["res.partner"]
        partners = Partner.create([{"name": f"Night {i}", "is_company": True} for i in range(24)])
        contact = Partner.create({"name": "Night contact", "parent_id": partners[0].id})
        self._history(rng, partners)
        self._invoice(contact, 30000, days_ago=20)
        # a customer whose only purchase is dated in the future, one locked for a while
        self._invoice(partners[1], 55000, days_ago=-9)
        first_night = self._night(self.today)
        self.assertGreaterEqual(first_night, 20, "the first night is a full one")
        partners[2].write({"vip_locked": True, "vip_lock_until": self.today + timedelta(days=11)})

        invoices = self.env["account.move"].search(
            [("partner_id", "in", partners.ids), ("move_type", "=", "out_invoice")]
        )
        incremental_total = full_total = 0
        for offset in range(1, 121):
            day = self.today + timedelta(days=offset)
            # the day's events, before its night
            if offset % 5 == 0:
                self._invoice(rng.choice(partners), rng.choice([8000, 30000, 60000]),
                              days_ago=-offset)
            if offset % 17 == 0:
                self._invoice(rng.choice(partners), 5000, days_ago=-offset, move_type="out_refund")
            if offset % 23 == 0:
                move = invoices[offset % len(invoices)]
                if move.state == "posted":
                    move.button_draft()
                    move.button_cancel()
            if offset == 30:
                partners[3].write({"vip_locked": True, "vip_lock_until": day + timedelta(days=6)})
            if offset == 60:
                # a rule changed: that night is a full one
                self.tier_a.min_spend = 90000
            incremental = self._night(day)
            after_incremental = self._snapshot(partners | contact)
            full, after_full = self._full_night_aside(day, partners | contact)
            for partner_id, values in after_full.items():
                self.assertEqual(
                    after_incremental[partner_id], values,
                    f"day +{offset}: customer {partner_id} differs after the incremental night",
                )
            if offset == 60:
                self.assertEqual(incremental, full, "a tier edited: the night is full")
            else:
                incremental_total += incremental
            full_total += full
        # it is incremental: far fewer evaluations than full nights, but some every week
        self.assertLess(incremental_total, full_total / 4)
        self.assertGreater(incremental_total, 30)
        self.assertGreaterEqual(partners[1].vip_last_purchase_date, self.today + timedelta(days=9))

    def test_changes_mark_the_customer(self):
        partner = self.env["res.partner"].create({"name": "Marked", "is_company": True})
        move = self._invoice(partner, 60000, days_ago=3)
        self.assertEqual(self._eval_date(partner), self.today - timedelta(days=3), "posted")
        self._night(self.today, full=True)
        self.assertEqual(partner.vip_tier_id, self.tier_b)
        # next: the day the purchase leaves the window, or before (churn recency)
        self.assertGreater(partner.vip_eval_date, self.today)
        self.assertLessEqual(partner.vip_eval_date, self.today + timedelta(days=366))
        self.assertEqual(self._night(self.today + timedelta(days=1)), 0, "nothing changed")
        move.button_draft()
        self.assertEqual(self._eval_date(partner), self.today - timedelta(days=3), "cancelled")
        move.button_cancel()
        self.assertEqual(self._night(self.today + timedelta(days=2)), 1)
        # no purchase left: the tier goes after its grace period, the night it ends
        downgrade = self.today + timedelta(days=32)
        self.assertEqual(partner.vip_downgrade_date, downgrade)
        self.assertEqual(partner.vip_eval_date, downgrade)
        self.assertEqual(self._night(downgrade - timedelta(days=1)), 0)
        self._night(downgrade)
        self.assertFalse(partner.vip_tier_id)

    def test_purchase_cancelled_before_any_night(self):
        partner = self.env["res.partner"].create({"name": "Undone", "is_company": True})
        self._night(self.today, full=True)
        move = self._invoice(partner, 60000, days_ago=3)
        move.button_draft()
        move.button_cancel()
        self.assertEqual(self._eval_date(partner), self.today - timedelta(days=3))
        self.assertEqual(self._night(self.today + timedelta(days=1)), 0)
        self.assertFalse(partner.vip_eval_date, "nothing left to evaluate")
        self.assertFalse(partner.vip_company_id)

    def test_future_purchase_is_evaluated_on_its_day(self):
        partner = self.env["res.partner"].create({"name": "Later", "is_company": True})
        self._invoice(partner, 60000, days_ago=-5)
        self._night(self.today, full=True)
        self.assertFalse(partner.vip_tier_id)
        self.assertEqual(partner.vip_eval_date, self.today + timedelta(days=5))
        self._night(self.today + timedelta(days=4))
        self.assertFalse(partner.vip_tier_id)
        self._night(self.today + timedelta(days=5))
        self.assertEqual(partner.vip_tier_id, self.tier_b)

    def test_settings_and_rules_request_a_full_night(self):
        self._night(self.today, full=True)
        self.assertFalse(self.company.vip_recompute_full)
        self.company.vip_churn_high_threshold = self.company.vip_churn_high_threshold
        self.assertFalse(self.company.vip_recompute_full, "the same value saved again")
        self.company.vip_churn_high_threshold = 80
        self.assertTrue(self.company.vip_recompute_full, "a setting the rules read")
        self._night(self.today + timedelta(days=1))
        self.assertFalse(self.company.vip_recompute_full, "the full night happened")
        self.tier_c.name = "Bronze"
        self.assertFalse(self.company.vip_recompute_full, "a name is not a rule")
        self.tier_c.grace_days = 10
        self.assertTrue(self.company.vip_recompute_full)

    def test_a_full_run_left_unfinished_is_full_the_next_day(self):
        """A full run still going at midnight (a late "Re-evaluate All Now", a
        long run): the customers after its cursor were not evaluated, so the
        next day's run is full, not incremental."""
        partners = self.env["res.partner"].create(
            [{"name": f"Midnight {i}", "is_company": True} for i in range(5)]
        )
        for partner in partners:
            self._invoice(partner, 60000, days_ago=3)
        self._night(self.today, full=True)
        self.Engine.sudo()._request_full_run(self.company)
        self.evaluated.clear()
        # one call of two customers: the full run stops there for the day
        self.run_cron(self.Engine._cron_recompute_tiers, today=self.today, batch_size=2,
                      max_calls=1)
        self.assertEqual(len(self.evaluated), 2)
        self.assertTrue(self.company.vip_recompute_run_full)
        self.assertGreaterEqual(
            self._night(self.today + timedelta(days=1)), 5, "every customer: a full run"
        )
        self.assertFalse(self.company.vip_recompute_cursor)
        self.assertLess(self._night(self.today + timedelta(days=2)), 5, "incremental again")

    def test_a_replayed_earlier_day_is_a_full_night(self):
        """The run of an earlier day than the last one (replayed by hand after a
        fix, a restored database): the evaluation days stored by the later run
        do not say who changed since the earlier day, so every customer is
        evaluated again."""
        partners = self.env["res.partner"].create(
            [{"name": f"Replay {i}", "is_company": True} for i in range(5)]
        )
        for partner in partners:
            self._invoice(partner, 60000, days_ago=3)
        self._night(self.today, full=True)
        self.assertLess(self._night(self.today + timedelta(days=1)), 5, "incremental")
        self.assertGreaterEqual(self._night(self.today), 5, "the earlier day: full")
        self.assertTrue(self.company.vip_recompute_run_full)
        self.assertLess(self._night(self.today + timedelta(days=1)), 5, "incremental again")

    def test_concurrent_mark_survives_the_batch_write(self):
        """A purchase posted while a batch is evaluated (between its read and
        its write) keeps the customer due."""
        partner = self.env["res.partner"].create({"name": "Racing", "is_company": True})
        self._invoice(partner, 60000, days_ago=3)
        engine_cls = type(self.Engine)
        fetch = engine_cls._fetch_rows

        def fetch_then_post(engine, *args, **kwargs):
            rows = fetch(engine, *args, **kwargs)
            self._invoice(partner, 1000, days_ago=1)
            return rows

        with patch.object(engine_cls, "_fetch_rows", fetch_then_post):
            self._night(self.today, full=True)
        # still due: the purchase marked it while the batch was evaluated
        self.assertEqual(self._eval_date(partner), self.today - timedelta(days=3))
        self.assertEqual(partner.vip_purchase_count, 1, "read before the new purchase")
        self._night(self.today + timedelta(days=1))
        self.assertEqual(partner.vip_purchase_count, 2)

    def test_nobody_writes_the_runs_state(self):
        """The run's state on the company is the engine's: an administrator
        writing it could skip a night or cancel a requested full one."""
        admin = self.env.ref("base.user_admin")
        for vals in (
            {"vip_recompute_full": False},
            {"vip_recompute_date": self.today + timedelta(days=1)},
            {"vip_recompute_cursor": 2147483647},
            {"vip_recompute_run_full": True},
            {"vip_recompute_pending": 0},
        ):
            with self.assertRaises(AccessError):
                self.company.with_user(admin).write(vals)


@tagged("post_install", "-at_install")
class TestTierIncrementalCompanies(VipCustomerCommon):
    """Incremental nights with two companies running: a shared customer (no
    company, in no program yet) is due in both."""

    def test_a_shared_customer_buying_in_a_later_company_gets_its_tier_there(self):
        company_2 = self.setup_other_company(name="VIP Night Subsidiary")["company"]
        tier_2 = self.Tier.create({
            "name": "Silver", "code": "S", "level": 1, "company_id": company_2.id,
            "min_spend": 1000, "min_purchase_count": 1, "grace_days": 30,
        })
        engine = self.Engine.sudo()
        companies = self.env["res.company"].sudo().search([], order="id")
        self.assertGreater(company_2.id, self.company.id)
        day = self.today + timedelta(days=1)
        for company in companies:
            # yesterday's runs are complete: tonight's are incremental
            engine._save_resume_point(company, 0, self.today)
            company.vip_recompute_full = False
        shared = self.env["res.partner"].create({"name": "Shared Buyer", "is_company": True})
        self._invoice(shared, 5000, days_ago=0, company=company_2)
        self.run_cron(self.Engine._cron_recompute_tiers, today=day, max_calls=20)
        # the main company found nothing of its own and left her to the later run
        self.assertEqual(shared.vip_company_id, company_2)
        self.assertEqual(shared.vip_tier_id, tier_2)
        self.assertGreater(shared.vip_eval_date, day)
        self.assertEqual(shared.vip_lifetime_spend, 5000, "valued in company 2 too")

    def test_a_shared_customer_reevaluated_elsewhere_keeps_her_day(self):
        """"Re-evaluate now" of a shared customer in a company she never bought
        in finds nothing there; the purchase she made in another company that
        day is still evaluated by that company's next (incremental) night."""
        company_2 = self.setup_other_company(name="VIP Re-evaluation Subsidiary")["company"]
        tier_2 = self.Tier.create({
            "name": "Silver", "code": "S", "level": 1, "company_id": company_2.id,
            "min_spend": 1000, "min_purchase_count": 1, "grace_days": 30,
        })
        engine = self.Engine.sudo()
        companies = self.env["res.company"].sudo().search([], order="id")
        for company in companies:
            # today's runs are complete: tomorrow's are incremental
            engine._save_resume_point(company, 0, self.today)
            company.vip_recompute_full = False
        shared = self.env["res.partner"].create({"name": "Shared Buyer", "is_company": True})
        self._invoice(shared, 5000, days_ago=0, company=company_2)
        self.env.flush_all()
        self.assertTrue(shared.vip_eval_date, "the purchase marked her")
        self.Engine.with_company(self.company)._recompute_partners(shared)
        self.assertFalse(shared.vip_tier_id, "nothing of hers in the main company")
        self.assertTrue(shared.vip_eval_date, "her day is left to the nights")
        self.run_cron(
            self.Engine._cron_recompute_tiers, today=self.today + timedelta(days=1), max_calls=20
        )
        self.assertEqual(shared.vip_company_id, company_2)
        self.assertEqual(shared.vip_tier_id, tier_2)
