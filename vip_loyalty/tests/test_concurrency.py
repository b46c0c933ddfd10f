from contextlib import closing

import psycopg2.errors

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, get_db_name, tagged
from odoo.tools import SQL, mute_logger


@tagged("post_install", "-at_install")
class TestConcurrentRedemption(BaseCase):
    """Two users confirm redemptions of the same customer at the same moment,
    in two real transactions: together they would overspend. One must fail
    cleanly and the balance never goes below zero.

    The data is committed (two transactions must see it) and removed afterwards.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())

    def setUp(self):
        super().setUp()
        with closing(self.registry.cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            company = env.ref("base.main_company")
            env = env(context=dict(env.context, allowed_company_ids=company.ids))
            program = env["vip.loyalty.program"]._get_for_company(company)
            if not program:
                program = env["vip.loyalty.program"].create({"company_id": company.id})
                self.addCleanup(self._drop_program, program.id)
            partner = env["res.partner"].create({"name": "Race Customer", "is_company": True})
            reward = env["vip.loyalty.reward"].create(
                {"name": "Race Gift", "points_cost": 700, "company_id": company.id}
            )
            env["vip.loyalty.engine"]._post_moves([{
                "name": "Test points", "partner_id": partner.id, "company_id": company.id,
                "move_type": "adjust", "points": 1000,
            }])
            Redemption = env["vip.loyalty.redemption"].with_company(company)
            first = Redemption.create({"partner_id": partner.id, "reward_id": reward.id})
            second = Redemption.create({"partner_id": partner.id, "reward_id": reward.id})
            cr.commit()  # pylint: disable=invalid-commit
            self.ids = {
                "company": company.id, "partner": partner.id, "reward": reward.id,
                "redemptions": [first.id, second.id],
            }
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        ids = self.ids
        with closing(self.registry.cursor()) as cr:
            for query in (
                "DELETE FROM mail_message WHERE model = 'vip.loyalty.redemption' "
                "AND res_id = ANY(%(r)s)",
                "DELETE FROM mail_followers WHERE res_model = 'vip.loyalty.redemption' "
                "AND res_id = ANY(%(r)s)",
                "UPDATE vip_loyalty_redemption SET move_id = NULL, reversal_move_id = NULL "
                "WHERE id = ANY(%(r)s)",
                "DELETE FROM vip_loyalty_move_allocation WHERE move_id IN "
                "(SELECT id FROM vip_loyalty_move WHERE partner_id = %(p)s)",
                "UPDATE vip_loyalty_move SET reversed_move_id = NULL WHERE partner_id = %(p)s",
                "DELETE FROM vip_loyalty_move WHERE partner_id = %(p)s",
                "DELETE FROM vip_loyalty_redemption WHERE id = ANY(%(r)s)",
                "DELETE FROM vip_loyalty_account WHERE partner_id = %(p)s",
                "DELETE FROM vip_loyalty_reward WHERE id = %(w)s",
                "DELETE FROM res_partner WHERE id = %(p)s",
            ):
                cr.execute(query, {"r": ids["redemptions"], "c": ids["company"],
                                   "w": ids["reward"], "p": ids["partner"]})
            cr.commit()  # pylint: disable=invalid-commit

    def _drop_program(self, program_id):
        with closing(self.registry.cursor()) as cr:
            cr.execute("DELETE FROM vip_loyalty_program WHERE id = %s", [program_id])
            cr.commit()  # pylint: disable=invalid-commit

    def _env(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {"allowed_company_ids": [self.ids["company"]]})

    def _balance(self):
        with closing(self.registry.cursor()) as cr:
            cr.execute(SQL(
                "SELECT a.balance, (SELECT SUM(points) FROM vip_loyalty_move m "
                "WHERE m.account_id = a.id) FROM vip_loyalty_account a "
                "WHERE a.partner_id = %s AND a.company_id = %s",
                self.ids["partner"], self.ids["company"],
            ))
            return cr.fetchone()

    def test_concurrent_confirmations_serialize(self):
        """The second transaction started before the first committed: it cannot
        lock the customer's ledger (Odoo retries such a request) and, retried,
        sees the new balance and refuses."""
        first_id, second_id = self.ids["redemptions"]
        with closing(self.registry.cursor()) as cr1, closing(self.registry.cursor()) as cr2:
            env1, env2 = self._env(cr1), self._env(cr2)
            second = env2["vip.loyalty.redemption"].browse(second_id)
            self.assertEqual(second.state, "draft")  # cr2's snapshot is taken here
            env1["vip.loyalty.redemption"].browse(first_id).action_confirm()
            cr1.commit()
            with mute_logger("odoo.sql_db"), self.assertRaises(
                psycopg2.errors.SerializationFailure
            ):
                second.action_confirm()
            cr2.rollback()
            # what Odoo does with the request: retry it in a new transaction
            env2.invalidate_all()
            with self.assertRaisesRegex(UserError, "Race Customer has 300 points"):
                second.action_confirm()
            cr2.rollback()
        self.assertEqual(self._balance(), (300, 300))

    def test_second_confirmation_waits_for_the_lock(self):
        """While the first confirmation is not committed, the second waits on
        the customer's ledger lock (here: gives up after a short timeout)."""
        first_id, second_id = self.ids["redemptions"]
        with closing(self.registry.cursor()) as cr1, closing(self.registry.cursor()) as cr2:
            env1, env2 = self._env(cr1), self._env(cr2)
            env1["vip.loyalty.redemption"].browse(first_id).action_confirm()
            cr2.execute("SET lock_timeout = '300ms'")
            with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.errors.LockNotAvailable):
                env2["vip.loyalty.redemption"].browse(second_id).action_confirm()
            cr2.rollback()
            cr1.commit()
            env2.invalidate_all()
            with self.assertRaisesRegex(UserError, "Race Customer has 300 points"):
                env2["vip.loyalty.redemption"].browse(second_id).action_confirm()
            cr2.rollback()
        self.assertEqual(self._balance(), (300, 300))
