from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.tests import tagged

from .common import MONDAY, VipServiceTicketCommon


@tagged("post_install", "-at_install")
class TestPerformance(VipServiceTicketCommon):
    """The SLA engine is set-based: its query count does not grow with the tickets."""

    def make_tickets(self, count):
        tickets = self.Ticket
        for i in range(count):
            with freeze_time(MONDAY + timedelta(hours=3 * i)):
                tickets |= self.create_ticket(user_id=self.agent1.id)
        return tickets

    def count_queries(self, func):
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        func()
        self.env.flush_all()
        return self.env.cr.sql_log_count - before

    def test_deadlines_in_batch(self):
        small, large = self.make_tickets(3), self.make_tickets(30)
        self.count_queries(small._sla_compute_deadlines)  # warm the caches
        queries_small = self.count_queries(small._sla_compute_deadlines)
        queries_large = self.count_queries(large._sla_compute_deadlines)
        self.assertEqual(queries_small, queries_large)
        self.assertLess(queries_large, 25)

    def test_escalation_in_batch(self):
        small, large = self.make_tickets(2), self.make_tickets(20)
        # everything due: first response breach, warning, breach, breach + 4h
        with freeze_time(datetime(2024, 8, 1, 9)):
            queries_small = self.count_queries(small._sla_escalate)
            queries_large = self.count_queries(large._sla_escalate)
        self.assertEqual(len(large.escalation_ids), 80)
        self.assertLessEqual(queries_large, queries_small + 5)
