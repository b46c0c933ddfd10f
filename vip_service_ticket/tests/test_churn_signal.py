from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from .common import MONDAY, VipServiceTicketCommon


@tagged("post_install", "-at_install")
class TestChurnSignal(VipServiceTicketCommon):
    def test_open_complaints_and_breaches(self):
        with freeze_time(MONDAY.replace(hour=9)):
            self.create_ticket(category_id=self.cat_complaint.id)  # open complaint
            late = self.create_ticket()  # first response due Monday 14:00
            solved = self.create_ticket(category_id=self.cat_complaint.id)
            solved.write(
                {
                    "root_cause_id": self.cause_delivery.id,
                    "solution": "<p>done</p>",
                    "stage_id": self.stage_solved.id,
                }
            )
            other = self.create_ticket(partner_id=self.other_customer.id)
        self.assertEqual(late.first_response_deadline, MONDAY.replace(hour=14))
        self.assertEqual(other.first_response_deadline, datetime(2024, 6, 6, 9))
        with freeze_time(datetime(2024, 6, 4, 9)):
            signals = self.Engine._get_churn_signals(
                self.company, [self.customer.id, self.other_customer.id]
            )
        # one open complaint (10 points); two late tickets, the complaint and the inquiry
        # (2 x 5); the solved complaint was closed in time
        self.assertEqual(
            signals[self.customer.id],
            [(10, "1 open complaint"), (10, "2 SLA breaches in 90 days")],
        )
        self.assertNotIn(self.other_customer.id, signals, "its ticket is not late yet")

    def test_singular_and_plural(self):
        with freeze_time(MONDAY.replace(hour=9)):
            self.create_ticket(category_id=self.cat_complaint.id)
            self.create_ticket(category_id=self.cat_complaint.id)
            self.create_ticket(partner_id=self.other_customer.id, category_id=self.cat_complaint.id)
        with freeze_time(datetime(2024, 6, 4, 9)):
            signals = self.Engine._get_churn_signals(
                self.company, [self.customer.id, self.other_customer.id]
            )
        self.assertEqual(
            signals[self.customer.id],
            [(20, "2 open complaints"), (10, "2 SLA breaches in 90 days")],
        )
        self.assertEqual(signals[self.other_customer.id], [(10, "1 open complaint")])

    def test_no_ticket_no_signal(self):
        self.assertEqual(self.Engine._get_churn_signals(self.company, [self.customer.id]), {})

    def test_ticket_marks_the_customer_for_the_next_night(self):
        """The incremental tier night: a ticket opened or closed has its customer
        evaluated at the next night, and an open ticket every night it stays open."""
        self.env.flush_all()
        self.customer.invalidate_recordset(["vip_eval_date", "vip_eval_mark"])
        marks = self.customer.sudo().vip_eval_mark
        ticket = self.create_ticket(category_id=self.cat_complaint.id)
        self.env.flush_all()
        self.customer.invalidate_recordset(["vip_eval_date", "vip_eval_mark"])
        today = fields.Date.context_today(self.customer)
        self.assertGreater(self.customer.sudo().vip_eval_mark, marks, "marked")
        self.assertLessEqual(self.customer.vip_eval_date, today)
        tomorrow = today + timedelta(days=1)
        dates = self.Engine._get_churn_signal_dates(self.company, [self.customer.id])
        self.assertEqual(dates, {self.customer.id: tomorrow}, "open: every night")
        ticket.write(
            {
                "root_cause_id": self.cause_delivery.id,
                "solution": "<p>done</p>",
                "stage_id": self.stage_solved.id,
            }
        )
        self.assertFalse(
            self.Engine._get_churn_signal_dates(self.company, [self.customer.id]),
            "closed in time: no date of its own",
        )
