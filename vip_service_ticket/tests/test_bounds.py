from datetime import timedelta

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import VipServiceTicketCommon

HUGE = 2**40


@tagged("post_install", "-at_install")
class TestBounds(VipServiceTicketCommon):
    """Very large numbers over RPC or in a form: a ValidationError naming the field, never
    psycopg2's "integer out of range" nor an overflow in the SLA planner."""

    def assert_refused(self, records, vals, label):
        with self.assertRaisesRegex(ValidationError, label), self.env.cr.savepoint():
            records.write(vals)
            records.flush_recordset()

    def assert_refused_create(self, model, vals, label):
        with self.assertRaisesRegex(ValidationError, label), self.env.cr.savepoint():
            model.create(vals)

    def test_ticket_numbers(self):
        ticket = self.create_ticket(user_id=self.agent1.id)
        self.assert_refused(ticket.with_user(self.agent1), {"color": HUGE}, "Color")
        self.assert_refused_create(
            self.Ticket.with_user(self.agent1),
            {"name": "x", "team_id": self.team.id, "color": -HUGE},
            "Color",
        )

    def test_sla_targets(self):
        sla = self.sla_a.with_user(self.service_manager)
        self.assert_refused(sla, {"resolution_hours": 1e12}, r"Resolution \(working hours\)")
        self.assert_refused(sla, {"first_response_hours": 10**7}, r"First Response")
        self.assert_refused(sla, {"sequence": HUGE}, "Sequence")
        self.assert_refused(sla, {"warning_percent": 1e300}, r"At Risk From")
        step = self.sla_a.escalation_ids[:1].with_user(self.service_manager)
        self.assert_refused(step, {"delay_hours": 1e15}, r"Delay \(working hours\)")
        self.assert_refused(step, {"level": HUGE}, "Level")
        self.assert_refused_create(
            self.env["vip.service.sla"].with_user(self.service_manager),
            {"name": "Huge", "resolution_hours": float("nan")},
            r"Resolution \(working hours\)",
        )

    def test_configuration_numbers(self):
        manager = self.service_manager
        self.assert_refused(
            self.team.with_user(manager), {"reopen_days": HUGE}, r"Reopen Window \(days\)"
        )
        self.assert_refused(self.team.with_user(manager), {"color": HUGE}, "Color")
        for record in (self.stage_new, self.cat_inquiry, self.cause_delivery):
            with self.subTest(model=record._name):
                self.assert_refused(record.with_user(manager), {"sequence": -HUGE}, "Sequence")
        tag = self.env["vip.service.tag"].create({"name": "Big"})
        self.assert_refused(tag.with_user(self.agent1), {"color": HUGE}, "Color")

    def test_sane_values_pass(self):
        self.sla_a.with_user(self.service_manager).write({"resolution_hours": 8760})
        self.team.with_user(self.service_manager).write({"reopen_days": 30})

    def test_control_characters_are_dropped(self):
        """A NUL byte over RPC was a ValueError of psycopg2 (HTTP 500 on the portal)."""
        ticket = self.Ticket.with_user(self.agent1).create(
            {"name": "a\x00b", "team_id": self.team.id, "description": "<p>d\x00e\tf</p>"}
        )
        self.assertEqual(ticket.name, "ab")
        self.assertIn("de", ticket.description)
        self.assertNotIn("\x00", ticket.description)
        ticket.write({"name": "c\x01d\x7f"})
        self.assertEqual(ticket.name, "cd")

    def test_sla_start_long_before_the_ticket_is_refused(self):
        ticket = self.create_ticket(user_id=self.agent1.id).with_user(self.service_manager)
        with self.assertRaisesRegex(ValidationError, "SLA Start: 1990-01-01 09:00:00"):
            ticket.write({"sla_start_date": "1990-01-01 09:00:00"})
        with self.assertRaisesRegex(ValidationError, "SLA Start"):
            self.Ticket.with_user(self.service_manager).create(
                {"name": "x", "team_id": self.team.id, "sla_start_date": "1990-01-01 09:00:00"}
            )
        yesterday = fields.Datetime.now() - timedelta(days=1)
        ticket.write({"sla_start_date": yesterday})
        self.assertEqual(ticket.sla_start_date, yesterday.replace(microsecond=0))
