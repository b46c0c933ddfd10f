from unittest.mock import patch

from markupsafe import Markup

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tools.discuss import Store
from odoo.addons.vip_service_ticket.models.vip_service_ticket_steps import (
    VipServiceTicket as TicketSteps,
)

from .common import VipServiceTicketCommon


class ComplaintCommon(VipServiceTicketCommon):
    """A complaint of Mr. Chen (Golden Dragon, account manager vip_user) assigned to agent1."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.logistics = cls.env["vip.service.responsibility"].create(
            {"name": "Logistics", "kind": "department", "company_id": cls.company.id}
        )
        cls.visit_type = cls.env.ref("vip_service_ticket.mail_activity_type_complaint_visit")

    def new_complaint(self, **values):
        vals = {
            "category_id": self.cat_complaint.id,
            "partner_id": self.contact.id,
            "user_id": self.agent1.id,
        }
        vals.update(values)
        return self.create_ticket(**vals)

    def open_step(self, ticket, method, user=None):
        """Open a step's dialog the way the button does and return the wizard."""
        ticket = ticket.with_user(user or self.agent1)
        action = getattr(ticket, method)()
        self.assertEqual(action["res_model"], "vip.service.ticket.complaint.step")
        return (
            self.env["vip.service.ticket.complaint.step"]
            .with_user(user or self.agent1)
            .with_context(**action["context"])
            .create({})
        ), action

    def loop_to(self, ticket, step):
        """Move ``ticket`` on as its assignee up to ``step`` (inclusive)."""
        agent = ticket.with_user(self.agent1)
        moves = [
            ("verification", lambda: agent._complaint_verify("Crack confirmed on photos.")),
            (
                "responsibility",
                lambda: agent._complaint_assign_responsibility(self.logistics),
            ),
            (
                "solution",
                lambda: agent._complaint_record_solution(Markup("<p>New vase by courier.</p>")),
            ),
            ("progress", lambda: agent._complaint_send_progress("The vase left today.")),
            ("result", lambda: agent._complaint_record_result("New vase received.")),
            (
                "follow_up",
                lambda: (
                    self.visit(ticket)
                    .with_user(self.vip_user)
                    .action_feedback(feedback="Visited: the customer is happy.")
                ),
            ),
        ]
        steps = [name for name, _move in moves]
        done = steps.index(ticket.complaint_step) if ticket.complaint_step in steps else -1
        for name, move in moves[done + 1 :]:
            move()
            self.assertEqual(ticket.complaint_step, name)
            if name == step:
                return ticket
        return ticket

    def visit(self, ticket):
        return ticket.activity_ids.filtered(lambda a: a.activity_type_id == self.visit_type)

    def new_lines(self, ticket, before):
        ticket.invalidate_recordset(["message_ids"])
        return ticket.message_ids - before


