from markupsafe import Markup

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestComplaintUi(HttpCase):
    """The complaint loop in the browser, as the assignee (a plain service user)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent = new_test_user(
            cls.env,
            login="vst-loop-tour-agent",
            groups="base.group_user,vip_service_ticket.group_vip_service_user",
        )
        cls.team = cls.env["vip.service.team"].create(
            {
                "name": "Tour Desk",
                "member_ids": [Command.set(cls.agent.ids)],
                "assignment_method": "manual",
            }
        )
        cls.responsibility = cls.env["vip.service.responsibility"].create(
            {"name": "Tour Tailoring", "kind": "department"}
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Mr. Tour", "email": "mr.tour@example.com"}
        )
        complaint = cls.env.ref("vip_service_ticket.vip_service_category_complaint")
        cls.Ticket = cls.env["vip.service.ticket"]
        cls.vals = {
            "partner_id": cls.customer.id,
            "category_id": complaint.id,
            "team_id": cls.team.id,
            "user_id": cls.agent.id,
        }

    def _url(self, ticket):
        return f"/odoo/action-vip_service_ticket.vip_service_ticket_action/{ticket.id}"

    def test_assignee_records_the_first_steps(self):
        ticket = self.Ticket.create(dict(self.vals, name="Suit sleeves too short"))
        before = ticket.message_ids
        self.start_tour(
            self._url(ticket), "vip_service_complaint_steps_tour", login=self.agent.login
        )
        ticket.invalidate_recordset()
        self.assertEqual(ticket.complaint_step, "responsibility")
        self.assertEqual(ticket.complaint_verification, "The sleeves are 2 cm short.")
        self.assertEqual(ticket.responsibility_id, self.responsibility)
        self.assertEqual(len(ticket.message_ids - before), 2, "one line per step")

    def test_progress_update_dialog(self):
        ticket = self.Ticket.create(dict(self.vals, name="Suit not ready"))
        agent_ticket = ticket.with_user(self.agent)
        agent_ticket._complaint_verify("Fitting booked twice.")
        agent_ticket._complaint_assign_responsibility(self.responsibility)
        agent_ticket._complaint_record_solution(Markup("<p>Remake the suit.</p>"))
        self.start_tour(
            self._url(ticket), "vip_service_complaint_progress_tour", login=self.agent.login
        )
        ticket.invalidate_recordset()
        self.assertEqual(ticket.complaint_step, "progress")
        update = ticket.message_ids.filtered(lambda m: "ready for fitting" in (m.body or ""))
        self.assertIn(self.customer, update.partner_ids)
