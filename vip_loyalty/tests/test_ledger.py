"""The ledger has one entry point, expiry included (issue 9, item 2)."""

import base64
import io
from unittest.mock import patch

from dateutil.relativedelta import relativedelta
from openpyxl import Workbook

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import VipLoyaltyCommon


@tagged("post_install", "-at_install")
class TestLedgerEntryPoint(VipLoyaltyCommon):
    """Each kind of movement goes through ``vip.loyalty.engine._post_moves``: every
    move the ledger gains was returned by it, and the totals equal the ledger after
    each one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gift = cls.env["vip.loyalty.reward"].create(
            {"name": "Tea Box", "reward_type": "gift", "points_cost": 150}
        )
        cls.customer.ref = "LEDGER-1"
        cls.newcomer = cls._partner("Ledger Newcomer", vip_referred_by_id=cls.customer.id)
        cls.imported = cls._partner("Ledger Imported", ref="LEDGER-2")
        cls.old_customer = cls._partner("Ledger Old Customer", tier=cls.tier_c)
        cls.program.active = False
        cls.old_invoice = cls._invoice(cls.old_customer, 400, days_ago=100)
        cls.program.active = True

    def setUp(self):
        super().setUp()
        self.env.flush_all()
        self.env.cr.execute("SELECT COALESCE(MAX(id), 0) FROM vip_loyalty_move")
        self.first_id = self.env.cr.fetchone()[0] + 1
        self.posted = []  # (move types asked, move ids returned) per call
        Engine = type(self.env["vip.loyalty.engine"])
        post_moves = Engine._post_moves
        posted = self.posted

        def spy(engine, vals_list):
            moves = post_moves(engine, vals_list)
            posted.append(({vals.get("move_type") for vals in vals_list}, set(moves.ids)))
            return moves

        patcher = patch.object(Engine, "_post_moves", spy)
        patcher.start()
        self.addCleanup(patcher.stop)

    def assertPosted(self, move_type, partners):
        """The last movement went through the entry point with ``move_type``; every
        move of the ledger since the test began came from it; totals = ledger."""
        self.assertTrue(self.posted, f"{move_type}: the entry point was not called")
        self.assertIn(move_type, self.posted[-1][0])
        self.assertTrue(self.posted[-1][1], f"{move_type}: no move recorded")
        self.env.flush_all()
        ledger = self.env["vip.loyalty.move"].sudo().search([("id", ">=", self.first_id)])
        self.assertEqual(
            set(ledger.ids), set().union(*(ids for _types, ids in self.posted)),
            f"{move_type}: a move was written outside the entry point",
        )
        self.assertLedger(partners)

    def _xlsx(self, rows):
        book = Workbook()
        for row in rows:
            book.active.append(row)
        output = io.BytesIO()
        book.save(output)
        return base64.b64encode(output.getvalue())

    def test_every_movement_goes_through_the_entry_point(self):
        customer, newcomer = self.customer, self.newcomer
        invoice = self._invoice(customer, 1000)
        self.assertPosted("earn", customer)
        self.assertEqual(self.balance(customer), 1000)
        refund = self._invoice(customer, 200, move_type="out_refund", post=False)
        refund.reversed_entry_id = invoice
        refund.action_post()
        self.assertPosted("reversal", customer)
        self.assertEqual(self.balance(customer), 800)
        cancelled = self._invoice(customer, 300)
        cancelled.button_draft()
        self.assertPosted("reversal", customer)
        self.assertEqual(self.balance(customer), 800)

        self._invoice(newcomer, 100)
        self.assertPosted("referral", customer | newcomer)
        self.assertEqual(self.balance(customer), 900)
        self.assertEqual(self.balance(newcomer), 150)

        redemption = self._redemption(customer, self.gift)
        redemption.action_confirm()
        self.assertPosted("redeem", customer)
        self.assertEqual(self.balance(customer), 750)
        redemption.action_cancel()
        self.assertPosted("reversal", customer)
        self.assertEqual(self.balance(customer), 900)

        self.env["vip.loyalty.adjust"].create(
            {"partner_id": customer.id, "points": -100, "reason": "Typo"}
        ).action_apply()
        self.assertPosted("adjust", customer)
        self.assertEqual(self.balance(customer), 800)

        wizard = self.env["vip.loyalty.import"].create({
            "file": self._xlsx([["Reference", "Points"], ["LEDGER-2", 500]]),
            "file_name": "balances.xlsx",
        })
        wizard.action_check()
        wizard.action_import()
        # the background import job's cron writes the balances
        self.env["vip.import.job"].sudo()._cron_process_jobs()
        self.assertPosted("import", self.imported)
        self.assertEqual(self.balance(self.imported), 500)

        run = self.env["vip.loyalty.backfill"].create(
            {"date_from": self.today - relativedelta(years=1)}
        )
        run.action_start()
        run._run_to_end()
        self.assertPosted("earn", self.old_customer)
        self.assertEqual(self.balance(self.old_customer), 400)

        self._give(customer, 70, expiry_date=self.today - relativedelta(days=1))
        self.assertEqual(self.balance(customer), 870)
        self.Engine._cron_expire_points()
        self.assertPosted("expire", customer)
        self.assertEqual(self.balance(customer), 800)

    def test_merge_joins_accounts_through_the_engine_without_moves(self):
        kept = self._partner("Ledger Lotus", email="ledger-lotus@example.com")
        duplicate = self._partner("Ledger Lotus Ltd", email="ledger-lotus@example.com")
        self._give(kept, 300)
        self._give(duplicate, 200)
        calls = len(self.posted)
        Engine = type(self.env["vip.loyalty.engine"])
        with patch.object(Engine, "_join_accounts", autospec=True,
                          side_effect=Engine._join_accounts) as join:
            self.env["base.partner.merge.automatic.wizard"].create({
                "partner_ids": [Command.set((kept | duplicate).ids)],
                "dst_partner_id": kept.id,
            }).action_merge()
        self.assertEqual(join.call_count, 1)
        self.assertEqual(len(self.posted), calls, "a merge moves no points")
        self.assertEqual(self.balance(kept), 500)
        self.assertLedger(kept)

    def test_expiry_points_are_derived_by_the_engine(self):
        """An expiry says which lot; the engine takes what is left on it, and never
        expires a lot before its date or twice."""
        lot = self._give(self.customer, 100, expiry_date=self.today - relativedelta(days=1))
        self._give(self.customer, -40)
        early = self._give(self.customer, 50, expiry_date=self.today + relativedelta(days=5))
        moves = self.Engine._post_moves([
            {"move_type": "expire", "reversed_move_id": lot.id, "points": -1000},
            {"move_type": "expire", "reversed_move_id": early.id},
        ])
        self.assertEqual(moves.mapped("points"), [-60], "the lot's 60 left; the early lot kept")
        self.assertEqual((lot.remaining_points, lot.expired), (0, True))
        self.assertEqual(early.remaining_points, 50)
        self.assertFalse(self.Engine._post_moves(
            [{"move_type": "expire", "reversed_move_id": lot.id}]
        ), "an expired lot does not expire again")
        self.assertEqual(self.balance(self.customer), 50)
        self.assertLedger(self.customer)

    def test_allocations_are_not_created_by_hand(self):
        lot = self._give(self.customer, 100)
        with self.assertRaises(UserError):
            self.env["vip.loyalty.move.allocation"].sudo().create({
                "move_id": lot.id, "lot_id": lot.id, "points": 100,
                "company_id": self.company.id,
            })
