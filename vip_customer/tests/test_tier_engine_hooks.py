from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged
from odoo.tools import SQL

from ..models.vip_tier_engine import SQL_COLUMNS
from ..tools.vip_rules import TierDecision
from .common import VipCustomerCommon


@tagged("post_install", "-at_install")
class TestTierEngineHooks(VipCustomerCommon):
    """Each extension point of vip.tier.engine, overridden on the registry
    class as another add-on would, changes what a customer gets."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.engine_cls = type(cls.env["vip.tier.engine"])

    # ------------------------------------------------------------------
    # Hooks
    # ------------------------------------------------------------------
    def test_purchase_sources(self):
        """Another add-on adds a purchase source (say, POS orders)."""
        original = self.engine_cls._get_purchase_sources
        customer_id = self.customer.id

        def sources(engine, company, date_from):
            return original(engine, company, date_from) + [
                SQL(
                    "SELECT %s AS partner_id, CURRENT_DATE AS date, 70000.0 AS amount, "
                    "1 AS purchase_count",
                    customer_id,
                )
            ]

        with patch.object(self.engine_cls, "_get_purchase_sources", sources):
            self.recompute()
        self.assertEqual(self.customer.vip_spend, 70000)
        self.assertEqual(self.customer.vip_tier_id, self.tier_b)

    def test_metric_columns_reach_the_customer(self):
        """An extra metric declared in _get_metric_columns and filled by
        _prepare_metrics_vals is stored (here in a column the engine already
        owns: the customer's first purchase date, set to the last one)."""
        self._invoice(self.customer, 5000, days_ago=30)
        self._invoice(self.customer, 5000, days_ago=3)
        prepare = self.engine_cls._prepare_metrics_vals

        def metrics(engine, row, context):
            vals = prepare(engine, row, context)
            vals["vip_first_purchase_date"] = row["last_date"]
            vals["vip_avg_purchase"] = 1234.5
            return vals

        with patch.object(self.engine_cls, "_prepare_metrics_vals", metrics):
            self.recompute()
        self.assertEqual(self.customer.vip_avg_purchase, 1234.5)
        self.assertEqual(
            self.customer.vip_first_purchase_date, self.customer.vip_last_purchase_date
        )

    def test_extra_metric_column(self):
        """A column added through _get_metric_columns is read, compared and
        written like the engine's own (the lock reason stands in for a new
        field here); a key not declared is refused, not silently dropped."""
        self._invoice(self.customer, 5000, days_ago=3)
        columns = self.engine_cls._get_metric_columns
        prepare = self.engine_cls._prepare_metrics_vals

        def metrics(engine, row, context):
            return dict(prepare(engine, row, context), vip_gift_preference="Tea")

        with (
            patch.object(self.engine_cls, "_prepare_metrics_vals", metrics),
            self.assertRaisesRegex(ValueError, "vip_gift_preference"),
        ):
            self.recompute()
        with (
            patch.object(
                self.engine_cls,
                "_get_metric_columns",
                lambda engine: (*columns(engine), "vip_gift_preference"),
            ),
            patch.object(self.engine_cls, "_prepare_metrics_vals", metrics),
        ):
            self.recompute()
        self.assertEqual(self.customer.vip_gift_preference, "Tea")

    def test_decide_tier(self):
        """An add-on decides differently for some customers without copying
        the engine: here, nobody goes above C."""
        self._invoice(self.customer, 60000, days_ago=3)
        tier_c = self.tier_c.id

        def decide(engine, row, rules, metrics, today):
            if row["tier_id"] == tier_c:
                return TierDecision(tier_c)
            return TierDecision(tier_c, change="new")

        with patch.object(self.engine_cls, "_decide_tier", decide):
            self.recompute()
        self.assertEqual(self.customer.vip_tier_id, self.tier_c)
        self.assertEqual(self.customer.vip_tier_history_ids.new_tier_id, self.tier_c)

    def test_churn_signals(self):
        def signals(engine, company, partner_ids):
            return {pid: [(30, "Open complaint")] for pid in partner_ids}

        self._invoice(self.customer, 5000, days_ago=2)
        with patch.object(self.engine_cls, "_get_churn_signals", signals):
            self.recompute()
        self.assertEqual(self.customer.vip_churn_signal_score, 30)
        self.assertEqual(self.customer.vip_churn_signal_note, "Open complaint")
        self.assertGreaterEqual(self.customer.vip_churn_score, 30)

    def test_prepare_churn_vals(self):
        """Scoring churn differently: everyone at the maximum risk opens a
        risk episode with its retention call."""
        self._invoice(self.customer, 5000, days_ago=2)
        prepare = self.engine_cls._prepare_churn_vals

        def churn(engine, row, metrics_vals, signals, context):
            vals = prepare(engine, row, metrics_vals, signals, context)
            vals.update(vip_churn_score=100, vip_churn_level="high")
            vals["vip_churn_high_since"] = row["cur_vip_churn_high_since"] or context["today"]
            return vals

        with patch.object(self.engine_cls, "_prepare_churn_vals", churn):
            self.recompute()
        self.assertEqual(self.customer.vip_churn_score, 100)
        self.assertTrue(self.customer.vip_at_risk)
        retention = self.env.ref("vip_customer.mail_activity_type_vip_retention")
        self.assertIn(retention, self.customer.activity_ids.activity_type_id)

    def test_evaluate_customer(self):
        """A per-customer decision of an add-on's own: here, no tier change
        at all for customers whose name says so, metrics still stored."""
        self.customer.name = "Golden Dragon (frozen)"
        self._invoice(self.customer, 60000, days_ago=3)
        evaluate = self.engine_cls._evaluate_customer
        frozen = set(self.env["res.partner"].search([("name", "ilike", "(frozen)")]).ids)

        def evaluate_frozen(engine, row, context, signals):
            result = evaluate(engine, row, context, signals)
            if row["id"] in frozen:
                result["tier_change"] = None
            return result

        with patch.object(self.engine_cls, "_evaluate_customer", evaluate_frozen):
            self.recompute()
        self.assertFalse(self.customer.vip_tier_id)
        self.assertEqual(self.customer.vip_spend, 60000)

    # ------------------------------------------------------------------
    # Writes: the raw path and the tier's one path to the contacts
    # ------------------------------------------------------------------
    def test_raw_columns_are_hooked_by_nobody(self):
        """The engine writes its columns with raw SQL: each must be a plain
        stored field of this module that nothing tracks and no stored compute
        of any installed add-on depends on. The tier is not among them."""
        registry = self.env.registry
        columns = self.env["vip.tier.engine"]._get_raw_columns()
        self.assertNotIn("vip_tier_id", columns)
        self.assertNotIn("vip_tier_since", columns)
        # SQL_COLUMNS (read by bench/) lists the same columns with their types
        self.assertEqual(
            SQL_COLUMNS, {name: field.column_type[0] for name, field in columns.items()}
        )
        company_fields = self.env["res.company"]._fields
        for field in [
            *columns.values(),
            company_fields["vip_recompute_cursor"],
            company_fields["vip_recompute_date"],
        ]:
            with self.subTest(field=field.name):
                self.assertEqual(field._module, "vip_customer")
                self.assertTrue(field.store)
                self.assertFalse(field.compute or field.related or field.translate)
                self.assertFalse(getattr(field, "tracking", None))
                stored = [dep for dep in registry.get_dependent_fields(field) if dep.store]
                self.assertFalse(stored, f"stored fields computed from {field.name}")
        # and the tier does have dependents: it goes through write()
        tier_field = self.env["res.partner"]._fields["vip_tier_id"]
        self.assertTrue(any(dep.store for dep in registry.get_dependent_fields(tier_field)))

    def test_tier_reaches_contacts_by_the_commercial_sync(self):
        """A tier decided by the engine and one set by hand reach the
        company's contacts by the same path: write() and Odoo's commercial
        sync. Without that sync the contacts would not get it."""
        contact = self.env["res.partner"].create(
            {"name": "Mr. Wang", "parent_id": self.customer.id}
        )
        partner_cls = type(self.env["res.partner"])
        sync = partner_cls._commercial_sync_to_children
        synced = []

        def spy(partner, fields_to_sync=None):
            synced.append((partner.id, set(fields_to_sync or ())))
            return sync(partner, fields_to_sync)

        self._invoice(self.customer, 60000, days_ago=3)
        with patch.object(partner_cls, "_commercial_sync_to_children", spy):
            self.recompute()
        self.assertEqual(contact.vip_tier_id, self.tier_b)
        self.assertIn((self.customer.id, {"vip_tier_id"}), synced)
        synced.clear()
        with patch.object(partner_cls, "_commercial_sync_to_children", spy):
            self.customer.with_user(self.vip_manager).write({"vip_tier_id": self.tier_a.id})
        self.assertEqual(contact.vip_tier_id, self.tier_a)
        self.assertTrue(any("vip_tier_id" in names for _id, names in synced))
        # the only path: with the sync switched off the engine's change stays on the company
        self.customer.with_user(self.vip_manager).write({"vip_tier_id": False})
        with patch.object(partner_cls, "_commercial_sync_to_children", lambda p, f=None: True):
            self.recompute()
        self.assertEqual(self.customer.vip_tier_id, self.tier_b)
        self.assertFalse(contact.vip_tier_id)

    def test_tier_change_recomputes_dependent_fields(self):
        """The tier goes through write(): fields computed from it follow."""
        self._create_cadences()
        self._invoice(self.customer, 60000, days_ago=3)
        self.recompute()
        self.assertEqual(
            self.customer.vip_next_followup_date, fields.Date.add(self.today, days=180)
        )
