from unittest.mock import patch

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo.tests import tagged

from .common import VipLoyaltyCommon


@tagged("post_install", "-at_install")
class TestExpiry(VipLoyaltyCommon):
    def test_lapsed_lots_expire_what_remains(self):
        invoice = self._invoice(self.customer, 1000, days_ago=400)
        lot = invoice.vip_loyalty_move_ids
        self.assertEqual(lot.expiry_date, invoice.invoice_date + relativedelta(months=12))
        fresh = self._invoice(self.customer, 500).vip_loyalty_move_ids
        self._give(self.customer, -300)  # consumed from the old lot first (FIFO)
        self.assertEqual(lot.remaining_points, 700)
        self.assertGreaterEqual(self.Engine._expire_lots(batch_size=1), 1)
        self.assertEqual(lot.remaining_points, 0)
        self.assertTrue(lot.expired)
        self.assertEqual(fresh.remaining_points, 500, "a valid lot is untouched")
        expiry = self.Move.search(
            [("move_type", "=", "expire"), ("partner_id", "=", self.customer.id)]
        )
        self.assertEqual(expiry.points, -700)
        self.assertEqual(expiry.reversed_move_id, lot)
        self.assertEqual(expiry.allocation_ids.lot_id, lot)
        self.assertEqual(self.balance(self.customer), 500)
        # nothing left to expire: a second run changes nothing
        self.Engine._expire_lots()
        self.assertEqual(self.balance(self.customer), 500)
        self.assertLedger(self.customer)

    def test_expiry_on_the_expiry_date_in_batches(self):
        partners = [self._partner(f"Batch {i}") for i in range(3)]
        for partner in partners:
            self._invoice(partner, 100)
        self.Engine._expire_lots()
        for partner in partners:
            self.assertEqual(self.balance(partner), 100, "not lapsed yet")
        with freeze_time(self.today + relativedelta(months=12)):
            self.assertGreaterEqual(self.Engine._expire_lots(batch_size=2), 3)
        for partner in partners:
            self.assertEqual(self.balance(partner), 0)
        self.assertLedger()

    def test_expiring_soon_on_customer(self):
        self._give(self.customer, 100, expiry_date=self.today + relativedelta(days=10))
        self._give(self.customer, 200, expiry_date=self.today + relativedelta(days=90))
        self.assertEqual(self.customer.vip_loyalty_expiring_points, 100)
        self.assertEqual(
            self.customer.vip_loyalty_next_expiry_date, self.today + relativedelta(days=10)
        )

    def test_cron_entry_points(self):
        self._invoice(self.customer, 100, days_ago=800)
        self.Engine._cron_expire_points()
        self.assertEqual(self.balance(self.customer), 0)
        self.assertLedger(self.customer)