@tagged("post_install", "-at_install")
class TestComplaint(ComplaintCommon):
    def test_closing_needs_root_cause_and_solution(self):
        complaint = self.create_ticket(category_id=self.cat_complaint.id)
        self.assertTrue(complaint.is_complaint)
        self.assertEqual(complaint.complaint_step, "intake")
        with self.assertRaises(ValidationError) as caught:
            complaint.stage_id = self.stage_solved
        self.assertIn(complaint.number, str(caught.exception), "the error names the ticket")
        complaint.root_cause_id = self.cause_delivery
        with self.assertRaises(ValidationError):
            complaint.stage_id = self.stage_solved
        complaint.solution = "<p>Replaced the vase, courier the next morning.</p>"
        complaint.stage_id = self.stage_solved
        self.assertTrue(complaint.is_closed)
        with self.assertRaises(ValidationError):
            complaint.solution = "<p><br></p>"

    def test_inquiry_closes_freely(self):
        inquiry = self.create_ticket()
        inquiry.stage_id = self.stage_solved
        self.assertTrue(inquiry.is_closed)

    def test_becoming_a_complaint_starts_the_loop(self):
        ticket = self.create_ticket()
        self.assertFalse(ticket.complaint_step)
        ticket.category_id = self.cat_complaint
        self.assertEqual(ticket.complaint_step, "intake")

    def test_prepare_ticket_vals_for_recovery(self):
        Ticket = self.Ticket
        vals = Ticket._prepare_ticket_vals(
            self.contact,
            "vip_service_ticket.vip_service_category_complaint",
            name="Recovery: detractor in survey",
            user_id=self.vip_user.id,
        )
        self.team.member_ids |= self.vip_user
        ticket = Ticket.create(vals)
        self.assertEqual(ticket.category_id, self.cat_complaint)
        self.assertEqual(ticket.complaint_step, "intake")
        self.assertEqual(ticket.user_id, self.vip_user)
        self.assertEqual(ticket.vip_tier_id, self.tier_a)
        self.assertEqual(ticket.sla_id, self.sla_a)

    # ------------------------------------------------------------------
    # One test per step
    # ------------------------------------------------------------------
    def test_verification_records_the_findings(self):
        complaint = self.new_complaint()
        wizard, action = self.open_step(complaint, "action_complaint_verify")
        self.assertEqual(action["name"], "Record the Verification")
        with self.assertRaisesRegex(UserError, "What Was Found"):
            wizard.action_confirm()
        with self.assertRaisesRegex(ValidationError, "Verification Findings"):
            complaint.with_user(self.agent1)._complaint_verify("   ")
        self.assertEqual(complaint.complaint_step, "intake", "nothing half-written")
        before = complaint.message_ids
        wizard.write(
            {
                "findings": "Photos show a crack; box without padding.",
                "root_cause_id": self.cause_delivery.id,
            }
        )
        wizard.action_confirm()
        self.assertEqual(complaint.complaint_step, "verification")
        self.assertEqual(
            complaint.complaint_verification, "Photos show a crack; box without padding."
        )
        self.assertEqual(complaint.root_cause_id, self.cause_delivery)
        line = self.new_lines(complaint, before)
        self.assertEqual(len(line), 1, "one chatter line per step")
        self.assertEqual(line.subtype_id, self.env.ref("vip_service_ticket.mt_complaint_verified"))
        self.assertIn("box without padding", line.body)
        self.assertTrue(line.subtype_id.internal, "a staff line, not shown to the customer")

    def test_step_line_in_the_readers_language(self):
        """The step is named by the line's subtype, read in the reader's language; the
        body holds only what was recorded, no step name frozen in the author's language."""
        self.env["res.lang"]._activate_lang("zh_CN")
        subtype = self.env.ref("vip_service_ticket.mt_complaint_verified")
        subtype.update_field_translations("description", {"zh_CN": "投诉已核实"})
        complaint = self.new_complaint()
        before = complaint.message_ids
        complaint.with_user(self.agent1)._complaint_verify("Crack confirmed.")
        line = self.new_lines(complaint, before)
        self.assertNotIn("Verification", line.body)
        self.assertNotIn("Intake", line.body)
        reader = new_test_user(
            self.env,
            login="vst-zh-reader",
            groups="base.group_user,vip_service_ticket.group_vip_service_manager",
            lang="zh_CN",
        )
        data = Store(line.with_user(reader).with_context(lang="zh_CN")).get_result()
        (formatted,) = data["mail.message"]
        self.assertEqual(formatted["subtype_description"], "投诉已核实")
        data = Store(line.with_user(self.agent1).with_context(lang="en_US")).get_result()
        self.assertEqual(data["mail.message"][0]["subtype_description"], "Complaint verified")

    def test_responsibility_names_an_entry_of_the_list(self):
        complaint = self.loop_to(self.new_complaint(), "verification")
        wizard, action = self.open_step(complaint, "action_complaint_assign_responsibility")
        self.assertEqual(action["name"], "Assign the Responsibility")
        with self.assertRaisesRegex(UserError, "Responsibility"):
            wizard.action_confirm()
        with self.assertRaisesRegex(ValidationError, "Responsibility"):
            complaint.with_user(self.agent1)._complaint_assign_responsibility(
                self.env["vip.service.responsibility"]
            )
        before = complaint.message_ids
        wizard.responsibility_id = self.logistics
        wizard.action_confirm()
        self.assertEqual(complaint.complaint_step, "responsibility")
        self.assertEqual(complaint.responsibility_id, self.logistics)
        line = self.new_lines(complaint, before)
        self.assertEqual(len(line), 1)
        self.assertEqual(
            line.subtype_id, self.env.ref("vip_service_ticket.mt_complaint_responsibility")
        )
        # reportable: the analysis groups complaints by responsibility
        self.env.flush_all()
        groups = self.env["vip.service.ticket.report"]._read_group(
            [("ticket_id", "=", complaint.id)], ["responsibility_id"], ["ticket_count:sum"]
        )
        self.assertEqual(groups, [(self.logistics, 1)])

    def test_solution_step_needs_a_solution(self):
        complaint = self.loop_to(self.new_complaint(), "responsibility")
        wizard, _action = self.open_step(complaint, "action_complaint_record_solution")
        with self.assertRaisesRegex(UserError, "Solution"):
            wizard.action_confirm()
        before = complaint.message_ids
        wizard.solution = "<p>A new vase by courier tomorrow.</p>"
        wizard.action_confirm()
        self.assertEqual(complaint.complaint_step, "solution")
        self.assertIn("new vase", complaint.solution)
        line = self.new_lines(complaint, before)
        self.assertEqual(len(line), 1)
        self.assertEqual(line.subtype_id, self.env.ref("vip_service_ticket.mt_complaint_solution"))

    def test_progress_update_reaches_the_customer(self):
        complaint = self.loop_to(self.new_complaint(), "solution")
        wizard, action = self.open_step(complaint, "action_send_progress_update")
        self.assertEqual(action["name"], "Send Progress Update", "the dialog has a title")
        self.assertEqual(wizard.partner_id, self.contact)
        with self.assertRaisesRegex(UserError, "Progress Update"):
            wizard.action_confirm()
        before = complaint.message_ids
        wizard.progress_note = "The replacement vase leaves our warehouse this afternoon."
        wizard.action_confirm()
        self.assertEqual(complaint.complaint_step, "progress")
        self.assertEqual(complaint.complaint_update_count, 1)
        message = self.new_lines(complaint, before)
        self.assertEqual(len(message), 1, "the update is the step's one line")
        self.assertEqual(message.message_type, "comment")
        self.assertEqual(message.subtype_id, self.env.ref("mail.mt_comment"))
        self.assertFalse(message.subtype_id.internal, "a message, not an internal note")
        self.assertIn(self.contact, message.partner_ids)
        self.assertIn("warehouse this afternoon", message.body)
        notification = message.notification_ids.filtered(lambda n: n.res_partner_id == self.contact)
        self.assertEqual(notification.notification_type, "email", "the customer is mailed")
        # a second update: the customer is told again, the step stays
        before = complaint.message_ids
        complaint.with_user(self.agent1)._complaint_send_progress("It arrives tomorrow by 10:00.")
        self.assertEqual(len(self.new_lines(complaint, before)), 1)
        self.assertEqual(complaint.complaint_step, "progress")
        self.assertEqual(complaint.complaint_update_count, 2)

    def test_progress_update_needs_a_customer_and_the_solution(self):
        complaint = self.loop_to(self.new_complaint(), "responsibility")
        with self.assertRaisesRegex(UserError, "next step is Solution"):
            complaint.with_user(self.agent1).action_send_progress_update()
        no_customer = self.loop_to(self.new_complaint(partner_id=False), "solution")
        with self.assertRaisesRegex(UserError, "no customer"):
            no_customer.with_user(self.agent1)._complaint_send_progress("Hello")

    def test_result_plans_the_follow_up_visit(self):
        complaint = self.loop_to(self.new_complaint(), "progress")
        wizard, action = self.open_step(complaint, "action_complaint_record_result")
        self.assertEqual(wizard.visit_user_id, self.vip_user, "the account manager visits")
        self.assertTrue(wizard.visit_date)
        with self.assertRaisesRegex(UserError, "Result"):
            wizard.action_confirm()
        before = complaint.message_ids
        wizard.result = "The customer received the new vase."
        wizard.action_confirm()
        self.assertEqual(complaint.complaint_step, "result")
        self.assertEqual(complaint.complaint_result, "The customer received the new vase.")
        self.assertEqual(len(self.new_lines(complaint, before)), 1)
        visit = self.visit(complaint)
        self.assertEqual(len(visit), 1)
        self.assertEqual(visit.user_id, self.vip_user)
        self.assertEqual(visit.date_deadline, wizard.visit_date)
        self.assertIn(complaint.number, visit.summary)
        self.assertTrue(complaint.complaint_visit_planned)
        # cancelled: planned again from the header
        visit.unlink()
        complaint.with_user(self.agent1).action_complaint_plan_visit()
        self.assertEqual(len(self.visit(complaint)), 1)

    def test_visitor_hook(self):
        """Another module picks who visits by overriding _get_complaint_visitor."""
        complaint = self.loop_to(self.new_complaint(), "progress")
        with patch.object(
            TicketSteps, "_get_complaint_visitor", lambda ticket: self.agent2, create=False
        ):
            complaint.with_user(self.agent1)._complaint_record_result("Vase received.")
        self.assertEqual(self.visit(complaint).user_id, self.agent2)

    def test_visit_outcome_recorded_when_done(self):
        complaint = self.loop_to(self.new_complaint(), "result")
        visit = self.visit(complaint).with_user(self.vip_user)
        with self.assertRaisesRegex(UserError, "outcome"):
            visit.action_feedback(feedback="  ")
        self.assertEqual(complaint.complaint_step, "result")
        before = complaint.message_ids
        visit.action_feedback(feedback="Visited on Tuesday: the vase is perfect.")
        self.assertEqual(complaint.complaint_step, "follow_up")
        self.assertEqual(
            complaint.complaint_visit_outcome, "Visited on Tuesday: the vase is perfect."
        )
        line = self.new_lines(complaint, before)
        self.assertEqual(len(line), 1, "Odoo's 'activity done' line is the step's line")
        self.assertIn("the vase is perfect", line.body)
        self.assertFalse(self.visit(complaint))

    def test_satisfaction_confirmed_by_the_customers_rating(self):
        complaint = self.loop_to(self.new_complaint(), "follow_up")
        token = complaint._rating_get_access_token()
        complaint.rating_apply(1, token=token, feedback="Still unhappy")
        self.assertEqual(complaint.complaint_step, "follow_up", "a poor rating confirms nothing")
        before = complaint.message_ids
        complaint.rating_apply(5, token=complaint._rating_get_access_token(), feedback="Great")
        self.assertEqual(complaint.complaint_step, "confirmed")
        self.assertEqual(complaint.complaint_confirmed_by, "rating")
        self.assertTrue(complaint.complaint_confirmed_date)
        lines = self.new_lines(complaint, before)
        confirmed = lines.filtered(
            lambda m: (
                m.subtype_id == self.env.ref("vip_service_ticket.mt_complaint_confirmed_rating")
            )
        )
        self.assertEqual(len(confirmed), 1)
        self.assertEqual(len(lines - confirmed), 1, "besides, only the rating itself")
        with self.assertRaisesRegex(UserError, "already confirmed"):
            complaint.with_user(self.agent1).action_complaint_confirm_satisfaction()

    def test_rating_before_the_visit_confirms_after_it(self):
        complaint = self.loop_to(self.new_complaint(), "result")
        complaint.rating_apply(5, token=complaint._rating_get_access_token())
        self.assertEqual(complaint.complaint_step, "result", "the steps go in order")
        self.visit(complaint).with_user(self.vip_user).action_feedback(feedback="All good.")
        self.assertEqual(complaint.complaint_step, "confirmed")
        self.assertEqual(complaint.complaint_confirmed_by, "rating")

    def test_satisfaction_confirmed_by_survey_hook(self):
        complaint = self.loop_to(self.new_complaint(), "result")
        self.assertFalse(complaint._complaint_confirm_by_customer("survey"))
        self.loop_to(complaint, "follow_up")
        self.assertEqual(complaint._complaint_confirm_by_customer("survey"), complaint)
        self.assertEqual(complaint.complaint_confirmed_by, "survey")

    def test_satisfaction_confirmed_by_staff_with_a_reason(self):
        complaint = self.loop_to(self.new_complaint(), "follow_up")
        wizard, action = self.open_step(complaint, "action_complaint_confirm_satisfaction")
        self.assertEqual(action["name"], "Confirm Satisfaction")
        with self.assertRaisesRegex(UserError, "Reason"):
            wizard.action_confirm()
        with self.assertRaisesRegex(ValidationError, "Confirmation Reason"):
            complaint.with_user(self.agent1)._complaint_confirm_by_staff("")
        before = complaint.message_ids
        wizard.reason = "Three calls unanswered; at the visit the customer said it is settled."
        wizard.action_confirm()
        self.assertEqual(complaint.complaint_step, "confirmed")
        self.assertEqual(complaint.complaint_confirmed_by, "staff")
        self.assertIn("Three calls", complaint.complaint_confirm_reason)
        line = self.new_lines(complaint, before)
        self.assertEqual(len(line), 1)
        self.assertEqual(
            line.subtype_id, self.env.ref("vip_service_ticket.mt_complaint_confirmed_staff")
        )
        self.assertIn("Three calls", line.body)

    # ------------------------------------------------------------------
    # Order and data, in the model
    # ------------------------------------------------------------------
    def test_steps_go_in_order(self):
        complaint = self.new_complaint()
        agent = complaint.with_user(self.agent1)
        with self.assertRaisesRegex(UserError, "next step is Verification"):
            agent._complaint_assign_responsibility(self.logistics)
        with self.assertRaisesRegex(UserError, "next step is Verification"):
            agent.action_complaint_record_result()
        with self.assertRaisesRegex(UserError, "next step is Verification"):
            agent._complaint_confirm_by_staff("No answer")
        with self.assertRaisesRegex(UserError, "follow-up visit is planned once"):
            agent.action_complaint_plan_visit()
        self.assertEqual(complaint.complaint_step, "intake")
        with self.assertRaisesRegex(UserError, "not a complaint"):
            self.create_ticket(user_id=self.agent1.id).with_user(
                self.agent1
            ).action_complaint_verify()

    def test_step_and_loop_records_not_written_directly(self):
        complaint = self.new_complaint()
        for vals in (
            {"complaint_step": "confirmed"},
            {"complaint_confirmed_by": "staff"},
            {"complaint_update_count": 3},
        ):
            with self.subTest(vals=vals), self.assertRaisesRegex(UserError, "step buttons"):
                complaint.with_user(self.service_manager).write(vals)
        self.assertEqual(complaint.complaint_step, "intake")
        with self.assertRaisesRegex(UserError, "starts at its intake"):
            self.Ticket.with_user(self.agent1).create(
                {
                    "name": "Pre-confirmed",
                    "category_id": self.cat_complaint.id,
                    "team_id": self.team.id,
                    "complaint_step": "confirmed",
                }
            )

    def test_recorded_data_cannot_be_emptied(self):
        complaint = self.loop_to(self.new_complaint(), "result")
        agent = complaint.with_user(self.agent1)
        for fname, empty in (
            ("complaint_verification", ""),
            ("responsibility_id", False),
            ("solution", "<p><br></p>"),
            ("complaint_result", "  "),
        ):
            with self.subTest(field=fname), self.assertRaisesRegex(ValidationError, "required"):
                agent.write({fname: empty})
        agent.write({"complaint_result": "The new vase arrived intact."})
        self.assertEqual(complaint.complaint_result, "The new vase arrived intact.")


