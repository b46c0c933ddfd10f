from unittest.mock import patch

from dateutil.relativedelta import relativedelta

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import VipLoyaltyCommon


@tagged("post_install", "-at_install")
class TestBackfill(VipLoyaltyCommon):
    """Award Points for Past Invoices (issue 10, item 6)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.old_customer = cls._partner("Old Customer", tier=cls.tier_b)
        # invoiced before the program existed: no points
        cls.program.active = False
        cls.before = cls._invoice(cls.old_customer, 1000, days_ago=400)
        cls.recent = cls._invoice(cls.old_customer, 2000, days_ago=100)
        cls.too_old = cls._invoice(cls.old_customer, 5000, days_ago=900)
        cls.refund = cls._invoice(cls.old_customer, 400, days_ago=90, move_type="out_refund")
        cls.refund.reversed_entry_id = cls.recent
        cls.program.active = True
        cls.Backfill = cls.env["vip.loyalty.backfill"]

    def _run(self, **vals):
        run = self.Backfill.create(dict({"date_from": self.today - relativedelta(years=2)}, **vals))
        run.action_start()
        run._run_to_end()
        return run

    def test_past_invoices_earn_once_from_the_chosen_date(self):
        self.assertEqual(self.balance(self.old_customer), 0)
        run = self.Backfill.create({"date_from": self.today - relativedelta(years=2)})
        self.assertEqual(run.pending_count, 3, "two invoices and a credit note of the period")
        run.action_start()
        run._run_to_end()
        self.assertEqual(run.state, "done")
        # tier B (x1.5): 1000 + 2000 - 400 credit note; the 900-day-old invoice is before the date
        self.assertEqual(self.balance(self.old_customer), 3900)
        moves = self.Move.search([("backfill_id", "=", run.id)])
        self.assertEqual(moves.invoice_id, self.before | self.recent | self.refund)
        self.assertFalse(self.too_old.vip_loyalty_move_ids)
        self.assertEqual(run.points_total, 3900)
        # found by their origin
        self.assertEqual(
            self.Move.search([("backfill_id", "!=", False), ("partner_id", "=",
                                                               self.old_customer.id)]),
            moves,
        )
        self.assertLedger(self.old_customer)

    def test_rerun_is_a_noop_and_the_rule_never_doubles(self):
        self._run()
        balance = self.balance(self.old_customer)
        again = self._run()
        self.assertFalse(again.move_ids, "a second run awards nothing")
        self.assertEqual(self.balance(self.old_customer), balance)
        # the earning rule finds the points there: a re-sync or a payment earns nothing more
        self.assertFalse(self.Engine._sync_invoices(self.before | self.recent | self.refund))
        self.assertEqual(self.balance(self.old_customer), balance)
        # an invoice that already earned under the rule is skipped
        new = self._invoice(self.old_customer, 100)
        third = self._run()
        self.assertFalse(third.move_ids)
        self.assertEqual(new.vip_loyalty_points, 150)
        self.assertLedger(self.old_customer)

    def test_batches_and_cron(self):
        run = self.Backfill.create({"date_from": self.today - relativedelta(years=2)})
        run.action_start()
        self.assertEqual(run.state, "running")
        self.assertEqual(self.balance(self.old_customer), 0, "the click hands the work over")
        cron = self.env.ref("vip_loyalty.ir_cron_vip_loyalty_backfill")
        self.assertTrue(
            self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]),
            "the cron is triggered to go on now",
        )
        reports = []
        with patch.object(
            type(self.env["ir.cron"]), "_notify_progress",
            lambda _cron, *, done, remaining, deactivate=False: reports.append((done, remaining)),
        ):
            # two invoices, then the credit note, one per call
            for _i in range(3):
                self.Backfill._cron_award_past_invoices(batch_size=1)
            self.assertEqual(reports, [(1, 2), (1, 1), (1, 0)])
            self.assertEqual(run.state, "done", "closed with its last batch")
            self.Backfill._cron_award_past_invoices(batch_size=1)
            self.assertEqual(reports[-1], (0, 0))
        self.assertEqual(self.balance(self.old_customer), 3900)
        self.assertEqual(run.invoice_count, 3)
        self.assertLedger(self.old_customer)

    def test_cron_works_by_time_under_the_runner(self):
        """Under a time limit a call does a first small batch, then as many as the
        time allows; with the pass's time spent it does nothing and asks for a
        new pass."""
        run = self.Backfill.create({"date_from": self.today - relativedelta(years=2)})
        run.action_start()
        cron = self.env.ref("vip_loyalty.ir_cron_vip_loyalty_backfill")
        Trigger = self.env["ir.cron.trigger"]
        triggers = Trigger.search_count([("cron_id", "=", cron.id)])
        reports = []
        Cron = type(self.env["ir.cron"])
        backfill = "odoo.addons.vip_loyalty.models.vip_loyalty_backfill"
        Backfill = self.Backfill.with_context(cron_id=cron.id)
        with (
            patch.object(Cron, "_notify_progress",
                         lambda _cron, *, done, remaining, deactivate=False:
                         reports.append((done, remaining))),
            patch(f"{backfill}.FIRST_BATCH_SIZE", 1),
        ):
            for seconds in (0.0, 1e-9, 600.0):
                with patch.object(Cron, "_vip_call_seconds", lambda _c, s=seconds: s):
                    Backfill._cron_award_past_invoices(batch_size=5)
        # nothing (time spent), the first invoice only, then the rest with the credit note
        self.assertEqual(reports, [(0, 0), (1, 2), (2, 0)])
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), triggers + 1)
        self.assertEqual(run.state, "done")
        self.assertEqual(self.balance(self.old_customer), 3900)
        self.assertLedger(self.old_customer)

    def test_validity_from_award_date_or_invoice_date(self):
        run = self._run(expiry_from="invoice")
        lot = run.move_ids.filtered(lambda m: m.invoice_id == self.before)
        self.assertEqual(lot.expiry_date, self.before.invoice_date + relativedelta(months=12))
        self.assertEqual(lot.date, self.before.invoice_date)
        other = self._partner("Other Old", tier=self.tier_c)
        self.program.active = False
        invoice = self._invoice(other, 700, days_ago=500)
        self.program.active = True
        self._run(expiry_from="award")
        self.assertEqual(invoice.vip_loyalty_move_ids.expiry_date,
                         self.today + relativedelta(months=12))

    def test_managers_only(self):
        with self.assertRaises(AccessError):
            self.Backfill.with_user(self.loyalty_user).create(
                {"date_from": self.today - relativedelta(years=1)}
            )
        run = self.Backfill.create({"date_from": self.today - relativedelta(years=1)})
        with self.assertRaises(AccessError):
            run.with_user(self.loyalty_user).action_start()
        with self.assertRaises(AccessError):
            self.Backfill.with_user(self.salesman).search([])
        run.with_user(self.loyalty_manager).action_start()
        with self.assertRaises(UserError):
            run.write({"date_from": self.today - relativedelta(years=5)})
        with self.assertRaises(UserError):
            run.unlink()

    def test_run_fields_are_the_runs_own(self):
        """Hostile check: a loyalty manager put a done award back to draft, changed
        its counts and who started it, created one 'done' with no moves, then
        deleted it; only the run writes those fields, and an award with moves stays."""
        Backfill = self.Backfill.with_user(self.loyalty_manager)
        for vals in ({"state": "done"}, {"invoice_count": 123456}, {"phase": "out_refund"},
                     {"user_id": self.salesman.id}, {"last_invoice_id": 99}):
            with self.assertRaisesRegex(UserError, "set by the award itself"):
                Backfill.create(dict({"date_from": self.today - relativedelta(years=1)}, **vals))
        run = self._run()
        self.assertEqual(run.state, "done")
        self.assertTrue(run.move_ids)
        for vals in ({"state": "draft"}, {"invoice_count": 1}, {"user_id": self.salesman.id},
                     {"date_done": False}, {"last_invoice_id": 0}):
            with self.assertRaisesRegex(UserError, "set by the award itself"):
                run.with_user(self.loyalty_manager).write(vals)
        self.assertEqual(run.state, "done")
        with self.assertRaisesRegex(UserError, "audit trail"):
            run.with_user(self.loyalty_manager).unlink()
        draft = Backfill.create({"date_from": self.today - relativedelta(years=1)})
        with self.assertRaisesRegex(UserError, "set by the award itself"):
            draft.write({"state": "running"})
        action = draft.action_start()
        self.assertEqual((draft.state, draft.user_id), ("running", self.loyalty_manager))
        # walk: nothing told the manager the work goes on in the background
        self.assertEqual(action["tag"], "display_notification")

    def test_bad_period(self):
        with self.assertRaises(UserError):
            self.Backfill.create({"date_from": self.today + relativedelta(days=5)})
        with self.assertRaises(UserError):
            self.Backfill.create({"date_from": self.today,
                                  "date_to": self.today - relativedelta(days=5)})
