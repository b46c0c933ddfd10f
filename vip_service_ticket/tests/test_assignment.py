from freezegun import freeze_time

from odoo.tests import Form, tagged

from .common import MONDAY, VipServiceTicketCommon


@tagged("post_install", "-at_install")
class TestAssignment(VipServiceTicketCommon):
    def test_account_manager_in_team_gets_the_ticket(self):
        self.team.member_ids |= self.vip_user
        ticket = self.create_ticket()
        self.assertEqual(ticket.user_id, self.vip_user)
        self.assertEqual(ticket.assignment_ids.kind, "auto")

    def test_least_open_tickets(self):
        self.create_ticket(user_id=self.agent1.id)
        self.create_ticket(user_id=self.agent1.id)
        self.create_ticket(user_id=self.leader.id)
        tickets = self.Ticket.create(
            [
                {
                    "name": f"Batch {i}",
                    "partner_id": self.other_customer.id,
                    "team_id": self.team.id,
                    "company_id": self.company.id,
                }
                for i in range(3)
            ]
        )
        # open load agent1 2, leader 1, agent2 0: the batch evens it out (ties: oldest user)
        self.assertEqual(tickets.user_id, self.agent2 | self.leader)
        self.assertEqual(tickets[0].user_id, self.agent2)
        self.assertEqual(tickets[1].user_id, self.agent2)
        self.assertEqual(tickets[2].user_id, self.leader)

    def test_round_robin(self):
        self.team.write(
            {
                "assignment_method": "round_robin",
                "member_ids": [(6, 0, (self.agent1 | self.agent2 | self.leader).ids)],
            }
        )
        members = self.team.member_ids.sorted("id")
        users = [self.create_ticket(partner_id=self.other_customer.id).user_id for _i in range(4)]
        self.assertEqual(users, [members[0], members[1], members[2], members[0]])

    def test_manual_team_leaves_tickets_unassigned(self):
        self.team.assignment_method = "manual"
        self.assertFalse(self.create_ticket(partner_id=self.other_customer.id).user_id)

    def test_transfer_with_reason(self):
        ticket = self.create_ticket(user_id=self.agent1.id)
        wizard = Form(
            self.env["vip.service.ticket.reassign"].with_context(
                active_model="vip.service.ticket", active_ids=ticket.ids
            )
        )
        wizard.user_id = self.agent2
        wizard.reason = "Mr. Chen prefers Cantonese"
        with freeze_time(MONDAY):
            wizard.save().action_confirm()
        self.assertEqual(ticket.user_id, self.agent2)
        transfer = ticket.assignment_ids.filtered(lambda a: a.kind == "transfer")
        self.assertEqual(
            (transfer.from_user_id, transfer.to_user_id, transfer.reason),
            (self.agent1, self.agent2, "Mr. Chen prefers Cantonese"),
        )
        self.assertIn("Cantonese", ticket.message_ids[0].body)

    def test_manual_reassignment_is_kept_in_history(self):
        ticket = self.create_ticket(user_id=self.agent1.id)
        ticket.with_user(self.agent2).action_assign_to_me()
        self.assertEqual(ticket.user_id, self.agent2)
        self.assertEqual(
            ticket.assignment_ids.sorted("id").mapped("to_user_id"), self.agent1 | self.agent2
        )
        self.assertEqual(ticket.assignment_ids.sorted("id")[-1].author_id, self.agent2)

    def test_team_change_is_kept_in_history(self):
        """A ticket moved to another team keeping its assignee is a reassignment too:
        the one logger records it with both teams (it recorded nothing before)."""
        self.team_hotline.member_ids |= self.agent1
        ticket = self.create_ticket(user_id=self.agent1.id)
        ticket.with_user(self.service_manager).write({"team_id": self.team_hotline.id})
        last = ticket.assignment_ids.sorted("id")[-1]
        self.assertEqual(
            (last.from_team_id, last.to_team_id, last.from_user_id, last.to_user_id),
            (self.team, self.team_hotline, self.agent1, self.agent1),
        )
        self.assertEqual(last.author_id, self.service_manager)
        first = ticket.assignment_ids.sorted("id")[0]
        self.assertEqual((first.from_team_id, first.to_team_id), (self.team, self.team))
