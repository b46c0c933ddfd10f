from datetime import datetime, timedelta
from unittest.mock import patch

from dateutil.relativedelta import relativedelta
from lxml import etree

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools import SQL

from .common import VipCustomerCommon
from .common_ui import VipClickbotCase

ENGINE_CTX = {"vip_kpi_engine": True}


def _month_start(day, months=0):
    return day.replace(day=1) + relativedelta(months=months)


def _period_vals(company, date_start, **values):
    """A monthly ``vip.kpi.period`` row as the KPI engine writes it."""
    date_end = date_start + relativedelta(months=1, days=-1)
    return {
        "name": date_start.strftime("%Y-%m"),
        "company_id": company.id,
        "period_type": "month",
        "date_start": date_start,
        "date_end": date_end,
        "target_retention": 90.0,
        "target_renewal": 90.0,
        "target_repeat": 50.0,
        "target_satisfaction": 85.0,
        **values,
    }


@tagged("post_install", "-at_install")
class TestVipDigest(VipCustomerCommon):
    """The VIP KPIs of Odoo's periodic digest e-mail, per window and recipient."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.cust_new = Partner.create({"name": "Digest New Ltd", "is_company": True})
        cls.cust_back = Partner.create({"name": "Digest Comeback Ltd", "is_company": True})
        cls.cust_lost = Partner.create({"name": "Digest Lost Ltd", "is_company": True})
        cls.cust_old = Partner.create({"name": "Digest Old Ltd", "is_company": True})
        cls.cust_plain = Partner.create({"name": "Digest Plain Ltd", "is_company": True})
        History = cls.env["vip.tier.history"].sudo()
        rows = [
            # (customer, days ago, old tier, new tier, direction)
            (cls.cust_new, 2, False, cls.tier_c, "new"),
            # left and came back within the week: one new VIP, one lost VIP
            (cls.cust_back, 60, False, cls.tier_c, "new"),
            (cls.cust_back, 5, cls.tier_c, False, "removed"),
            (cls.cust_back, 3, False, cls.tier_b, "new"),
            (cls.cust_lost, 90, False, cls.tier_b, "new"),
            (cls.cust_lost, 20, cls.tier_b, False, "removed"),
            (cls.cust_old, 45, False, cls.tier_a, "new"),
            (cls.cust_old, 1, cls.tier_a, cls.tier_b, "downgrade"),
        ]
        History.create(
            [
                {
                    "partner_id": partner.id,
                    "company_id": cls.company.id,
                    "date": cls.today - timedelta(days=days),
                    "old_tier_id": old.id if old else False,
                    "new_tier_id": new.id if new else False,
                    "direction": direction,
                    "reason": "rule",
                }
                for partner, days, old, new, direction in rows
            ]
        )
        # another company's new VIP stays out of this company's digest
        other = cls.env["res.company"].create({"name": "Digest Other Co"})
        other_customer = Partner.create({"name": "Digest Elsewhere Ltd", "is_company": True})
        History.create(
            {
                "partner_id": other_customer.id,
                "company_id": other.id,
                "date": cls.today,
                "new_tier_id": cls.env["vip.tier"]
                .sudo()
                .create({"name": "Other", "code": "OT", "level": 1, "company_id": other.id})
                .id,
                "direction": "new",
                "reason": "rule",
            }
        )
        cls.digest = (
            cls.env["digest.digest"]
            .sudo()
            .create(
                {
                    "name": "VIP digest",
                    "company_id": cls.company.id,
                    "kpi_vip_new": True,
                    "kpi_vip_lost": True,
                    "kpi_vip_retention": True,
                    "kpi_vip_satisfaction": True,
                }
            )
        )
        cls.now = datetime.combine(cls.today, datetime.min.time()) + timedelta(hours=12)

    def _value(self, fname, days, user=None, end=None):
        end = end or self.now
        digest = self.digest.with_user(user or self.vip_manager).with_context(
            start_datetime=end - timedelta(days=days), end_datetime=end
        )
        digest.invalidate_recordset([fname])
        return digest[fname]

    def test_new_and_lost_vips_per_window(self):
        # last 24 hours: today only; nobody became or stopped being VIP today here
        self.assertEqual(self._value("kpi_vip_new_value", 1), 0)
        # last 7 days: cust_new (2 days) and cust_back (back 3 days ago); cust_back lost 5 days ago
        self.assertEqual(self._value("kpi_vip_new_value", 7), 2)
        self.assertEqual(self._value("kpi_vip_lost_value", 7), 1)
        # last 30 days: cust_lost left 20 days ago too; a downgrade is neither
        self.assertEqual(self._value("kpi_vip_new_value", 30), 2)
        self.assertEqual(self._value("kpi_vip_lost_value", 30), 2)
        # 70 days back: cust_old (45 days) too; cust_back entered twice, counts once
        self.assertEqual(self._value("kpi_vip_new_value", 70), 3)

    def test_retention_is_the_last_closed_month(self):
        Period = self.env["vip.kpi.period"].sudo().with_context(**ENGINE_CTX)
        this_month = _month_start(self.today)
        last_month = _month_start(self.today, -1)
        Period.create(
            [
                _period_vals(
                    self.company,
                    _month_start(self.today, -2),
                    retention_rate=70.0,
                    has_retention=True,
                ),
                _period_vals(self.company, last_month, retention_rate=92.5, has_retention=True),
                # the month in progress is not over: not the digest's figure yet
                _period_vals(self.company, this_month, retention_rate=40.0, has_retention=True),
            ]
        )
        self.assertEqual(self._value("kpi_vip_retention_value", 7), 92.5)
        # a digest sent a month ago read the month before
        self.assertEqual(
            self._value("kpi_vip_retention_value", 7, end=self.now - relativedelta(months=1)), 70.0
        )
        # last month as computed on its last day (the night run after its end has not
        # come yet): its figure so far is not the month's, the digest reads the one before
        Period.search(
            [("company_id", "=", self.company.id), ("date_start", "=", last_month)]
        ).write({"is_partial": True})
        self.assertEqual(self._value("kpi_vip_retention_value", 7), 70.0)

    def test_retention_without_vips_at_start_reads_zero(self):
        Period = self.env["vip.kpi.period"].sudo().with_context(**ENGINE_CTX)
        Period.create(_period_vals(self.company, _month_start(self.today, -1), has_retention=False))
        self.assertEqual(self._value("kpi_vip_retention_value", 7), 0.0)

    def test_satisfaction_of_vips_in_the_window(self):
        c_new, c_back, c_lost, c_plain = (
            self.cust_new,
            self.cust_back,
            self.cust_lost,
            self.cust_plain,
        )
        today = self.today
        answers = [
            (c_new, today, 80.0),  # VIP since 2 days
            (c_back, today - timedelta(days=1), 90.0),  # back to VIP 3 days ago
            (c_back, today - timedelta(days=4), 10.0),  # not VIP between 5 and 3 days ago
            (c_lost, today - timedelta(days=2), 20.0),  # left VIP 20 days ago
            (c_plain, today, 30.0),  # never VIP
            (self.cust_old, today - timedelta(days=10), 0.0),  # VIP, outside the week
            (c_new, today - timedelta(days=10), 100.0),  # before they became VIP
            (c_back, today, None),  # an answer without satisfaction
        ]

        def sources(engine, company, date_from, date_to):
            values = SQL(", ").join(
                SQL("(%s, %s::date, %s::float, NULL::integer)", p.id, d, s) for p, d, s in answers
            )
            return [
                SQL(
                    "SELECT * FROM (VALUES %s) AS v(partner_id, date, satisfaction, nps)",
                    values,
                )
            ]

        engine_class = type(self.env["vip.kpi.engine"])
        with patch.object(engine_class, "_get_satisfaction_sources", sources):
            self.assertEqual(self._value("kpi_vip_satisfaction_value", 7), 85.0)
            self.assertAlmostEqual(self._value("kpi_vip_satisfaction_value", 30), 170.0 / 3)
        with patch.object(engine_class, "_get_satisfaction_sources", lambda *a: []):
            self.assertEqual(self._value("kpi_vip_satisfaction_value", 7), 0.0)

    def test_digest_mail_per_recipient(self):
        """A VIP manager gets the four VIP lines, an account manager the three of
        their access, a salesperson none (Odoo's digest skips what raises AccessError)."""
        Period = self.env["vip.kpi.period"].sudo().with_context(**ENGINE_CTX)
        Period.create(
            _period_vals(
                self.company, _month_start(self.today, -1), retention_rate=92.5, has_retention=True
            )
        )
        vip_kpis = {"kpi_vip_new", "kpi_vip_lost", "kpi_vip_retention", "kpi_vip_satisfaction"}

        def kpis(user):
            return {
                kpi["kpi_name"]: kpi
                for kpi in self.digest._compute_kpis(self.company, user)
                if kpi["kpi_name"] in vip_kpis
            }

        manager_kpis = kpis(self.vip_manager)
        self.assertEqual(set(manager_kpis), vip_kpis)
        # the three columns: last 24 hours, 7 days, 30 days
        new = manager_kpis["kpi_vip_new"]
        self.assertEqual([new[f"kpi_col{i}"]["value"] for i in (1, 2, 3)], [0, 2, 2])
        self.assertEqual(manager_kpis["kpi_vip_retention"]["kpi_col2"]["value"], "92.50")
        self.assertIn(
            "vip_customer.vip_kpi_period_action", manager_kpis["kpi_vip_retention"]["kpi_action"]
        )
        user_kpis = kpis(self.vip_user)
        self.assertEqual(set(user_kpis), {"kpi_vip_new", "kpi_vip_lost", "kpi_vip_satisfaction"})
        # each line's "Open Report" leads to a list its reader may open
        for user, lines in ((self.vip_manager, manager_kpis), (self.vip_user, user_kpis)):
            for name, line in lines.items():
                xmlid = line["kpi_action"].split("?")[0]
                action = self.env.ref(xmlid)
                self.assertTrue(
                    self.env[action.res_model].with_user(user).has_access("read"),
                    f"{name}: {user.name} may not read {action.res_model}",
                )
        self.assertEqual(kpis(self.salesman), {})
        with self.assertRaises(AccessError):
            self._value("kpi_vip_retention_value", 7, user=self.vip_user)

    def test_default_digest_lists_the_vip_kpis(self):
        default = self.env.ref("digest.digest_digest_default")
        self.assertTrue(default.kpi_vip_new and default.kpi_vip_retention)


@tagged("post_install", "-at_install")
class TestVipKpiSettings(VipCustomerCommon):
    """The Program KPIs block of the VIP settings writes the company's targets and weights."""

    def test_targets_and_weights_from_the_settings(self):
        with Form(self.env["res.config.settings"].sudo()) as settings:
            settings.vip_target_retention = 80
            settings.vip_target_repeat = 45
            settings.vip_kpi_retention_tier_id = self.tier_b
            settings.vip_score_weight_sla = 30
        settings.save().execute()
        company = self.company.sudo()
        self.assertEqual(company.vip_target_retention, 80)
        self.assertEqual(company.vip_target_repeat, 45)
        self.assertEqual(company.vip_kpi_retention_tier_id, self.tier_b)
        self.assertEqual(company.vip_score_weight_sla, 30)

    def test_a_target_out_of_range_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "Renewal Target"):
            self.env["res.config.settings"].sudo().create({"vip_target_renewal": 150}).execute()
        self.assertEqual(self.company.sudo().vip_target_renewal, 90)