@tagged("post_install", "-at_install")
class TestExpiryCron(VipLoyaltyCommon):
    """One cron pattern (issue 9, item 6): each call expires one bounded batch,
    reports what it did and what is left, and returns; the runner calls again."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.expire_customers = [cls._partner(f"Lapsed {i}") for i in range(4)]
        yesterday = cls.today - relativedelta(days=1)
        cls.lots = cls.env["vip.loyalty.move"]
        for i, partner in enumerate(cls.expire_customers):
            cls.lots |= cls._give(partner, 100 + i, expiry_date=yesterday)
            cls.lots |= cls._give(partner, 10, expiry_date=yesterday - relativedelta(days=i))
            cls._give(partner, 5, expiry_date=cls.today + relativedelta(days=100))
            cls._give(partner, -(3 + i))  # partly spent, from the first-expiring lot

    def _progress(self):
        """Patch ``ir.cron._notify_progress``: the list of its ``(done, remaining)``."""
        reports = []
        IrCron = type(self.env["ir.cron"])
        patcher = patch.object(
            IrCron, "_notify_progress",
            lambda _cron, *, done, remaining, deactivate=False: reports.append((done, remaining)),
        )
        patcher.start()
        self.addCleanup(patcher.stop)
        return reports

    def _balances(self):
        return [self.balance(partner) for partner in self.expire_customers]

    def test_small_batches_expire_as_one_big_run(self):
        lapsed = self.Engine._count_lapsed_lots(self.today)
        self.assertGreaterEqual(lapsed, len(self.lots))
        savepoint = self.env.cr.savepoint()
        self.Engine._expire_lots(batch_size=10**6)
        one_run = self._balances()
        savepoint.close(rollback=True)
        self.env.invalidate_all()
        self.assertNotEqual(self._balances(), one_run, "rolled back")

        reports = self._progress()
        left = lapsed
        for _call in range(20):
            self.Engine._cron_expire_points(batch_size=3)
            done, remaining = reports[-1]
            self.assertEqual((done, remaining), (min(3, left), left - min(3, left)))
            left = remaining
            if not remaining:
                break
        self.assertEqual(len(reports), -(-lapsed // 3), "one batch per call")
        self.assertEqual(self._balances(), one_run)
        self.assertEqual(self._balances(), [5] * 4, "only the valid lots are left")
        expiries = self.Move.search([("move_type", "=", "expire"),
                                     ("reversed_move_id", "in", self.lots.ids)])
        self.assertEqual(len(expiries), len(self.lots))
        self.assertEqual(expiries.reversed_move_id, self.lots, "each lot expired once")
        # nothing left: the next call does nothing and says so
        self.Engine._cron_expire_points(batch_size=3)
        self.assertEqual(reports[-1], (0, 0))
        self.assertEqual(self._balances(), [5] * 4)
        self.assertLedger(self.lots.partner_id)


    def test_a_call_works_by_its_time_budget(self):
        """Production mode: a call of Odoo's runner with hardly any time left expires
        its first batch and reports the rest; with time to spare it goes on,
        batch after batch, to the end: the balances of one big run."""
        lapsed = self.Engine._count_lapsed_lots(self.today)
        savepoint = self.env.cr.savepoint()
        self.Engine._expire_lots(batch_size=10**6)
        one_run = self._balances()
        savepoint.close(rollback=True)
        self.env.invalidate_all()
        reports = self._progress()
        Cron = type(self.env["ir.cron"])
        expiry = "odoo.addons.vip_loyalty.models.vip_loyalty_engine_expiry"
        for seconds in (1e-9, 600.0):
            with (
                patch.object(Cron, "_vip_call_seconds", lambda cron, s=seconds: s),
                patch(f"{expiry}.FIRST_BATCH_SIZE", 1),
            ):
                self.Engine._cron_expire_points(batch_size=2)
        self.assertEqual(reports, [(1, lapsed - 1), (lapsed - 1, 0)])
        self.assertEqual(self._balances(), one_run)
        self.assertLedger(self.lots.partner_id)


@tagged("post_install", "-at_install")
class TestExpiryTwin(VipLoyaltyCommon):
    """The set-based expiry writes the rows the generic path of the entry point writes
    for a negative move reversing its lot."""

    def test_set_based_expiry_equals_the_generic_path(self):
        lapsed = self.today - relativedelta(days=1)
        rows = {}
        for path in ("sql", "orm"):
            partner = self._partner(f"Twin {path}")
            lot = self._give(partner, 100, expiry_date=lapsed, date=lapsed - relativedelta(years=1))
            self._give(partner, 30, expiry_date=self.today + relativedelta(days=60))
            self._give(partner, -25)
            if path == "sql":
                move = self.Engine._post_moves(
                    [{"move_type": "expire", "reversed_move_id": lot.id}]
                )
            else:
                move = self.Engine._post_generic_moves([{
                    "name": f"Expired: {lot.name}", "partner_id": partner.id,
                    "company_id": self.company.id, "move_type": "expire",
                    "points": -lot.remaining_points, "reversed_move_id": lot.id,
                    "reason": "Validity period over",
                }])
            self.env.flush_all()
            self.env.invalidate_all()
            account = move.account_id
            rows[path] = {
                "move": move.read([
                    "name", "move_type", "date", "points", "is_lot", "is_earning",
                    "expiry_date", "remaining_points", "uncovered_points", "reason",
                    "user_id", "company_id",
                ])[0] | {"reverses_own_lot": move.reversed_move_id == lot,
                         "partner": move.partner_id == partner},
                "allocations": [(a.lot_id == lot, a.points, a.company_id.id)
                                for a in move.allocation_ids],
                "lot": (lot.remaining_points, lot.lot_allocation_ids.mapped("points")),
                "account": (account.balance, account.lifetime_earned),
            }
            rows[path]["move"].pop("id")
            self.assertLedger(partner)
        self.assertEqual(rows["sql"], rows["orm"])
