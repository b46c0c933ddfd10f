"""What sales staff and VIP managers notice on customers: filters, account
managers and their activities, birthdays, tier history, reports and the
language of the notes (issue 10)."""

import re

from dateutil.relativedelta import relativedelta
from lxml import etree

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from .common import VipCustomerCommon


@tagged("post_install", "-at_install")
class TestCustomerUx(VipCustomerCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vip_user_2 = new_test_user(
            cls.env,
            login="vip_customer-user-2",
            groups="base.group_user,vip_customer.group_vip_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def _arch(self, model, view_type, view_xmlid=None, user=None):
        Model = self.env[model].with_user(user) if user else self.env[model]
        view_id = self.env.ref(view_xmlid).id if view_xmlid else False
        views = Model.get_views([(view_id, view_type)])
        return etree.fromstring(views["views"][view_type]["arch"])

    # ------------------------------------------------------------------
    # Filters and lists
    # ------------------------------------------------------------------
    def test_my_vip_customers_is_not_ored_with_vip(self):
        """Filters of one group are OR'ed by the search panel: "My VIP
        Customers" must sit in its own group, so that with the default "VIP"
        filter it narrows the list instead of showing everyone."""
        arch = self._arch("res.partner", "search", "base.view_res_partner_filter", self.vip_user)
        vip = arch.xpath("//filter[@name='vip']")[0]
        my_vip = arch.xpath("//filter[@name='my_vip']")[0]
        between = []
        node = vip.getnext()
        while node is not None and node is not my_vip:
            between.append(node.tag)
            node = node.getnext()
        self.assertIs(node, my_vip, "both filters are in the same search view block")
        self.assertIn("separator", between, "VIP and My VIP Customers are one OR group")

    def test_vip_list_shows_account_manager_not_salesperson(self):
        arch = self._arch(
            "res.partner", "list", "vip_customer.res_partner_vip_view_list", self.vip_user
        )
        manager = arch.xpath("//field[@name='vip_account_manager_id']")[0]
        salesperson = arch.xpath("//field[@name='user_id']")[0]
        self.assertEqual(manager.get("optional"), "show")
        self.assertEqual(salesperson.get("optional"), "hide")
        action = self.env.ref("vip_customer.res_partner_vip_action")
        list_view = action.view_ids.filtered(lambda v: v.view_mode == "list").view_id
        self.assertEqual(list_view, self.env.ref("vip_customer.res_partner_vip_view_list"))

    # ------------------------------------------------------------------
    # Account managers
    # ------------------------------------------------------------------
    def test_account_manager_needs_the_vip_user_group(self):
        with self.assertRaisesRegex(ValidationError, re.escape(self.salesman.name)):
            self.customer.vip_account_manager_id = self.salesman
        # a salesperson without VIP access is not made account manager by default
        partner = self.env["res.partner"].create(
            {"name": "Sales Only Ltd", "is_company": True, "user_id": self.salesman.id}
        )
        self.assertFalse(partner.vip_account_manager_id)
        partner.user_id = self.vip_user_2
        self.assertEqual(partner.vip_account_manager_id, self.vip_user_2)

    def test_contacts_show_their_company_account_manager(self):
        self.customer.vip_account_manager_id = self.vip_user_2
        contact = self.env["res.partner"].create(
            {"name": "Chen Wei", "parent_id": self.customer.id}
        )
        self.assertEqual(contact.vip_account_manager_id, self.vip_user_2)
        self.customer.vip_account_manager_id = self.vip_user
        self.assertEqual(contact.vip_account_manager_id, self.vip_user)

    def test_open_activities_follow_a_new_account_manager(self):
        """Demo bug: a follow-up planned while the salesperson was responsible
        stayed with them after another account manager was named."""
        self.customer.user_id = self.vip_manager  # salesperson, no account manager yet
        self.customer.vip_account_manager_id = False
        self._invoice(self.customer, 60000, days_ago=200)
        self.recompute(self.customer)
        self.assertEqual(self.customer.vip_tier_id, self.tier_b)
        # in the tier for a while, followed up half a year ago: the call is due today
        self.customer.write({"vip_tier_since": self.today - relativedelta(days=200)})
        self.customer.vip_last_followup_date = self.today - relativedelta(days=180)
        cadences = self._create_cadences()
        activity = self.env["vip.moment.engine"]._run(self.today, rules=cadences).activity_id
        self.assertEqual(activity.user_id, self.vip_manager)
        other = self.env["mail.activity"].create(
            {
                "res_model_id": self.env["ir.model"]._get_id("res.partner"),
                "res_id": self.customer.id,
                "summary": "Unrelated to-do",
                "user_id": self.vip_manager.id,
            }
        )
        self.customer.vip_account_manager_id = self.vip_user_2
        self.assertEqual(activity.user_id, self.vip_user_2)
        self.assertEqual(other.user_id, self.vip_manager, "only VIP activities move")

    def test_demo_followups_go_to_the_account_manager(self):
        followup = self.env.ref(
            "vip_customer.mail_activity_type_vip_followup", raise_if_not_found=False
        )
        if not self.env.ref("vip_customer.res_partner_vip_golden_dragon", False):
            self.skipTest("no demo data")
        activities = self.env["mail.activity"].search(
            [("activity_type_id", "=", followup.id), ("res_model", "=", "res.partner")]
        )
        self.assertTrue(activities)
        for activity in activities:
            partner = self.env["res.partner"].browse(activity.res_id)
            self.assertEqual(
                activity.user_id, partner._vip_get_responsible_user(), partner.display_name
            )

    # ------------------------------------------------------------------
    # Birthdays
    # ------------------------------------------------------------------
    def test_birthday_of_a_vip_company_contact(self):
        self.customer.vip_account_manager_id = self.vip_user_2
        self._invoice(self.customer, 60000, days_ago=10)
        self.recompute(self.customer)
        target = self.today + relativedelta(days=2)
        contact = self.env["res.partner"].create(
            {
                "name": "Chen Wei",
                "parent_id": self.customer.id,
                "email": "chen.wei@example.com",
                "vip_birthday": target.replace(year=1976),
            }
        )
        rule = self.env["vip.moment.rule"].create(
            {
                "name": "Birthday",
                "trigger_type": "birthday",
                "company_id": self.company.id,
                "lead_days": 2,
                "activity_type_id": self.env.ref("vip_customer.mail_activity_type_vip_gift").id,
            }
        )
        moments = self.env["vip.moment.engine"]._run(self.today, rules=rule)
        self.assertEqual(moments.partner_id, contact)
        gift = self.env["mail.activity"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", contact.id)]
        )
        self.assertEqual(gift.user_id, self.vip_user_2, "the company's account manager")
        # the "Birthday This Month" filter of the customer list finds the company
        filter_node = self._arch(
            "res.partner", "search", "base.view_res_partner_filter", self.vip_user
        ).xpath("//filter[@name='vip_birthday_month']")[0]
        domain = filter_node.get("domain").replace("context_today().month", str(self.today.month))
        if target.month == self.today.month:
            found = self.env["res.partner"].search(safe_eval(domain))
            self.assertIn(self.customer, found)
            # the Birthdays list shows the person, with the company's account manager
            action = self.env["ir.actions.act_window"]._for_xml_id(
                "vip_customer.res_partner_vip_action_birthdays"
            )
            people = self.env["res.partner"].search(safe_eval(action["domain"]) + safe_eval(domain))
            self.assertIn(contact, people)
            self.assertNotIn(self.customer, people)
            self.assertEqual(contact.vip_account_manager_id, self.vip_user_2)

    # ------------------------------------------------------------------
    # Tier history
    # ------------------------------------------------------------------
    def test_manual_tier_change_records_the_customer_metrics(self):
        self._invoice(self.customer, 30000, days_ago=40)
        self._invoice(self.customer, 25000, days_ago=10)
        self.recompute(self.customer)
        self.assertEqual(self.customer.vip_tier_id, self.tier_b)
        wizard = (
            self.env["vip.tier.change"]
            .with_user(self.vip_manager)
            .create(
                {
                    "partner_ids": [Command.set(self.customer.ids)],
                    "tier_id": self.tier_a.id,
                    "reason": "Strategic account",
                }
            )
        )
        wizard.action_apply()
        history = self.customer.vip_tier_history_ids.filtered(lambda h: h.reason == "manual")
        self.assertEqual(len(history), 1)
        self.assertEqual(history.spend, 55000)
        self.assertEqual(history.purchase_count, 2)
        self.assertEqual(history.window_months, 12)

    def test_history_is_dated_by_the_run_that_decided(self):
        self._invoice(self.customer, 60000, days_ago=100)
        run_date = self.today - relativedelta(days=30)
        self.Engine._recompute(self.company, partner_ids=self.customer.ids, today=run_date)
        history = self.customer.vip_tier_history_ids
        self.assertEqual(history.date, run_date)
        self.assertEqual(self.customer.vip_tier_since, run_date)
        note = self.customer.message_ids.filtered(lambda m: "→" in (m.body or ""))
        self.assertEqual(note.date.date(), run_date, "the chatter tells the same day")

    def test_demo_tier_since_matches_the_history(self):
        if not self.env.ref("vip_customer.res_partner_vip_golden_dragon", False):
            self.skipTest("no demo data")
        # the demo customers are the main company's; the test user works in another
        main = self.env.ref("base.main_company")
        customers = (
            self.env["res.partner"]
            .sudo()
            .search([("vip_company_id", "=", main.id), ("parent_id", "=", False)])
        )
        self.assertTrue(customers)
        for customer in customers.filtered("vip_tier_history_ids"):
            last = customer.vip_tier_history_ids.sorted(lambda h: (h.date, h.id))[-1]
            self.assertEqual(last.new_tier_id, customer.vip_tier_id, customer.display_name)
            self.assertEqual(last.date, customer.vip_tier_since, customer.display_name)
        months = {
            h.date.replace(day=1)
            for h in self.env["vip.tier.history"]
            .sudo()
            .search([("company_id", "=", main.id), ("direction", "!=", "new")])
        }
        self.assertGreater(len(months), 1, "demo movements spread over several months")

    # ------------------------------------------------------------------
    # Reports
    # ------------------------------------------------------------------
    def test_pareto_lists_top_20_first(self):
        spenders = self.env["res.partner"].create([{"name": f"P{i}"} for i in range(5)])
        for partner, amount in zip(spenders, (80000, 5000, 5000, 5000, 5000), strict=True):
            self._invoice(partner, amount, days_ago=3)
        self.recompute()
        groups = self.env["vip.pareto.report"].read_group(
            [("partner_id", "in", spenders.ids)], ["spend:sum"], ["segment"], lazy=False
        )
        labels = dict(self.env["vip.pareto.report"]._fields["segment"].selection)
        self.assertEqual([labels[g["segment"]] for g in groups], ["Top 20%", "Other 80%"])

    def test_tier_movements_by_month_and_direction(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_customer.vip_tier_history_action_movements"
        )
        self.assertEqual(action["view_mode"].split(",")[0], "graph")
        context = safe_eval(action["context"])
        self.assertTrue(context.get("search_default_group_month"))
        self.assertTrue(context.get("search_default_group_direction"))

    # ------------------------------------------------------------------
    # Language of the notes
    # ------------------------------------------------------------------
    def _load_zh_cn(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["vip_customer"], ["zh_CN"])
        self.tier_b.update_field_translations("name", {"zh_CN": "金卡"})
        self.tier_c.update_field_translations("name", {"zh_CN": "银卡"})

    def test_tier_note_in_the_readers_language(self):
        self._load_zh_cn()
        self.vip_user_2.lang = "zh_CN"
        self.customer.vip_account_manager_id = self.vip_user_2
        self._invoice(self.customer, 60000, days_ago=10)
        self.Engine.with_context(lang="en_US")._recompute_partners(self.customer)
        self.assertEqual(self.customer.vip_tier_id, self.tier_b)
        note = self.customer.message_ids.filtered(lambda m: "→" in (m.body or ""))
        self.assertEqual(len(note), 1)
        self.assertIn("VIP 等级", note.body)
        self.assertIn("金卡", note.body)
        self.assertIn("新晋 VIP", note.body)
        self.assertNotIn("VIP tier", note.body)

    def test_retention_call_in_the_assignees_language(self):
        self._load_zh_cn()
        self.vip_user_2.lang = "zh_CN"
        self.customer.vip_account_manager_id = self.vip_user_2
        # bought every month a year ago, once since: a C customer (retention calls
        # are key moments of VIP customers)
        for month in range(13, 25):
            self._invoice(self.customer, 9000, days_ago=month * 30)
        self._invoice(self.customer, 9000, days_ago=300)
        # the built-in retention call, created with the company in every installed
        # language (zh_CN was not yet when the test company's rules were made)
        retention = self.env["vip.moment.rule"].search(
            [("builtin_code", "=", "churn_retention"), ("company_id", "=", self.company.id)]
        )
        retention.unlink()
        self.company._vip_create_builtin_moment_rules()
        self.Engine.with_context(lang="en_US")._recompute_partners(self.customer)
        self.assertEqual(self.customer.vip_churn_level, "high")
        activity = self.env["mail.activity"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", self.customer.id)]
        )
        self.assertEqual(activity.summary, "流失风险高：请致电客户")

    # ------------------------------------------------------------------
    # Layout
    # ------------------------------------------------------------------
    def test_downgrade_banner_is_one_sentence(self):
        self._invoice(self.customer, 60000, days_ago=300)
        self._invoice(self.customer, 1000, days_ago=0)
        self.recompute(self.customer)
        self.assertEqual(self.customer.vip_tier_id, self.tier_b)
        self.Engine._recompute(
            self.company,
            partner_ids=self.customer.ids,
            today=self.today + relativedelta(days=70),
        )
        self.customer.invalidate_recordset()
        self.assertEqual(self.customer.vip_pending_tier_id, self.tier_c)
        message = self.customer.with_user(self.vip_user).vip_downgrade_message
        self.assertTrue(message.startswith(f"Downgrade to {self.tier_c.display_name} on "))
        self.assertTrue(message.endswith(" unless spending recovers."))

    def test_partner_form_layout(self):
        arch = self._arch("res.partner", "form", None, self.vip_user)
        badges = arch.xpath("//div[@name='vip_badges']")[0]
        self.assertIn("d-flex", badges.get("class"))
        self.assertTrue(badges.xpath("./field[@name='vip_tier_id']"))
        self.assertTrue(badges.xpath("./span[hasclass('fa-lock')]"))
        self.assertTrue(badges.xpath("./span[contains(., 'At risk')]"))
        signals = arch.xpath("//field[@name='vip_churn_signal_score']")[0]
        self.assertEqual(signals.get("widget"), "progressbar")
        self.assertFalse(arch.xpath("//div[@name='vip_downgrade_banner']//br"))

    def test_tier_form_has_no_empty_prices_section(self):
        self.vip_manager.groups_id = [
            Command.unlink(self.env.ref("product.group_product_pricelist").id)
        ]
        arch = self._arch("vip.tier", "form", None, self.vip_manager)
        self.assertFalse(arch.xpath("//group[@string='Prices']"))

    def test_list_headers_are_not_cut(self):
        """Numbers, dates and checkboxes get a fixed column width in lists
        (web's column_width_hook): a longer header is cut to "Follow-up E…".
        Columns of this add-on whose label does not fit set their own width."""
        fixed = {"integer": 71, "float": 93, "monetary": 105, "boolean": 70, "date": 92}
        views = self.env["ir.ui.view"].browse(
            self.env["ir.model.data"]
            .search([("module", "=", "vip_customer"), ("model", "=", "ir.ui.view")])
            .mapped("res_id")
        )
        cut = []
        for view in views.filtered(lambda v: v.type == "list"):
            Model = self.env[view.model]
            for node in etree.fromstring(view.arch_db).iter("field"):
                field = Model._fields.get(node.get("name"))
                if (
                    not field
                    or field.type not in fixed
                    or node.get("column_invisible") in ("1", "True")
                    or node.get("widget") in ("handle", "many2one_avatar_user")
                    or node.get("width")
                ):
                    continue
                label = node.get("string") or field.string
                # ~7px a character at the header's font, plus padding and sort icon
                if len(label) * 7 + 16 > fixed[field.type]:
                    cut.append(f"{view.xml_id}: {node.get('name')} ({label})")
        self.assertFalse(cut, "list headers cut: set a width or a shorter label")