@tagged("post_install", "-at_install")
class TestComplaintSecurity(ComplaintCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(
            cls.env, login="vst-loop-portal", groups="base.group_portal", partner_id=cls.contact.id
        )

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_only_assignee_leader_or_manager_move_the_loop(self):
        complaint = self.new_complaint()
        # agent2: same team, can read and write the ticket, but it is not theirs
        with self.assertRaisesRegex(AccessError, "assignee"):
            complaint.with_user(self.agent2).action_complaint_verify()
        with self.assertRaises(AccessError):
            complaint.with_user(self.agent2)._complaint_verify("Seen it")
        self.assertFalse(complaint.with_user(self.agent2).complaint_can_act)
        self.assertTrue(complaint.with_user(self.agent1).complaint_can_act)
        # a plain employee (the account manager's colleague) has no access at all
        with self.assertRaises(AccessError):
            complaint.with_user(self.salesman)._complaint_verify("Seen it")
        self.assertEqual(complaint.complaint_step, "intake")
        # the leader and a service manager may
        complaint.with_user(self.leader)._complaint_verify("Checked by the leader.")
        complaint.with_user(self.service_manager)._complaint_assign_responsibility(self.logistics)
        self.assertEqual(complaint.complaint_step, "responsibility")

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_portal_user_cannot_move_the_loop(self):
        complaint = self.loop_to(self.new_complaint(), "follow_up")
        mine = complaint.with_user(self.portal_user)
        mine.read(["name", "complaint_step"])
        for fname in (
            "complaint_verification",
            "responsibility_id",
            "complaint_visit_outcome",
            "complaint_confirm_reason",
        ):
            with self.subTest(field=fname), self.assertRaises(AccessError):
                mine.read([fname])
        for method in (
            "action_complaint_verify",
            "action_send_progress_update",
            "action_complaint_confirm_satisfaction",
            "action_complaint_plan_visit",
        ):
            with self.subTest(method=method), self.assertRaises(AccessError):
                getattr(mine, method)()
        with self.assertRaises(AccessError):
            mine._complaint_confirm_by_staff("I am happy")
        with self.assertRaises(AccessError):
            mine.write({"complaint_step": "confirmed"})
        with self.assertRaises(AccessError):
            self.env["vip.service.ticket.complaint.step"].with_user(self.portal_user).create(
                {"ticket_id": complaint.id, "step": "confirmed", "reason": "Happy"}
            )
        self.assertEqual(complaint.complaint_step, "follow_up")

    def test_portal_user_cannot_be_the_visitor(self):
        complaint = self.loop_to(self.new_complaint(), "progress")
        with self.assertRaisesRegex(UserError, "internal user"):
            complaint.with_user(self.agent1)._complaint_record_result(
                "Vase received.", visit_user=self.portal_user
            )
        self.assertEqual(complaint.complaint_step, "progress", "nothing half-written")
        self.assertFalse(complaint.complaint_result)

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_outsider_cannot_open_the_step_dialog_of_another_team(self):
        complaint = self.new_complaint()
        with self.assertRaises(AccessError):
            complaint.with_user(self.outsider).action_complaint_verify()
        wizard = (
            self.env["vip.service.ticket.complaint.step"]
            .with_user(self.outsider)
            .create({"ticket_id": complaint.id, "step": "verification", "findings": "Fake"})
        )
        with self.assertRaises(AccessError):
            wizard.action_confirm()
        self.assertEqual(complaint.complaint_step, "intake")
