from datetime import datetime
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from ..models import vip_service_team
from .common import MONDAY, VipServiceTicketCommon

FRIDAY = datetime(2024, 6, 7)


@tagged("post_install", "-at_install")
class TestTransfer(VipServiceTicketCommon):
    """A transfer to another team re-plans what is left of the SLA on the new team's
    working hours: the customer's promise neither resets nor shrinks."""

    def transfer(self, ticket, team, user, moment):
        with freeze_time(moment):
            wizard = (
                self.env["vip.service.ticket.reassign"]
                .with_user(ticket.user_id)
                .with_context(active_model=ticket._name, active_ids=ticket.ids)
                .create({"team_id": team.id, "user_id": user.id, "reason": "Weekend hotline"})
            )
            wizard.action_confirm()
            self.env.flush_all()
        ticket.invalidate_recordset()

    def test_on_track_ticket_stays_on_track(self):
        # office team, Friday 16:00: first response due Monday 11:00 (Fri 16-17, Mon 8-11)
        with freeze_time(FRIDAY.replace(hour=16)):
            ticket = self.create_ticket(user_id=self.agent1.id)
        self.assertEqual(ticket.first_response_deadline, datetime(2024, 6, 10, 11))
        # Monday 9:00, 2 working hours used: to the 7-day hotline, 2 hours left from now
        # (re-planned from Friday on the hotline it would have been due Friday 20:00)
        self.transfer(ticket, self.team_hotline, self.outsider, datetime(2024, 6, 10, 9))
        self.assertEqual(ticket.team_id, self.team_hotline)
        self.assertEqual(ticket.first_response_deadline, datetime(2024, 6, 10, 11))
        self.assertEqual(ticket.first_response_warning_date, datetime(2024, 6, 10, 10))
        # resolution: 24 - 2 = 22 hours left: Mon 9-20 (11h), Tue 8-19
        self.assertEqual(ticket.resolution_deadline, datetime(2024, 6, 11, 19))
        with freeze_time(datetime(2024, 6, 10, 9, 1)):
            self.Ticket._cron_escalate()
            self.env.flush_all()
        ticket.invalidate_recordset()
        self.assertEqual(ticket.sla_status, "on_track")
        self.assertFalse(ticket.escalation_ids, "no escalation fired by the transfer")

    def test_team_changing_its_working_hours(self):
        with freeze_time(FRIDAY.replace(hour=16)):
            ticket = self.create_ticket(user_id=self.agent1.id)
        with freeze_time(datetime(2024, 6, 10, 9)):
            self.team.with_user(self.service_manager).resource_calendar_id = self.hotline_calendar
            self.env.flush_all()
        # 2 of the 4 first-response hours used on the office hours, 2 left on the new ones
        self.assertEqual(ticket.first_response_deadline, datetime(2024, 6, 10, 11))
        self.assertEqual(ticket.resolution_deadline, datetime(2024, 6, 11, 19))

    def test_team_changing_its_working_hours_in_batches(self):
        """The open tickets are re-planned a bounded batch at a time (keyset
        pagination): batches of 2 store what one batch stores (the deadlines of
        test_team_changing_its_working_hours), no batch holds more than 2."""
        with freeze_time(FRIDAY.replace(hour=16)):
            tickets = self.create_ticket(user_id=self.agent1.id)
            for _n in range(4):
                tickets |= self.create_ticket(user_id=self.agent1.id)
        ticket_cls = type(self.Ticket)
        replan = ticket_cls._sla_replan
        sizes = []

        def counting(records):
            sizes.append(len(records))
            return replan(records)

        with (
            freeze_time(datetime(2024, 6, 10, 9)),
            patch.object(vip_service_team, "REPLAN_BATCH_SIZE", 2),
            patch.object(ticket_cls, "_sla_replan", counting),
        ):
            self.team.with_user(self.service_manager).resource_calendar_id = self.hotline_calendar
            self.env.flush_all()
        self.assertEqual(sizes, [2, 2, 1])
        tickets.invalidate_recordset()
        self.assertEqual(
            set(tickets.mapped("first_response_deadline")), {datetime(2024, 6, 10, 11)}
        )
        self.assertEqual(set(tickets.mapped("resolution_deadline")), {datetime(2024, 6, 11, 19)})
        self.assertEqual(
            set(tickets.mapped("first_response_warning_date")), {datetime(2024, 6, 10, 10)}
        )

    def test_met_and_passed_deadlines_are_kept(self):
        with freeze_time(MONDAY.replace(hour=8)):
            answered = self.create_ticket(user_id=self.agent1.id)
            late = self.create_ticket(user_id=self.agent1.id)
        with freeze_time(MONDAY.replace(hour=9)):
            self.public_reply(answered, self.agent1)
        met = answered.first_response_deadline
        self.transfer(answered, self.team_hotline, self.outsider, MONDAY.replace(hour=13))
        self.assertEqual(answered.first_response_deadline, met, "met: kept")
        # the late one's first response was due Mon 12:00: still late, not moved
        self.transfer(late, self.team_hotline, self.outsider, MONDAY.replace(hour=13))
        self.assertEqual(late.first_response_deadline, MONDAY.replace(hour=12))
        self.assertEqual(late.sla_status, "breached")
        # resolution: 4 of 24 hours used; 20 left from Mon 13:00 on the hotline (13-20,
        # Tue 8-20, Wed 8-9)
        self.assertEqual(late.resolution_deadline, datetime(2024, 6, 5, 9))

    def test_closing_after_transfer_counts_all_working_time(self):
        with freeze_time(MONDAY.replace(hour=8)):
            ticket = self.create_ticket(user_id=self.agent1.id)
            self.public_reply(ticket, self.agent1)
        self.transfer(ticket, self.team_hotline, self.outsider, MONDAY.replace(hour=10))
        with freeze_time(MONDAY.replace(hour=19)):
            ticket.with_user(self.outsider).stage_id = self.stage_solved
        # 2 hours on the office calendar, then 9 on the hotline's
        self.assertEqual(ticket.resolution_work_hours, 11)
        self.assertEqual(ticket.sla_status, "met")


