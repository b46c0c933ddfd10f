from datetime import date

from freezegun import freeze_time

from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import VipCustomerCommon


@tagged("post_install", "-at_install")
class TestFollowup(VipCustomerCommon):
    """The follow-up plan as the account manager sees it: the follow-up
    cadences (key-moment rules) give them one task per due date, the rule's
    days ahead; marking it done records the follow-up and moves the next one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.followup_type = cls.env.ref("vip_customer.mail_activity_type_vip_followup")
        # only the cadences of this test (not the built-in ones)
        cls.env["vip.moment.rule"].sudo().search([]).write({"active": False})
        cls.cadences = cls._create_cadences()
        cls.visit_a, cls.call_b, cls.email_c = cls.cadences
        # Tier A: a visit every 90 days; in the tier since 1 December 2024,
        # so the first follow-up falls on 1 March 2025.
        cls.customer.write({"vip_tier_id": cls.tier_a.id})
        cls.customer.write({"vip_tier_since": date(2024, 12, 1)})

    def _followups(self, partner=None):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "=", (partner or self.customer).id),
                ("activity_type_id", "=", self.followup_type.id),
            ]
        )

    def _run(self, day):
        with freeze_time(day):
            return self.env["vip.moment.engine"]._run(date.fromisoformat(day))

    def test_next_followup_from_tier_cadence(self):
        self.assertEqual(self.customer.vip_account_manager_id, self.vip_user)
        self.assertEqual(self.customer.vip_next_followup_date, date(2025, 3, 1))

    def test_activity_for_account_manager_when_due(self):
        self._run("2025-02-21")  # 8 days ahead: not yet
        self.assertFalse(self._followups())

        self._run("2025-02-22")  # 7 days ahead: planned
        activity = self._followups()
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.vip_user)
        self.assertEqual(activity.date_deadline, date(2025, 3, 1))
        self.assertEqual(activity.summary, "Follow-up visit")
        self.assertIn("(A)", activity.note)
        self.assertIn("every 90 days", activity.note)
        self.assertEqual(self.customer.vip_next_followup_date, date(2025, 3, 1))

    def test_channel_in_summary(self):
        self.customer.write({"vip_tier_id": self.tier_b.id})
        self.customer.write({"vip_tier_since": date(2024, 9, 1)})  # +180 = 28 Feb
        self._run("2025-02-27")
        self.assertEqual(self._followups().summary, "Follow-up by phone")

    def test_note_names_only_the_preferences_known(self):
        """No "preferred time: -." when the customer has no preferred time."""
        self.customer.vip_preferred_channel = "wechat"
        self._run("2025-02-22")
        note = self._followups().note
        self.assertIn("Preferred channel: WeChat.", note)
        self.assertNotIn("Preferred time", note)
        self.assertNotIn("-.", note)

    def test_not_planned_twice_for_same_due_date(self):
        self._run("2025-02-25")
        self._run("2025-02-25")
        self._run("2025-03-05")  # overdue and still open: no second one
        self.assertEqual(len(self._followups()), 1)

    def test_deleted_task_skips_that_contact_only(self):
        self._run("2025-02-25")
        self._followups().unlink()  # dismissed without marking it done
        self._run("2025-02-26")
        self.assertFalse(self._followups(), "the due date was planned once already")
        # the next contact comes a cadence later
        self.assertEqual(self.customer.vip_next_followup_date, date(2025, 5, 30))
        self._run("2025-05-23")
        self.assertEqual(self._followups().date_deadline, date(2025, 5, 30))

    def test_days_ahead_of_the_rule(self):
        self.visit_a.lead_days = 20
        self._run("2025-02-08")  # 21 days ahead
        self.assertFalse(self._followups())
        self._run("2025-02-09")  # 20 days ahead
        self.assertEqual(len(self._followups()), 1)

    def test_no_days_ahead_plans_on_the_day(self):
        self.visit_a.lead_days = 0
        self._run("2025-02-28")
        self.assertFalse(self._followups())
        self._run("2025-03-01")
        self.assertEqual(self._followups().date_deadline, date(2025, 3, 1))

    def test_done_records_followup_and_moves_next(self):
        self._run("2025-02-25")
        activity = self._followups()
        with freeze_time("2025-03-02"):
            activity.with_user(self.vip_user).action_feedback(feedback="Visited the showroom")
            self.env.flush_all()
        # done follow-ups stay, archived with their date, for the account-manager scorecard
        self.assertFalse(activity.active)
        self.assertEqual(activity.date_done, date(2025, 3, 2))
        self.assertEqual(self.customer.vip_last_followup_date, date(2025, 3, 2))
        self.assertEqual(self.customer.vip_next_followup_date, date(2025, 5, 31))  # +90 days
        self.assertIn("Visited the showroom", self.customer.message_ids[0].body)

        # the next due date gets its own task, within the days ahead only
        self._run("2025-05-23")
        self.assertFalse(self._followups())
        self._run("2025-05-24")
        self.assertEqual(self._followups().date_deadline, date(2025, 5, 31))

    def test_done_by_assignee_without_access_to_the_customer(self):
        """Odoo lets the assignee mark an activity done on a record they cannot
        edit; the follow-up is recorded all the same."""
        self.customer.write({"vip_account_manager_id": self.vip_user.id})
        self._run("2025-02-25")
        activity = self._followups()
        self.assertEqual(activity.user_id, self.vip_user)
        self.customer.company_id = self.env["res.company"].create({"name": "Other Branch"})
        self.assertFalse(self.customer.with_user(self.vip_user).has_access("write"))
        with freeze_time("2025-03-01"):
            activity.with_user(self.vip_user).action_done()
        self.assertEqual(self.customer.vip_last_followup_date, date(2025, 3, 1))

    def test_other_activity_done_does_not_count(self):
        todo = self.customer.activity_schedule(
            "mail.mail_activity_data_todo", user_id=self.vip_user.id
        )
        todo.action_feedback()
        self.assertFalse(self.customer.vip_last_followup_date)

    def test_account_manager_before_salesperson(self):
        self.customer.write(
            {"vip_account_manager_id": self.vip_manager.id, "user_id": self.salesman.id}
        )
        self._run("2025-02-25")
        self.assertEqual(self._followups().user_id, self.vip_manager)

    def test_archived_account_manager_falls_back_to_salesperson(self):
        self.customer.write(
            {"vip_account_manager_id": self.vip_manager.id, "user_id": self.salesman.id}
        )
        self.vip_manager.active = False
        self._run("2025-02-25")
        self.assertEqual(self._followups().user_id, self.salesman)

    def test_nobody_to_assign_gets_no_task(self):
        lonely = self.env["res.partner"].create({"name": "No Manager Ltd", "is_company": True})
        lonely.write({"vip_tier_id": self.tier_a.id})
        lonely.write({"vip_tier_since": date(2024, 12, 1)})
        self.assertFalse(lonely.vip_account_manager_id)
        moment = self._run("2025-02-25").filtered(lambda o: o.partner_id == lonely)
        self.assertFalse(self._followups(lonely))
        self.assertIn("nobody to assign", moment.skipped_reason)
        # no contact was made: that one is skipped, the next comes a cadence later
        self.assertEqual(lonely.vip_next_followup_date, date(2025, 5, 30))

    def test_followup_logged_by_hand_moves_the_next_one(self):
        # a visit logged on the form before any task: the next one moves
        self.customer.vip_last_followup_date = date(2025, 2, 26)
        self.assertEqual(self.customer.vip_next_followup_date, date(2025, 5, 27))
        self._run("2025-02-25")
        self.assertFalse(self._followups())
        self._run("2025-05-20")
        self.assertEqual(self._followups().date_deadline, date(2025, 5, 27))

    def test_contacts_get_no_followup(self):
        contact = self.env["res.partner"].create(
            {"name": "Mr. Wang", "parent_id": self.customer.id, "user_id": self.vip_user.id}
        )
        self._run("2025-02-25")
        self.assertEqual(contact.vip_tier_id, self.tier_a)
        self.assertFalse(contact.vip_next_followup_date)
        self.assertFalse(self._followups(contact))
        self.assertEqual(len(self._followups()), 1)

    def test_batch_plans_every_due_customer(self):
        partners = self.env["res.partner"].create(
            [
                {"name": f"Batch {i}", "is_company": True, "user_id": self.salesman.id}
                for i in range(5)
            ]
        )
        partners.write({"vip_tier_id": self.tier_c.id})
        partners.write({"vip_tier_since": date(2024, 3, 1)})  # +365 = 1 March 2025
        with freeze_time("2025-02-25"):
            progress = self.run_cron(
                self.env["vip.moment.engine"]._cron_run_key_moments, batch_size=2
            )
        activities = self.env["mail.activity"].search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "in", partners.ids),
                ("activity_type_id", "=", self.followup_type.id),
            ]
        )
        self.assertEqual(len(activities), 5)
        self.assertEqual(set(activities.mapped("summary")), {"Follow-up by email"})
        # one bounded batch per call, the runner calls again while some remain
        self.assertGreaterEqual(len(progress), 3)
        self.assertEqual(progress[-1][1], 0)

    def test_followups_menu_lists_customers_due(self):
        other = self.env["res.partner"].create(
            {"name": "Later Ltd", "is_company": True, "user_id": self.vip_user.id}
        )
        other.write({"vip_tier_id": self.tier_c.id})  # since today: due in a year
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_customer.res_partner_vip_action_followups"
        )
        with freeze_time("2025-03-01"):
            listed = self.env["res.partner"].search(
                [*safe_eval(action["domain"]), ("vip_followup_due", "=", True)]
            )
            self.assertIn(self.customer, listed)
            self.assertNotIn(other, listed)
            self.assertTrue(other.vip_next_followup_date)
        with freeze_time("2025-03-02"):
            self.customer.invalidate_recordset(["vip_followup_overdue"])
            self.assertTrue(self.customer.vip_followup_overdue)
