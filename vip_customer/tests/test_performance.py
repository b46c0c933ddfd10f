import re
from datetime import date

from odoo.tests import tagged, warmup
from odoo.tools import SQL

from ..models.account_move import PURCHASE_FIELDS, PURCHASE_INDEX
from .common import VipCustomerCommon


@tagged("post_install", "-at_install")
class TestPerformance(VipCustomerCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._invoice(cls.customer, 60000, days_ago=40)
        cls._invoice(cls.customer, 50000, days_ago=4)

    @warmup
    def test_single_customer_recompute_queries(self):
        """Re-evaluating one customer costs a bounded number of queries
        whatever the size of the customer base (one aggregate, one update,
        the tier change through write() with the commercial sync to the
        contacts, its history row and its note through mail's API, the
        key-moment rules its tier change signals and the next follow-up
        recomputed from the cadences)."""
        # measure this add-on's engine: other add-ons' churn signals add their own query
        engine_cls = type(self.env["vip.tier.engine"])
        self.patch(engine_cls, "_get_churn_signals", lambda engine, company, ids: {})
        self.patch(engine_cls, "_get_churn_signal_dates", lambda engine, company, ids: {})
        self.env.invalidate_all()
        # + the evaluation marks read before the aggregate (incremental nights)
        # + the customer listed for the next customer value refresh (its table checked,
        # one insert); the purchases and the customers are two queries (one plan each)
        with self.assertQueryCount(23):
            self.Engine.sudo()._recompute(self.company, partner_ids=self.customer.ids)
        self.assertEqual(self.customer.vip_tier_id, self.tier_a)
        # nothing changed: the marks, the aggregate and the customers, the value's list
        # and nothing else
        self.env.invalidate_all()
        with self.assertQueryCount(9):
            self.Engine.sudo()._recompute(self.company, partner_ids=self.customer.ids)

    @warmup
    def test_partner_form_queries(self):
        self.customer.with_user(self.vip_manager).vip_tier_id = self.tier_a
        self.env.invalidate_all()
        partner = self.customer.with_user(self.vip_user)
        fields_to_read = [
            name
            for name, field in partner._fields.items()
            if name.startswith("vip_") and field._module == "vip_customer"
        ]
        # 12, and the key moments: their one2many, the customer's contacts
        # (child_of) and one count of the moments by state; the last import job:
        # one query on the job relation
        with self.assertQueryCount(16):
            partner.read(fields_to_read)

    def test_tier_changes_queries_do_not_grow_with_customers(self):
        """A night with twice as many tier changes costs the same number of
        queries: the changes, their history rows and their notes (in each
        account manager's language) are written for the batch, never one
        customer at a time."""
        engine_cls = type(self.env["vip.tier.engine"])
        self.patch(engine_cls, "_get_churn_signals", lambda engine, company, ids: {})
        managers = [self.vip_user, self.vip_manager]

        def batch(count):
            partners = self.env["res.partner"].create(
                [
                    {
                        "name": f"Batch customer {count}-{index}",
                        "vip_account_manager_id": managers[index % 2].id,
                    }
                    for index in range(count)
                ]
            )
            for partner in partners:
                self._invoice(partner, 60000, days_ago=10)
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            self.Engine.sudo()._recompute(self.company, partner_ids=partners.ids)
            self.env.flush_all()
            self.assertEqual(partners.vip_tier_id, self.tier_b)
            return self.env.cr.sql_log_count - before

        batch(2)  # warm the caches of what does not grow (tiers, templates, groups)
        small, large = batch(4), batch(8)
        self.assertLessEqual(
            large, small + 2, f"{small} queries for 4 tier changes, {large} for 8"
        )

    def test_purchases_are_read_from_the_index_alone(self):
        """The tier engine and the customer value read a batch of customers'
        purchases from one index (an index-only scan once the table is
        vacuumed, no heap fetch per invoice): its key and included columns
        hold every column the purchase source reads, on posted customer
        invoices and credit notes only."""
        rows = self.env.execute_query(SQL(
            """SELECT a.attname, pg_get_expr(i.indpred, i.indrelid)
                 FROM pg_index i
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                WHERE i.indexrelid = to_regclass(%s)""",
            PURCHASE_INDEX,
        ))
        self.assertTrue(rows, "the index exists")
        self.assertEqual({name for name, _pred in rows}, PURCHASE_FIELDS - {"state"})
        self.assertIn("'posted'", rows[0][1])
        self.assertIn("out_refund", rows[0][1])
        # the source reads nothing else of a move (an added column needs the index too)
        source = self.Engine.sudo()._purchases_sql(self.company, date(2000, 1, 1)).code
        read = set(re.findall(r"\bm\.(\w+)", source))
        self.assertLessEqual(read, PURCHASE_FIELDS)
        self.assertIn("amount_untaxed_signed", read)