@tagged("post_install", "-at_install")
class TestVipKpiOverviewLabels(VipCustomerCommon):
    """What the overview's tiles say matches what they show, in both languages."""

    def test_spend_tile_reads_as_a_share_in_chinese(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["vip_customer"], ["zh_CN"])
        for lang, label in (("en_US", "VIP Spend Share"), ("zh_CN", "VIP 消费占比")):
            arch = (
                self.env["vip.kpi.period"]
                .with_context(lang=lang)
                .get_views([(False, "kanban")])["views"]["kanban"]["arch"]
            )
            tile = etree.fromstring(arch).xpath("//button[contains(@class, 'o_vip_kpi_spend')]")
            self.assertEqual(len(tile), 1)
            # the tile shows a percentage: its title is the share, not the amount's label
            self.assertEqual(tile[0].xpath("./div[1]")[0].text, label, lang)


@tagged("post_install", "-at_install")
class TestVipKpiUi(HttpCase):
    """Program KPIs in the browser: a VIP manager reads the periods against their
    targets and drills down; an account manager reads their own customers' figures."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.manager = new_test_user(
            cls.env,
            login="vip_customer-kpi-manager",
            groups="base.group_user,vip_customer.group_vip_manager",
        )
        cls.account_manager = new_test_user(
            cls.env,
            login="vip_customer-kpi-account-manager",
            groups="base.group_user,vip_customer.group_vip_user",
        )
        cls.other_account_manager = new_test_user(
            cls.env,
            login="vip_customer-kpi-other-account-manager",
            groups="base.group_user,vip_customer.group_vip_user",
        )
        (cls.manager | cls.account_manager).tour_enabled = False
        Tier = cls.env["vip.tier"]
        cls.tier = Tier.create(
            {
                "name": "KPI Gold",
                "code": "KG",
                "level": 91,
                "min_spend": 90000000,
                "company_id": cls.company.id,
            }
        )
        Partner = cls.env["res.partner"]
        cls.own_customer = Partner.create({"name": "KPI Own Customer", "is_company": True})
        cls.other_customer = Partner.create({"name": "KPI Other Customer", "is_company": True})
        today = fields.Date.context_today(Partner)
        cls.month = today.replace(day=1)
        cls.period_name = "KPI UI Month"
        engine = {"vip_kpi_engine": True}
        # one summary per company and month: the demo's own figures make way
        cls.env["vip.kpi.period"].sudo().with_context(**engine).search(
            [
                ("company_id", "=", cls.company.id),
                ("period_type", "=", "month"),
                ("date_start", "=", cls.month),
            ]
        ).unlink()
        cls.period = (
            cls.env["vip.kpi.period"]
            .sudo()
            .with_context(**engine)
            .create(
                _period_vals(
                    cls.company,
                    cls.month,
                    name=cls.period_name,
                    vip_start_count=2,
                    vip_end_count=1,
                    lost_count=1,
                    retention_rate=95.0,
                    has_retention=True,
                    retention_ok=True,
                    renewal_rate=50.0,
                    has_renewal=True,
                    renewal_ok=False,
                )
            )
        )
        date_end = cls.month + relativedelta(months=1, days=-1)
        common = {
            "company_id": cls.company.id,
            "period_type": "month",
            "date_start": cls.month,
            "date_end": date_end,
            "customer_count": 1,
            "is_vip_start": True,
            "retention_base": True,
            "tier_start_id": cls.tier.id,
        }
        cls.env["vip.kpi.fact"].sudo().with_context(**engine).create(
            [
                {
                    **common,
                    "partner_id": cls.own_customer.id,
                    "manager_id": cls.account_manager.id,
                    "tier_end_id": cls.tier.id,
                    "is_vip_end": True,
                    "movement": "stayed",
                    "retention_pct": 100.0,
                    "renewal_pct": 100.0,
                    "spend": 1000.0,
                    "purchase_count": 1,
                },
                {
                    **common,
                    "partner_id": cls.other_customer.id,
                    "manager_id": cls.other_account_manager.id,
                    "movement": "lost",
                    "retention_pct": 0.0,
                    "renewal_pct": 0.0,
                },
            ]
        )

    def test_menus_per_role(self):
        Menu = self.env["ir.ui.menu"]
        overview = self.env.ref("vip_customer.vip_kpi_period_menu")
        by_customer = self.env.ref("vip_customer.vip_kpi_fact_menu")
        visible = Menu.with_user(self.manager)._visible_menu_ids()
        self.assertIn(overview.id, visible)
        self.assertIn(by_customer.id, visible)
        visible = Menu.with_user(self.account_manager)._visible_menu_ids()
        self.assertNotIn(overview.id, visible)
        self.assertIn(by_customer.id, visible)
        self.assertIn(self.env.ref("vip_customer.vip_kpi_menu").id, visible)

    def test_manager_reads_the_periods_and_drills_down(self):
        self.start_tour(
            "/odoo/action-vip_customer.vip_kpi_period_action",
            "vip_customer_kpi_manager_tour",
            login=self.manager.login,
        )

    def test_account_manager_reads_own_customers(self):
        self.start_tour(
            "/odoo/action-vip_customer.vip_kpi_fact_action",
            "vip_customer_kpi_account_manager_tour",
            login=self.account_manager.login,
        )


@tagged("post_install", "-at_install")
class TestVipMenuClickbotManager(VipClickbotCase):
    """The VIP app, Program KPIs included, opens everywhere for a VIP manager who
    is not a system administrator (the admin and plain-user runs are in
    test_ui_clickbot.py)."""

    clickbot_login = "vip_customer-clickbot-manager"
    clickbot_groups = "base.group_user,vip_customer.group_vip_manager"

    def test_clickbot_vip_menu_as_vip_manager(self):
        self.click_everywhere(self.clickbot_user.login)