@tagged("post_install", "-at_install")
class TestSlaCorrections(VipServiceTicketCommon):
    """The SLA start and policy: corrected by service managers only, the deadlines follow
    in the same write."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with freeze_time(MONDAY.replace(hour=15)):
            cls.tickets = cls.create_ticket(user_id=cls.agent1.id) | cls.create_ticket(
                user_id=cls.agent2.id
            )

    def test_manager_moves_the_start(self):
        with freeze_time(MONDAY.replace(hour=16)):
            self.tickets.with_user(self.service_manager).write(
                {"sla_start_date": MONDAY.replace(hour=8)}
            )
        for ticket in self.tickets:
            self.assertEqual(ticket.first_response_deadline, MONDAY.replace(hour=12))
            self.assertEqual(ticket.resolution_deadline, datetime(2024, 6, 5, 17))
            self.assertEqual(ticket.sla_status, "breached", "first response now overdue")

    def test_manager_sets_the_policy(self):
        with freeze_time(MONDAY.replace(hour=16)):
            self.tickets.with_user(self.service_manager).write({"sla_id": self.sla_c.id})
        for ticket in self.tickets:
            self.assertEqual(ticket.sla_id, self.sla_c)
            # 24 working hours from Monday 15:00
            self.assertEqual(ticket.first_response_deadline, datetime(2024, 6, 6, 15))

    def test_priority_change_rematches(self):
        urgent = self.env["vip.service.sla"].create(
            {
                "name": "Urgent",
                "priority": "3",
                "tier_ids": [(6, 0, self.tier_a.ids)],
                "first_response_hours": 1,
                "resolution_hours": 8,
                "company_id": self.company.id,
            }
        )
        with freeze_time(MONDAY.replace(hour=16)):
            self.tickets.with_user(self.agent1).filtered(lambda t: t.user_id == self.agent1).write(
                {"priority": "3"}
            )
        ticket = self.tickets.filtered(lambda t: t.user_id == self.agent1)
        self.assertEqual(ticket.sla_id, urgent)
        self.assertEqual(ticket.first_response_deadline, MONDAY.replace(hour=16))

    def test_future_start_is_refused(self):
        with (
            freeze_time(MONDAY.replace(hour=16)),
            self.assertRaisesRegex(ValidationError, "SLA Start"),
        ):
            self.tickets.with_user(self.service_manager).write(
                {"sla_start_date": datetime(2024, 6, 20, 8)}
            )

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_agent_cannot_correct_the_sla(self):
        for vals in ({"sla_start_date": MONDAY.replace(hour=8)}, {"sla_id": self.sla_c.id}):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                self.tickets[0].with_user(self.agent1).write(vals)


@tagged("post_install", "-at_install")
class TestTransferRights(VipServiceTicketCommon):
    """A transfer the user may not make is refused, not a silent success."""

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_transfer_of_another_teams_ticket_is_refused(self):
        hotline_ticket = self.create_ticket(team_id=self.team_hotline.id, user_id=self.outsider.id)
        wizard = (
            self.env["vip.service.ticket.reassign"]
            .with_user(self.agent1)
            .create(
                {
                    "ticket_ids": [(6, 0, hotline_ticket.ids)],
                    "team_id": self.team.id,
                    "user_id": self.agent1.id,
                    "reason": "Mine now",
                }
            )
        )
        with self.assertRaisesRegex(AccessError, "team you are not a member of"):
            wizard.action_confirm()
        self.assertEqual(hotline_ticket.user_id, self.outsider)
        self.assertEqual(hotline_ticket.team_id, self.team_hotline)

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_portal_cannot_open_the_internal_actions(self):
        portal = new_test_user(self.env, login="vst-portal-actions", groups="base.group_portal",
                               partner_id=self.contact.id)
        ticket = self.create_ticket()
        own = ticket.with_user(portal)
        self.assertEqual(own.name, ticket.name, "the customer reads their own ticket")
        with self.assertRaises(AccessError):
            own.action_open_reassign_wizard()
        with self.assertRaises(AccessError):
            own.action_view_assignments()
        action = ticket.with_user(self.agent1).action_open_reassign_wizard()
        self.assertEqual(action["context"]["active_ids"], ticket.ids)
