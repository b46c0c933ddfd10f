from datetime import datetime

from freezegun import freeze_time
from lxml import etree

from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged
from odoo.tools.safe_eval import safe_eval

from .common import MONDAY, VipServiceTicketCommon

PROGRESS_BAR = {
    "field": "sla_status",
    "colors": {"on_track": "success", "at_risk": "warning", "breached": "danger", "met": "info"},
}


@tagged("post_install", "-at_install")
class TestSlaStatus(VipServiceTicketCommon):
    """The SLA status is stored (kanban progress bars, group-bys) and kept true: by the
    events that change it at once, and by the escalation cron when only the clock moved."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with freeze_time(MONDAY.replace(hour=8)):
            cls.ticket = cls.create_ticket(user_id=cls.agent1.id)
            cls.env.flush_all()  # the stored status is computed at the frozen time
        # first response due Mon 12:00, at risk from 11:00; resolution due Wed 17:00

    def run_cron(self, moment):
        with freeze_time(moment):
            self.Ticket._cron_escalate()
            self.env.flush_all()
        self.ticket.invalidate_recordset()

    def test_kanban_progress_bar_and_group_by(self):
        """My Tickets opens in kanban grouped by stage with a progress bar on the status."""
        Ticket = self.Ticket.with_user(self.agent1)
        bars = Ticket.read_progress_bar(
            [("user_id", "=", self.agent1.id)], "stage_id", PROGRESS_BAR
        )
        self.assertEqual(
            bars, {str(self.stage_new.id): {"on_track": 1, "at_risk": 0, "breached": 0, "met": 0}}
        )
        groups = Ticket.read_group([("id", "=", self.ticket.id)], ["sla_status"], ["sla_status"])
        self.assertEqual([g["sla_status"] for g in groups], ["on_track"])

    def test_clock_moves_the_status(self):
        self.assertEqual(self.ticket.sla_status, "on_track")
        self.assertEqual(self.ticket.sla_status_date, MONDAY.replace(hour=11))
        self.run_cron(MONDAY.replace(hour=11, minute=5))
        self.assertEqual(self.ticket.sla_status, "at_risk")
        self.run_cron(MONDAY.replace(hour=12, minute=5))
        self.assertEqual(self.ticket.sla_status, "breached")
        self.assertIn(self.ticket, self.Ticket.search([("sla_status", "=", "breached")]))
        self.team.invalidate_recordset()
        self.assertEqual(self.team.with_user(self.agent1).breached_ticket_count, 1)

    def test_waiting_for_the_customer_never_breaches(self):
        with freeze_time(MONDAY.replace(hour=9)):
            self.ticket.with_user(self.agent1).stage_id = self.stage_waiting
            self.env.flush_all()
        self.assertFalse(self.ticket.sla_status_date, "the clock is stopped")
        self.run_cron(datetime(2024, 6, 7, 9))
        self.assertEqual(self.ticket.sla_status, "on_track")
        self.assertNotIn(self.ticket, self.Ticket.search([("sla_status", "=", "breached")]))

    def test_answer_and_close_update_the_status(self):
        self.run_cron(MONDAY.replace(hour=11, minute=5))
        self.assertEqual(self.ticket.sla_status, "at_risk")
        with freeze_time(MONDAY.replace(hour=11, minute=30)):
            self.public_reply(self.ticket, self.agent1)
            self.assertEqual(self.ticket.sla_status, "on_track", "answered in time")
            self.ticket.with_user(self.agent1).stage_id = self.stage_solved
            self.env.flush_all()
        self.assertEqual(self.ticket.sla_status, "met")
        self.assertFalse(self.ticket.sla_status_date)

    def test_unsaved_closing_shows_no_breach(self):
        """Choosing Solved in the form recomputes the status before saving: a ticket on
        track must not show the Breached ribbon then (it is not closed yet)."""
        with freeze_time(MONDAY.replace(hour=9)):
            form = Form(self.ticket.with_user(self.agent1))
            form.stage_id = self.stage_solved
            self.assertEqual(form.sla_status, "on_track")

    def test_complaint_closing_error_is_clear(self):
        with freeze_time(MONDAY.replace(hour=9)):
            complaint = self.create_ticket(category_id=self.cat_complaint.id)
            with self.assertRaisesRegex(ValidationError, "Root Cause.*Resolution tab"):
                complaint.with_user(self.service_manager).write(
                    {"stage_id": self.stage_solved.id, "solution": "<p>Replaced</p>"}
                )

    def test_breached_has_one_definition(self):
        """The same tickets are breached on the ticket (its status), in the "Breached"
        filter of the search view and in the churn signal; a ticket whose deadline
        passed while it waited for the customer is breached in none of them."""
        with freeze_time(MONDAY.replace(hour=9)):
            waiting = self.create_ticket(user_id=self.agent1.id)  # first response due 14:00
            answered = self.create_ticket(user_id=self.agent1.id)
            self.public_reply(answered, self.agent1)
            closed_late = self.create_ticket(user_id=self.agent1.id)
        with freeze_time(MONDAY.replace(hour=9, minute=30)):
            waiting.with_user(self.agent1).stage_id = self.stage_waiting
        with freeze_time(MONDAY.replace(hour=15)):  # first response was due at 14:00
            closed_late.with_user(self.agent1).stage_id = self.stage_solved
        self.run_cron(MONDAY.replace(hour=16))  # the clock moved: statuses refreshed
        tickets = self.ticket | waiting | answered | closed_late

        by_status = tickets.filtered(lambda t: Form(t).sla_status == "breached")
        arch = etree.fromstring(
            self.env.ref("vip_service_ticket.vip_service_ticket_view_search").arch
        )
        filters = {
            name: safe_eval(arch.xpath(f"//filter[@name='{name}']")[0].get("domain"))
            for name in ("open", "at_risk", "breached", "waiting")
        }
        Engine = self.env["vip.service.sla.engine"]
        self.assertEqual(
            filters,
            {
                "open": Engine._get_open_domain(),
                "at_risk": Engine._get_at_risk_domain(),
                "breached": Engine._get_breached_domain(),
                "waiting": Engine._get_waiting_domain(),
            },
            "the search filters are the engine's definitions",
        )
        filter_domain = filters["breached"]
        by_filter = self.Ticket.search([("id", "in", tickets.ids), *filter_domain])
        with freeze_time(MONDAY.replace(hour=16)):
            counts = self.env["vip.tier.engine"]._get_ticket_churn_counts(
                self.company, [self.customer.id]
            )

        self.assertEqual(by_status, self.ticket | closed_late)
        self.assertEqual(by_filter, by_status)
        self.assertEqual(counts[self.customer.id][1], len(by_status))
        self.assertEqual(waiting.sla_status, "on_track", "the clock stopped at 9:30")
        self.assertGreater(MONDAY.replace(hour=16), waiting.first_response_deadline)
