import datetime

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import VipCustomerCommon

D = datetime.date
WEIGHTS = (
    "vip_score_weight_retention",
    "vip_score_weight_renewal",
    "vip_score_weight_satisfaction",
    "vip_score_weight_followup",
    "vip_score_weight_sla",
    "vip_score_weight_growth",
)
DIGEST_KPIS = (
    "kpi_vip_new_value",
    "kpi_vip_lost_value",
    "kpi_vip_retention_value",
    "kpi_vip_satisfaction_value",
)


@tagged("post_install", "-at_install")
class TestKpiHostileFixes(VipCustomerCommon):
    """Defects found by the hostile test of the program KPIs (issue #11):
    settings saved in one go, the digest KPIs read outside a digest run, the
    VIP spend share of a period with refunds, drill-downs called with bad
    arguments."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = new_test_user(
            cls.env,
            login="vip_customer-kpi-admin",
            groups="base.group_system,vip_customer.group_vip_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.Kpi = cls.env["vip.kpi.engine"]
        cls.Period = cls.env["vip.kpi.period"]
        Partner = cls.env["res.partner"]
        cls.vip = Partner.create({"name": "Share VIP Ltd", "is_company": True})
        cls.non_vip = Partner.create({"name": "Share Walk-in Ltd", "is_company": True})
        cls.Engine._log_tier_changes(
            [
                {
                    "partner": cls.vip,
                    "old_tier": cls.Tier,
                    "new_tier": cls.tier_c,
                    "reason": "rule",
                    "date": D(2024, 12, 1),
                }
            ]
        )

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def _invoice_on(self, partner, amount, day, move_type="out_invoice"):
        return self._invoice(partner, amount, days_ago=(self.today - day).days, move_type=move_type)

    def _period(self, start):
        self.Kpi._compute_period(self.company, "month", start)
        return self.Period.search(
            [
                ("company_id", "=", self.company.id),
                ("period_type", "=", "month"),
                ("date_start", "=", start),
            ]
        )

    def _settings(self, vals):
        settings = (
            self.env["res.config.settings"]
            .with_user(self.admin)
            .with_company(self.company)
            .create(vals)
        )
        return settings.execute()

    # ------------------------------------------------------------------
    # 4. the score weights (and other checked-together settings) in one save
    # ------------------------------------------------------------------
    def test_settings_move_the_only_weight_to_a_later_component(self):
        company = self.company.sudo()
        company.write(dict(dict.fromkeys(WEIGHTS, 0), vip_score_weight_retention=10))
        # from "only retention" to "only growth" in one save of the settings
        self._settings(dict(dict.fromkeys(WEIGHTS, 0), vip_score_weight_growth=10))
        self.assertEqual(
            company._get_vip_score_weights(),
            {
                "retention": 0,
                "renewal": 0,
                "satisfaction": 0,
                "followup": 0,
                "sla": 0,
                "growth": 10,
            },
        )
        # and back, through the weights in the other order
        self._settings(dict(dict.fromkeys(WEIGHTS, 0), vip_score_weight_retention=5))
        self.assertEqual(company.vip_score_weight_retention, 5)
        self.assertEqual(company.vip_score_weight_growth, 0)

    def test_settings_raise_both_churn_levels_in_one_save(self):
        """Medium 40 / high 70 -> medium 80 / high 90 is valid, though medium
        80 alone is above the old high level."""
        self._settings({"vip_churn_medium_threshold": 80, "vip_churn_high_threshold": 90})
        company = self.company.sudo()
        self.assertEqual(
            (company.vip_churn_medium_threshold, company.vip_churn_high_threshold), (80, 90)
        )

    def test_settings_refused_as_a_whole(self):
        company = self.company.sudo()
        before = {fname: company[fname] for fname in (*WEIGHTS, "vip_target_nps")}
        # (assertRaises, not assertRaisesRegex: Odoo rolls back only the former)
        with self.assertRaises(ValidationError) as caught:
            self._settings(dict(dict.fromkeys(WEIGHTS, 0), vip_target_nps=20))
        self.assertIn("at least one above 0", str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            self._settings({"vip_target_satisfaction": "abc", "vip_target_nps": 20})
        self.assertRegex(str(caught.exception), "Satisfaction Target.*not a number")
        self.assertEqual({fname: company[fname] for fname in before}, before)

    # ------------------------------------------------------------------
    # 5. digest KPIs outside a digest run
    # ------------------------------------------------------------------
    def test_digest_kpis_read_outside_a_digest_run(self):
        """Without the digest's window in the context (a plain read, a search_read
        of every field, an export) the VIP KPIs read 0, as Odoo's own ones do."""
        digest = self.env["digest.digest"].sudo().create({"name": "VIP weekly"})
        zeros = dict.fromkeys(DIGEST_KPIS, 0)
        for user in (self.admin, self.vip_manager, self.vip_user, self.salesman):
            with self.subTest(user=user.login):
                digests = self.env["digest.digest"].with_user(user)
                [row] = digests.browse(digest.id).read(list(DIGEST_KPIS))
                self.assertEqual({fname: row[fname] for fname in DIGEST_KPIS}, zeros)
                [row] = digests.search_read([("id", "=", digest.id)], ["name", *DIGEST_KPIS])
                self.assertEqual({fname: row[fname] for fname in DIGEST_KPIS}, zeros)
        admin = self.env.ref("base.user_admin")
        digests = self.env["digest.digest"].with_user(admin)
        [row] = digests.search_read([("id", "=", digest.id)])
        self.assertEqual({fname: row[fname] for fname in DIGEST_KPIS}, zeros)
        exported = digests.browse(digest.id).export_data(["name", *DIGEST_KPIS])
        self.assertEqual(exported["datas"], [["VIP weekly", 0, 0, 0, 0]])
        # a window the context cannot hold as dates is no window either
        bad = digests.browse(digest.id).with_context(start_datetime="not a date", end_datetime=[1])
        self.assertEqual(bad.read(["kpi_vip_lost_value"])[0]["kpi_vip_lost_value"], 0)

    # ------------------------------------------------------------------
    # 6. the VIP spend share only when there is a spend to share
    # ------------------------------------------------------------------
    def test_spend_share_without_positive_total(self):
        # February: VIP 1000, non-VIP refunds 3000 -> total -2000
        self._invoice_on(self.vip, 1000, D(2025, 2, 5))
        self._invoice_on(self.non_vip, 3000, D(2025, 2, 6), move_type="out_refund")
        # March: VIP 1000, non-VIP refund 500 -> total 500, the VIP spend is 200 % of it
        self._invoice_on(self.vip, 1000, D(2025, 3, 5))
        self._invoice_on(self.non_vip, 500, D(2025, 3, 6), move_type="out_refund")
        # April: VIP 1000 of 4000
        self._invoice_on(self.vip, 1000, D(2025, 4, 5))
        self._invoice_on(self.non_vip, 3000, D(2025, 4, 6))
        feb, mar, apr = (self._period(day) for day in (D(2025, 2, 1), D(2025, 3, 1), D(2025, 4, 1)))
        self.assertEqual((feb.vip_spend, feb.total_spend), (1000, -2000))
        self.assertEqual((mar.vip_spend, mar.total_spend), (1000, 500))
        for period in (feb, mar):
            with self.subTest(period=period.name):
                self.assertEqual(period.vip_spend_share, 0)  # was -50 % and 200 %
                self.assertFalse(period.has_spend_share)
        self.assertTrue(apr.has_spend_share)
        self.assertAlmostEqual(apr.vip_spend_share, 25)
        # the managers' views show the share only when there is one
        for view_type in ("kanban", "list", "form"):
            with self.subTest(view=view_type):
                arch = self.Period.with_user(self.vip_manager).get_views([(False, view_type)])[
                    "views"
                ][view_type]["arch"]
                self.assertIn("has_spend_share", arch)

    # ------------------------------------------------------------------
    # 7 and 12. drill-downs called with bad arguments
    # ------------------------------------------------------------------
    def test_drilldown_with_a_key_that_is_not_a_figure_name(self):
        self._invoice_on(self.vip, 1000, D(2025, 2, 5))
        period = self._period(D(2025, 2, 1)).with_user(self.vip_manager)
        for key in (["retention"], {"a": 1}, 0, 7, [], "bogus"):
            with self.subTest(key=key), self.assertRaisesRegex(UserError, "Unknown KPI"):
                period.with_context(vip_kpi=key).action_open_facts()
        action = period.with_context(vip_kpi="retention").action_open_facts()
        self.assertEqual(action["res_model"], "vip.kpi.fact")

    def test_drilldown_on_no_or_the_same_period_twice(self):
        self._invoice_on(self.vip, 1000, D(2025, 2, 5))
        period = self._period(D(2025, 2, 1)).with_user(self.vip_manager)
        with self.assertRaisesRegex(UserError, "one period at a time"):
            self.Period.with_user(self.vip_manager).browse().action_open_facts()
        twice = self.Period.with_user(self.vip_manager).browse([period.id, period.id])
        action = twice.with_context(vip_kpi="repeat").action_open_facts()
        self.assertEqual(
            action["domain"], period.with_context(vip_kpi="repeat").action_open_facts()["domain"]
        )
        march = self._period(D(2025, 3, 1)).with_user(self.vip_manager)
        with self.assertRaisesRegex(UserError, "one period at a time"):
            (period | march).action_open_facts()
