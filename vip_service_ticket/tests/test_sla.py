from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.tests import tagged

from .common import MONDAY, VipServiceTicketCommon


@tagged("post_install", "-at_install")
class TestSla(VipServiceTicketCommon):
    def test_deadlines_across_the_night(self):
        with freeze_time(MONDAY.replace(hour=15)):
            ticket = self.create_ticket()
        self.assertEqual(ticket.sla_id, self.sla_a)
        # 4h: Monday 15-17, then Tuesday 8-10
        self.assertEqual(ticket.first_response_deadline, datetime(2024, 6, 4, 10))
        # 24h: Mon 2h, Tue 8h, Wed 8h, Thu 8-12 and 13-15
        self.assertEqual(ticket.resolution_deadline, datetime(2024, 6, 6, 15))
        # at risk from 75%: 3h -> Tuesday 9:00; 18h -> Thursday 8:00
        self.assertEqual(ticket.first_response_warning_date, datetime(2024, 6, 4, 9))
        self.assertEqual(ticket.resolution_warning_date, datetime(2024, 6, 5, 17))

    def test_deadlines_across_the_weekend(self):
        with freeze_time(datetime(2024, 6, 7, 16)):  # Friday 16:00
            ticket = self.create_ticket()
        self.assertEqual(ticket.first_response_deadline, datetime(2024, 6, 10, 11))

    def test_opened_outside_working_hours(self):
        with freeze_time(datetime(2024, 6, 8, 22)):  # Saturday night
            ticket = self.create_ticket()
        self.assertEqual(ticket.first_response_deadline, datetime(2024, 6, 10, 12))

    def test_deadlines_skip_public_holiday(self):
        with freeze_time(datetime(2024, 6, 10, 15)):  # Monday before the holiday
            ticket = self.create_ticket()
        # Monday 15-17, Tuesday 11 is a holiday, Wednesday 8-10
        self.assertEqual(ticket.first_response_deadline, datetime(2024, 6, 12, 10))

    def test_seven_day_calendar(self):
        with freeze_time(datetime(2024, 6, 8, 18)):  # Saturday 18:00, hotline works weekends
            ticket = self.create_ticket(team_id=self.team_hotline.id)
        self.assertEqual(ticket.first_response_deadline, datetime(2024, 6, 9, 10))

    def test_batch_deadlines_equal_plan_hours(self):
        starts = [MONDAY + timedelta(hours=7 * i, minutes=13 * i) for i in range(25)]
        tickets = self.Ticket
        for start in starts:
            with freeze_time(start):
                tickets |= self.create_ticket()
        tickets.invalidate_recordset()
        tickets._sla_compute_deadlines()
        for ticket, start in zip(tickets, starts, strict=True):
            self.assertEqual(
                ticket.resolution_deadline,
                self.office.plan_hours(24, start, compute_leaves=True),
                f"ticket opened {start}",
            )
            self.assertEqual(
                ticket.first_response_deadline,
                self.office.plan_hours(4, start, compute_leaves=True),
                f"ticket opened {start}",
            )

    def test_pause_and_resume(self):
        with freeze_time(MONDAY.replace(hour=9)):
            ticket = self.create_ticket()
            self.public_reply(ticket, self.agent1)
        self.assertEqual(ticket.resolution_deadline, datetime(2024, 6, 6, 9))
        with freeze_time(MONDAY.replace(hour=10)):
            ticket.stage_id = self.stage_waiting
        self.assertEqual(ticket.sla_paused_since, MONDAY.replace(hour=10))
        self.assertFalse(ticket.next_escalation_date, "a waiting ticket does not escalate")
        with freeze_time(datetime(2024, 6, 6, 10)):  # past the old deadline, still waiting
            ticket.invalidate_recordset(["sla_status"])
            self.assertEqual(ticket.sla_status, "on_track")
            self.assertNotIn(ticket, self.Ticket.search([("sla_status", "=", "breached")]))
        with freeze_time(datetime(2024, 6, 4, 10)):  # customer answers Tuesday 10:00
            ticket.stage_id = self.stage_progress
        # paused Monday 10-12, 13-17 and Tuesday 8-10: 8 working hours
        self.assertAlmostEqual(ticket.sla_paused_hours, 8.0)
        self.assertFalse(ticket.sla_paused_since)
        self.assertEqual(ticket.resolution_deadline, datetime(2024, 6, 7, 9))
        with freeze_time(datetime(2024, 6, 7, 10)):
            ticket.stage_id = self.stage_solved
        self.assertFalse(ticket.sla_met)
        # 9-12 13-17 Mon, Tue .. Thu, Fri 8-10 = 7+8+8+8+2 = 33 minus 8 paused
        self.assertAlmostEqual(ticket.resolution_work_hours, 25.0)

    def test_status_and_search(self):
        with freeze_time(MONDAY.replace(hour=8)):
            ticket = self.create_ticket()
        domain = [("id", "=", ticket.id)]
        for moment, status in [
            (MONDAY.replace(hour=9), "on_track"),
            (MONDAY.replace(hour=11, minute=30), "at_risk"),
            (MONDAY.replace(hour=13, minute=30), "breached"),
        ]:
            with freeze_time(moment):
                self.Ticket._cron_escalate()  # the clock moved: the cron refreshes the status
                ticket.invalidate_recordset(["sla_status"])
                self.assertEqual(ticket.sla_status, status, moment)
                self.assertEqual(
                    self.Ticket.search(domain + [("sla_status", "=", status)]), ticket, moment
                )
        with freeze_time(MONDAY.replace(hour=9)):
            self.public_reply(ticket, self.agent1)
            ticket.stage_id = self.stage_solved
        self.assertEqual(ticket.sla_status, "met")
        self.assertTrue(ticket.sla_met)
        self.assertEqual(ticket.first_response_work_hours, 1.0)
        self.assertEqual(self.Ticket.search(domain + [("sla_status", "=", "met")]), ticket)

    def test_policy_matching(self):
        complaint_a = self.env["vip.service.sla"].create(
            {
                "name": "A complaints",
                "sequence": 50,
                "tier_ids": [(6, 0, self.tier_a.ids)],
                "category_ids": [(6, 0, self.cat_complaint.ids)],
                "first_response_hours": 2,
                "resolution_hours": 16,
                "company_id": self.company.id,
            }
        )
        with freeze_time(MONDAY.replace(hour=9)):
            complaint = self.create_ticket(category_id=self.cat_complaint.id)
            inquiry = self.create_ticket()
            stranger = self.create_ticket(partner_id=self.other_customer.id)
            contact = self.create_ticket(partner_id=self.contact.id)
        self.assertEqual(complaint.sla_id, complaint_a, "most specific policy wins")
        self.assertEqual(complaint.first_response_deadline, MONDAY.replace(hour=11))
        self.assertEqual(inquiry.sla_id, self.sla_a)
        self.assertEqual(stranger.sla_id, self.sla_default)
        self.assertEqual(contact.vip_tier_id, self.tier_a, "a contact has their company's tier")
        self.assertEqual(contact.sla_id, self.sla_a)
        # sequence breaks ties between equally specific policies
        urgent_a = self.env["vip.service.sla"].create(
            {
                "name": "A (bis)",
                "sequence": 1,
                "tier_ids": [(6, 0, self.tier_a.ids)],
                "first_response_hours": 1,
                "resolution_hours": 8,
                "company_id": self.company.id,
            }
        )
        inquiry.priority = "2"
        self.assertEqual(inquiry.sla_id, urgent_a)

    def test_tier_frozen_at_creation(self):
        with freeze_time(MONDAY.replace(hour=9)):
            ticket = self.create_ticket()
        self.customer.with_context(vip_engine=True).sudo().write({"vip_tier_id": self.tier_c.id})
        ticket.invalidate_recordset()
        self.assertEqual(ticket.vip_tier_id, self.tier_a)
        ticket.priority = "2"  # a re-match keeps the frozen tier
        self.assertEqual(ticket.sla_id, self.sla_a)
