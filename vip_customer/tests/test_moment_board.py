from datetime import date, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from ..demo.vip_moment_demo import DEMO_RULES
from .common import VipCustomerCommon

# a Wednesday: its week (Monday 30 November - Sunday 6 December) straddles two months
TODAY = date(2026, 12, 2)


@tagged("post_install", "-at_install")
@freeze_time("2026-12-02 10:00:00")
class TestMomentBoard(VipCustomerCommon):
    """The account managers' board: processed / due / not yet due per manager
    for today, this week, this month and in all, completion per rule, overdue
    first, and who sees and writes what."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Rule = cls.env["vip.moment.rule"]
        cls.Occurrence = cls.env["vip.moment.occurrence"]
        # every company's rules (the demo and built-in ones of the main company too)
        cls.Rule.sudo().search([]).write({"active": False})
        cls.vip_user_2 = new_test_user(
            cls.env,
            login="vip_customer-board-user-2",
            groups="base.group_user,vip_customer.group_vip_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        for user in cls.vip_user | cls.vip_user_2 | cls.vip_manager:
            user.tz = "UTC"
        cls.rule_call = cls.Rule.create(
            {"name": "Churn call", "company_id": cls.company.id, "trigger_type": "churn_high"}
        )
        cls.rule_visit = cls.Rule.create(
            {"name": "Spend drop visit", "company_id": cls.company.id, "trigger_type": "spend_drop"}
        )
        cls.customer_2 = cls.env["res.partner"].create(
            {"name": "Board Customer Two", "is_company": True, "user_id": cls.vip_user_2.id}
        )
        (cls.customer | cls.customer_2).write({"vip_tier_id": cls.tier_a.id})
        cls.customer.vip_account_manager_id = cls.vip_user
        cls.customer_2.vip_account_manager_id = cls.vip_user_2
        # (name, rule, user, days from today, state)
        plan = [
            ("done_today", cls.rule_call, cls.vip_user, 0, "done"),
            ("due_today", cls.rule_call, cls.vip_user, 0, "open"),
            ("overdue_monday", cls.rule_call, cls.vip_user, -2, "open"),
            ("saturday", cls.rule_call, cls.vip_user, 3, "open"),
            ("done_later_this_month", cls.rule_call, cls.vip_user, 10, "done"),
            ("done_last_month", cls.rule_call, cls.vip_user, -20, "done"),
            ("cancelled_today", cls.rule_call, cls.vip_user, 0, "cancelled"),
            ("visit_done_today", cls.rule_visit, cls.vip_user, 0, "done"),
            ("user2_due_today", cls.rule_call, cls.vip_user_2, 0, "open"),
            ("user2_tomorrow", cls.rule_call, cls.vip_user_2, 1, "open"),
        ]
        cls.moments = {}
        for name, rule, user, days, state in plan:
            partner = cls.customer if user == cls.vip_user else cls.customer_2
            cls.moments[name] = cls._moment(
                rule, partner, user, TODAY + timedelta(days=days), state
            )

    @classmethod
    def _moment(cls, rule, partner, user, deadline, state="open", key=None):
        # the engine's own path (occurrences are created by the engine only)
        return (
            cls.env["vip.moment.occurrence"]
            .sudo()
            .with_context(vip_moment_engine=True)
            .create(
                {
                    "rule_id": rule.id,
                    "partner_id": partner.id,
                    "user_id": user.id,
                    "occasion_key": key or f"test:{deadline}:{state}:{rule.id}:{user.id}",
                    "date": deadline - timedelta(days=3),
                    "date_deadline": deadline,
                    "state": state,
                    "date_done": deadline if state == "done" else False,
                }
            )
            .sudo(False)
        )

    def _board(self, period=None, user=None, groupby=("user_id", "board_state")):
        """The pivot of the board: counts per manager and status in a period,
        through the search filters' domains."""
        Occurrence = self.Occurrence.with_user(user or self.vip_manager)
        domain = [("board_period", "=", period)] if period else []
        return {
            tuple(value.login if hasattr(value, "login") else value for value in key): count
            for *key, count in Occurrence._read_group(domain, list(groupby), ["__count"])
        }

    def test_counts_per_manager_today_week_month_and_cumulative(self):
        u1, u2 = self.vip_user.login, self.vip_user_2.login
        self.assertEqual(
            self._board("today"),
            {(u1, "done"): 2, (u1, "due"): 1, (u1, "cancelled"): 1, (u2, "due"): 1},
        )
        self.assertEqual(
            self._board("week"),
            {
                (u1, "done"): 2,
                (u1, "due"): 2,  # the one overdue since Monday too
                (u1, "not_due"): 1,
                (u1, "cancelled"): 1,
                (u2, "due"): 1,
                (u2, "not_due"): 1,
            },
        )
        self.assertEqual(
            self._board("month"),
            {
                (u1, "done"): 3,
                (u1, "due"): 1,  # Monday was in November
                (u1, "not_due"): 1,
                (u1, "cancelled"): 1,
                (u2, "due"): 1,
                (u2, "not_due"): 1,
            },
        )
        self.assertEqual(
            self._board(),
            {
                (u1, "done"): 4,
                (u1, "due"): 2,
                (u1, "not_due"): 1,
                (u1, "cancelled"): 1,
                (u2, "due"): 1,
                (u2, "not_due"): 1,
            },
        )

    def test_completion_per_rule_today_and_cumulative(self):
        def completion(domain):
            return {
                rule.name: round(rate, 2)
                for rule, rate in self.Occurrence.with_user(self.vip_manager)._read_group(
                    domain, ["rule_id"], ["completion:avg"]
                )
            }

        # today: 1 of 3 churn calls processed (the cancelled one counts in neither)
        self.assertEqual(
            completion([("board_period", "=", "today")]),
            {"Churn call": 33.33, "Spend drop visit": 100.0},
        )
        # cumulative: 3 of 8 churn calls
        self.assertEqual(completion([]), {"Churn call": 37.5, "Spend drop visit": 100.0})
        # a task deleted cancels its moment: out of the rate too
        self.moments["user2_due_today"]._mark_cancelled()
        self.assertEqual(
            completion([("board_period", "=", "today")]),
            {"Churn call": 50.0, "Spend drop visit": 100.0},
        )

    def test_overdue_first_and_day_filters(self):
        Occurrence = self.Occurrence.with_user(self.vip_user)
        list_order = "state desc, date_deadline, id"  # the list view's default order
        first = Occurrence.search([], order=list_order, limit=1)
        self.assertEqual(first, self.moments["overdue_monday"])
        self.assertEqual(Occurrence.search([("is_overdue", "=", True)]), first)
        self.assertTrue(first.is_overdue)
        self.assertFalse(self.moments["due_today"].with_user(self.vip_user).is_overdue)
        self.assertEqual(
            Occurrence.search([("board_state_now", "=", "due")]),
            self.moments["overdue_monday"] | self.moments["due_today"],
        )
        self.assertEqual(
            Occurrence.search([("board_state_now", "=", "not_due")]), self.moments["saturday"]
        )
        self.assertEqual(self.moments["saturday"].with_user(self.vip_user).board_period, "week")
        self.assertEqual(
            self.moments["done_later_this_month"].with_user(self.vip_user).board_period, "month"
        )
        self.assertFalse(self.moments["done_last_month"].with_user(self.vip_user).board_period)
        with self.assertRaises(UserError):
            Occurrence.search([("board_period", "=", "year")])

    def test_due_follows_the_calendar_before_the_nightly_refresh(self):
        # created yesterday, due today: stored "not yet due" until a refresh
        with freeze_time("2026-12-01 10:00:00"):
            moment = self._moment(
                self.rule_visit, self.customer, self.vip_user, TODAY, key="yesterday"
            )
        self.assertEqual(moment.board_state, "not_due")
        as_user = self.Occurrence.with_user(self.vip_user)
        # the filters read the due date: due today already
        self.assertIn(moment, as_user.search([("board_state_now", "=", "due")]))
        self.assertEqual(moment.with_user(self.vip_user).board_state_now, "due")
        # opening the board brings the stored status (kanban columns, pivot) to today
        action = as_user.action_open_board()
        self.assertEqual(moment.board_state, "due")
        self.assertEqual(action["res_model"], "vip.moment.occurrence")
        self.assertEqual(action["context"]["search_default_filter_mine"], 1)
        self.assertNotIn("search_default_groupby_user", action["context"])
        # a VIP manager gets every manager side by side
        action = self.Occurrence.with_user(self.vip_manager).action_open_board()
        self.assertEqual(action["context"]["search_default_groupby_user"], 1)
        self.assertNotIn("search_default_filter_mine", action["context"])

    # ------------------------------------------------------------------
    # Access
    # ------------------------------------------------------------------
    def test_vip_user_sees_only_own_moments(self):
        mine = self.Occurrence.with_user(self.vip_user).search([])
        theirs = self.Occurrence.with_user(self.vip_user_2).search([])
        self.assertEqual(mine.user_id, self.vip_user)
        self.assertEqual(theirs.user_id, self.vip_user_2)
        self.assertEqual(len(theirs), 2)
        with self.assertRaises(AccessError):
            self.moments["user2_due_today"].with_user(self.vip_user).read(["state"])
        # nor through the customer: the smart button counts the reader's moments
        self.assertEqual(self.customer_2.with_user(self.vip_user).vip_moment_count, 0)
        self.assertEqual(self.customer_2.with_user(self.vip_user_2).vip_moment_count, 2)
        # nor in the activity view's customers
        action = self.env.ref("vip_customer.res_partner_vip_moment_activity_action")
        domain = safe_eval(action.domain)
        self.assertEqual(
            self.env["res.partner"].with_user(self.vip_user).search(domain), self.customer
        )
        self.assertEqual(
            self.env["res.partner"].with_user(self.vip_manager).search(domain),
            self.customer | self.customer_2,
        )

    def test_vip_user_cannot_write_the_engine_fields(self):
        moment = self.moments["due_today"].with_user(self.vip_user)
        for vals in (
            {"state": "done"},
            {"board_state": "done"},
            {"completion": 100.0},
            {"user_id": self.vip_user_2.id},
            {"date_deadline": TODAY + timedelta(days=30)},
            {"rule_id": self.rule_visit.id},
        ):
            with self.assertRaises(AccessError, msg=vals):
                moment.write(vals)
        self.assertEqual(self.moments["due_today"].state, "open")
        with self.assertRaises(AccessError):
            self.Occurrence.with_user(self.vip_user).create(
                {
                    "rule_id": self.rule_call.id,
                    "partner_id": self.customer.id,
                    "occasion_key": "forged",
                    "date_deadline": TODAY,
                }
            )
        with self.assertRaises(AccessError):
            moment.unlink()
        # the visit record is theirs to write, a colleague's is not
        moment.write({"feedback": "Called"})
        with self.assertRaises(AccessError):
            self.moments["due_today"].with_user(self.vip_user_2).write({"feedback": "x"})

    def test_manager_sees_all_managers(self):
        everything = self.Occurrence.with_user(self.vip_manager).search([])
        self.assertEqual(everything.user_id, self.vip_user | self.vip_user_2)
        self.assertEqual(len(everything), len(self.moments))

    def test_other_company_is_invisible(self):
        other_company = self.env["res.company"].create({"name": "Board Other Co"})
        rule = self.Rule.create(
            {"name": "Other churn", "company_id": other_company.id, "trigger_type": "churn_high"}
        )
        foreign = self._moment(rule, self.customer, self.vip_user, TODAY, key="foreign")
        for user in (self.vip_user, self.vip_manager):
            self.assertNotIn(foreign, self.Occurrence.with_user(user).search([]))
            with self.assertRaises(AccessError):
                foreign.with_user(user).read(["state"])
        self.assertEqual(self._board("today", groupby=("company_id",)), {(self.company,): 5})

    def test_no_vip_group_no_board(self):
        with self.assertRaises(AccessError):
            self.Occurrence.with_user(self.salesman).search([])
        with self.assertRaises(AccessError):
            self.Occurrence.with_user(self.salesman).action_open_board()

    # ------------------------------------------------------------------
    # From the customer: Key Moments, Record Contact
    # ------------------------------------------------------------------
    def test_record_contact_from_the_customer_in_the_writers_language(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.rule_call.update_field_translations("name", {"zh_CN": "流失挽回电话"})
        self.vip_user.lang = "zh_CN"
        customer = self.customer.with_user(self.vip_user)
        self.assertEqual(customer.vip_moment_open_count, 3)
        moments_action = customer.action_vip_view_moments()
        self.assertEqual(
            self.Occurrence.with_user(self.vip_user).search(moments_action["domain"]),
            self.Occurrence.browse(
                [m.id for m in self.moments.values() if m.partner_id == self.customer]
            ),
        )
        action = customer.action_vip_record_contact()
        self.assertEqual(action["res_model"], "vip.moment.visit")
        # the oldest open moment first; several to choose from
        self.assertEqual(
            action["context"]["default_occurrence_id"], self.moments["overdue_monday"].id
        )
        self.assertTrue(action["context"]["vip_choose_moment"])
        # no lang in the context, as over XML-RPC: the writer's language all the same
        Visit = self.env["vip.moment.visit"].with_user(self.vip_user).with_context(lang=None)
        wizard = Visit.with_context(**action["context"]).create(
            {"outcome": "reached", "feedback": "满意", "needs": "更快的交货"}
        )
        self.assertEqual(
            wizard.occurrence_choice_ids,
            self.moments["overdue_monday"] | self.moments["due_today"] | self.moments["saturday"],
        )
        wizard.action_record()
        moment = self.moments["overdue_monday"]
        self.assertEqual((moment.state, moment.outcome), ("done", "reached"))
        note = self.customer.message_ids.filtered(lambda m: "更快的交货" in (m.body or ""))
        self.assertEqual(len(note), 1)
        self.assertIn("流失挽回电话", note.body)
        self.assertNotIn("Churn call", note.body)
        self.assertEqual(note.author_id, self.vip_user.partner_id)
        # an English writer writes in English
        self.vip_user_2.lang = "en_US"
        wizard = Visit.with_user(self.vip_user_2).create(
            {"occurrence_id": self.moments["user2_due_today"].id, "outcome": "not_reached"}
        )
        wizard.action_record()
        self.assertIn("Churn call", self.customer_2.message_ids[:1].body)

    def test_record_contact_only_own_moments(self):
        # a VIP user cannot pick a colleague's moment of the same customer
        colleague_moment = self._moment(
            self.rule_visit, self.customer, self.vip_user_2, TODAY, key="colleague"
        )
        action = self.customer.with_user(self.vip_user).action_vip_record_contact()
        wizard = (
            self.env["vip.moment.visit"]
            .with_user(self.vip_user)
            .with_context(**action["context"])
            .create({"outcome": "reached"})
        )
        self.assertNotIn(colleague_moment, wizard.occurrence_choice_ids)
        with self.assertRaises(AccessError):
            self.env["vip.moment.visit"].with_user(self.vip_user).create(
                {"occurrence_id": colleague_moment.id, "outcome": "reached"}
            )
        # nothing open for them: a clear message
        with self.assertRaises(UserError):
            self.customer_2.with_user(self.vip_user).action_vip_record_contact()

    def test_activity_done_from_the_chatter_lands_on_the_moment(self):
        rule = self.rule_call
        self.customer.sudo().with_context(vip_engine=True).write(
            {"vip_churn_level": "high", "vip_churn_high_since": TODAY}
        )
        moment = self.env["vip.moment.engine"]._run(TODAY, rules=rule)
        self.assertEqual(moment.partner_id, self.customer)
        moment.activity_id.with_user(self.vip_user).action_feedback(feedback="Will order again")
        self.assertEqual((moment.state, moment.feedback), ("done", "Will order again"))
        self.assertEqual(moment.with_user(self.vip_user).board_state_now, "done")


@tagged("post_install", "-at_install")
class TestMomentBoardTour(HttpCase):
    """An account manager opens Key Moments and records a contact in the browser."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="vip_customer-board-tour",
            groups="base.group_user,vip_customer.group_vip_user",
        )
        if "tour_enabled" in cls.manager._fields:
            cls.manager.tour_enabled = False
        company = cls.env.company
        tier = cls.env["vip.tier"].create(
            {"name": "Tour Tier", "code": "TT", "level": 77, "min_spend": 99999999}
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Tour Moment Customer", "is_company": True, "user_id": cls.manager.id}
        )
        cls.customer.write({"vip_tier_id": tier.id, "vip_account_manager_id": cls.manager.id})
        cls.customer.sudo().with_context(vip_engine=True).write(
            {"vip_churn_level": "high", "vip_churn_high_since": date.today()}
        )
        rule = cls.env["vip.moment.rule"].create(
            {
                "name": "Tour churn call",
                "company_id": company.id,
                "trigger_type": "churn_high",
                "tier_ids": [Command.set(tier.ids)],
            }
        )
        cls.moment = cls.env["vip.moment.engine"]._run(rules=rule)

    def test_account_manager_records_a_contact_on_the_board(self):
        self.assertEqual(self.moment.partner_id, self.customer)
        self.start_tour("/odoo", "vip_moment_board_tour", login=self.manager.login)
        self.moment.invalidate_recordset()
        self.assertEqual(self.moment.state, "done")
        self.assertEqual(self.moment.outcome, "reached")
        self.assertEqual(self.moment.feedback, "Happy with the new range")
        self.assertIn("Happy with the new range", self.customer.message_ids[:1].body)


@tagged("post_install", "-at_install")
class TestMomentDemo(TransactionCase):
    """A fresh demo database shows the board in every status, each demo rule
    having fired through the engine."""

    def test_demo_moments_in_every_status(self):
        rules = self.env["vip.moment.rule"].browse([self.env.ref(xmlid).id for xmlid in DEMO_RULES])
        moments = self.env["vip.moment.occurrence"].search([("rule_id", "in", rules.ids)])
        self.assertEqual(moments.rule_id, rules)
        self.assertEqual(
            set(moments.mapped("board_state_now")), {"done", "due", "not_due", "cancelled"}
        )
        self.env["vip.moment.occurrence"].action_open_board()
        self.assertEqual(
            set(moments.mapped("board_state")), {"done", "due", "not_due", "cancelled"}
        )
        recorded = moments.filtered(lambda m: m.outcome)
        self.assertEqual(recorded.mapped("state"), ["done"])
        self.assertTrue(
            recorded.partner_id.message_ids.filtered(lambda m: recorded.needs in (m.body or ""))
        )
        # the anomalies fired on the customers the demo gave them
        drop = moments.filtered(lambda m: m.trigger_type == "spend_drop")
        self.assertEqual(drop.partner_id.name, "Red Lantern Tea House")
        self.assertIn(
            "Blue Harbour Trading",
            moments.filtered(lambda m: m.trigger_type == "silence").partner_id.mapped("name"),
        )
