from datetime import datetime

from odoo import Command
from odoo.tests import new_test_user

from odoo.addons.vip_customer.tests.common import VipCustomerCommon

# Monday 3 June 2024; the test calendars are in UTC so the expected datetimes read plainly.
MONDAY = datetime(2024, 6, 3)


class VipServiceTicketCommon(VipCustomerCommon):
    """Fixtures: an office calendar (Mon-Fri 8-12 13-17 UTC) with a public holiday on
    Tuesday 11 June 2024, a 7-day 8-20 calendar, two teams, agents, a leader, a service
    manager, tier SLAs (A 4h/24h, B 8h/48h, C 24h/72h) with an escalation ladder on A."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.groups_id = [
            Command.link(cls.env.ref("vip_service_ticket.group_vip_service_manager").id)
        ]
        cls.Ticket = cls.env["vip.service.ticket"]
        ref = cls.env.ref
        cls.stage_new = ref("vip_service_ticket.vip_service_stage_new")
        cls.stage_progress = ref("vip_service_ticket.vip_service_stage_in_progress")
        cls.stage_waiting = ref("vip_service_ticket.vip_service_stage_waiting")
        cls.stage_solved = ref("vip_service_ticket.vip_service_stage_solved")
        cls.cat_complaint = ref("vip_service_ticket.vip_service_category_complaint")
        cls.cat_inquiry = ref("vip_service_ticket.vip_service_category_inquiry")
        cls.cause_delivery = ref("vip_service_ticket.vip_service_root_cause_delivery")

        cls.office = cls.env["resource.calendar"].create(
            {
                "name": "Test office 8-17",
                "tz": "UTC",
                "company_id": cls.company.id,
                "attendance_ids": [Command.clear()]
                + [
                    Command.create(
                        {
                            "name": f"{day} {period}",
                            "dayofweek": str(day),
                            "hour_from": start,
                            "hour_to": stop,
                            "day_period": period,
                        }
                    )
                    for day in range(5)
                    for start, stop, period in ((8, 12, "morning"), (13, 17, "afternoon"))
                ],
            }
        )
        cls.env["resource.calendar.leaves"].create(
            {
                "name": "Dragon Boat Festival",
                "calendar_id": cls.office.id,
                "date_from": datetime(2024, 6, 11, 0, 0),
                "date_to": datetime(2024, 6, 11, 23, 59, 59),
                "time_type": "leave",
            }
        )
        cls.hotline_calendar = cls.env["resource.calendar"].create(
            {
                "name": "Test hotline 7 days 8-20",
                "tz": "UTC",
                "company_id": cls.company.id,
                "attendance_ids": [Command.clear()]
                + [
                    Command.create(
                        {
                            "name": f"{day}",
                            "dayofweek": str(day),
                            "hour_from": 8,
                            "hour_to": 20,
                            "day_period": "morning",
                        }
                    )
                    for day in range(7)
                ],
            }
        )

        def user(login, group="vip_service_ticket.group_vip_service_user"):
            return new_test_user(
                cls.env,
                login=login,
                groups=f"base.group_user,{group}",
                company_id=cls.company.id,
                company_ids=[Command.set(cls.company.ids)],
            )

        cls.agent1 = user("vst-agent1")
        cls.agent2 = user("vst-agent2")
        cls.leader = user("vst-leader")
        cls.outsider = user("vst-outsider")
        cls.service_manager = user("vst-manager", "vip_service_ticket.group_vip_service_manager")
        cls.team = cls.env["vip.service.team"].create(
            {
                "name": "Care Desk",
                "company_id": cls.company.id,
                "leader_id": cls.leader.id,
                "service_manager_id": cls.service_manager.id,
                "member_ids": [Command.set((cls.agent1 | cls.agent2 | cls.leader).ids)],
                "resource_calendar_id": cls.office.id,
                "assignment_method": "least_open",
                "alias_name": "vst-care",
            }
        )
        cls.team_hotline = cls.env["vip.service.team"].create(
            {
                "name": "Hotline",
                "company_id": cls.company.id,
                "leader_id": cls.outsider.id,
                "member_ids": [Command.set(cls.outsider.ids)],
                "resource_calendar_id": cls.hotline_calendar.id,
                "assignment_method": "round_robin",
            }
        )

        Sla = cls.env["vip.service.sla"]
        Sla.search([]).active = False  # demo policies out of the way
        ladder = [
            Command.create(
                {
                    "level": 1,
                    "deadline_type": "first_response",
                    "trigger": "breach",
                    "action": "notify_assignee",
                }
            ),
            Command.create(
                {
                    "level": 1,
                    "deadline_type": "resolution",
                    "trigger": "warning",
                    "action": "notify_assignee",
                }
            ),
            Command.create(
                {
                    "level": 2,
                    "deadline_type": "resolution",
                    "trigger": "breach",
                    "action": "reassign_leader",
                }
            ),
            Command.create(
                {
                    "level": 3,
                    "deadline_type": "resolution",
                    "trigger": "breach_delay",
                    "delay_hours": 4,
                    "action": "notify_managers",
                }
            ),
        ]
        cls.sla_a = Sla.create(
            {
                "name": "A",
                "sequence": 10,
                "tier_ids": [Command.set(cls.tier_a.ids)],
                "first_response_hours": 4,
                "resolution_hours": 24,
                "warning_percent": 75,
                "escalation_ids": ladder,
                "company_id": cls.company.id,
            }
        )
        cls.sla_b = Sla.create(
            {
                "name": "B",
                "sequence": 20,
                "tier_ids": [Command.set(cls.tier_b.ids)],
                "first_response_hours": 8,
                "resolution_hours": 48,
                "company_id": cls.company.id,
            }
        )
        cls.sla_c = Sla.create(
            {
                "name": "C",
                "sequence": 30,
                "tier_ids": [Command.set(cls.tier_c.ids)],
                "first_response_hours": 24,
                "resolution_hours": 72,
                "company_id": cls.company.id,
            }
        )
        cls.sla_default = Sla.create(
            {
                "name": "Anyone",
                "sequence": 100,
                "first_response_hours": 24,
                "resolution_hours": 120,
                "company_id": cls.company.id,
            }
        )
        cls.customer.with_context(vip_engine=True).sudo().write({"vip_tier_id": cls.tier_a.id})
        cls.customer.vip_account_manager_id = cls.vip_user
        cls.contact = cls.env["res.partner"].create(
            {
                "name": "Mr. Chen",
                "parent_id": cls.customer.id,
                "email": "chen@gd.example.com",
            }
        )
        cls.other_customer = cls.env["res.partner"].create(
            {
                "name": "Silver Lotus",
                "is_company": True,
                "email": "lotus@example.com",
            }
        )

    @classmethod
    def create_ticket(cls, **values):
        vals = {
            "name": "Broken vase",
            "partner_id": cls.customer.id,
            "team_id": cls.team.id,
            "company_id": cls.company.id,
            "category_id": cls.cat_inquiry.id,
        }
        vals.update(values)
        return cls.Ticket.create(vals)

    def public_reply(self, ticket, user, body="We are on it."):
        return ticket.with_user(user).message_post(
            body=body, message_type="comment", subtype_xmlid="mail.mt_comment"
        )
