from datetime import date, datetime, timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged
from odoo.tools import SQL

from .common import MONDAY, VipServiceTicketCommon


@tagged("post_install", "-at_install")
class TestKpiSources(VipServiceTicketCommon):
    """The rows the tickets give the program KPIs (``vip.kpi.engine`` hooks)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Kpi = cls.env["vip.kpi.engine"]
        cls.other_company = cls.setup_other_company(name="VIP KPI Other Co")["company"]
        cls.partners = cls.customer | cls.contact | cls.other_customer

    def _rows(self, sources, columns):
        """The rows of the union of ``sources`` for the test's customers, sorted."""
        query = SQL(" UNION ALL ").join(sources)
        rows = self.env.execute_query(
            SQL(
                "SELECT %s FROM (%s) s WHERE s.partner_id = ANY(%s)",
                SQL(", ").join(SQL.identifier("s", column) for column in columns),
                query,
                self.partners.ids,
            )
        )
        return sorted(rows, key=repr)

    def _service_rows(self, date_from, date_to, company=None):
        sources = self.Kpi._get_service_sources(company or self.company, date_from, date_to)
        return self._rows(sources, ["partner_id", "date", "is_complaint", "sla_met"])

    def _satisfaction_rows(self, date_from, date_to, company=None):
        sources = self.Kpi._get_satisfaction_sources(company or self.company, date_from, date_to)
        return self._rows(sources, ["partner_id", "date", "satisfaction", "nps"])

    def _june_tickets(self):
        """Monday 3 June 2024, tier A (4 h / 24 h): a ticket of a contact closed in time,
        one closed late, an open complaint; a ticket of a customer without tier closed
        with no policy; an archived ticket, a ticket of another company; one in July."""
        with freeze_time(MONDAY.replace(hour=8)):
            met = self.create_ticket(partner_id=self.contact.id)
            late = self.create_ticket()
            complaint = self.create_ticket(category_id=self.cat_complaint.id)
            self.sla_default.active = False
            no_policy = self.create_ticket(partner_id=self.other_customer.id)
            archived = self.create_ticket()
            self.create_ticket(
                company_id=self.other_company.id, team_id=False, partner_id=self.customer.id
            )
        self.assertEqual(met.sla_id | late.sla_id, self.sla_a)
        self.assertFalse(no_policy.sla_id)
        with freeze_time(MONDAY.replace(hour=9)):
            (met | no_policy).stage_id = self.stage_solved
        with freeze_time(datetime(2024, 6, 7, 10)):  # past the 24 working hours of tier A
            late.stage_id = self.stage_solved
        archived.active = False
        with freeze_time(datetime(2024, 7, 1, 9)):
            self.create_ticket()
        self.assertEqual((met.sla_status, late.sla_status), ("met", "breached"))
        self.assertFalse(no_policy.sla_met, "stored False: no policy, no result")
        self.assertTrue(complaint.is_complaint)

    def test_service_rows(self):
        june = (date(2024, 6, 1), date(2024, 6, 30))
        self._june_tickets()
        monday = MONDAY.date()
        self.assertEqual(
            self._service_rows(*june),
            sorted(
                [
                    # a contact's ticket counts for their company
                    (self.customer.id, monday, False, True),
                    (self.customer.id, monday, False, False),
                    # open: no SLA result yet
                    (self.customer.id, monday, True, None),
                    # closed without an SLA policy: no SLA result
                    (self.other_customer.id, monday, False, None),
                ],
                key=repr,
            ),
        )
        self.assertEqual(
            self._service_rows(date(2024, 7, 1), date(2024, 7, 1)),
            [(self.customer.id, date(2024, 7, 1), False, None)],
            "the last day of the period is in it",
        )
        self.assertEqual(
            self._service_rows(*june, company=self.other_company),
            [(self.customer.id, monday, False, None)],
        )

    def test_service_kpis_end_to_end(self):
        """The facts of June count the tickets, complaints and SLA compliance of each VIP
        customer (``vip.kpi.engine._compute_period``)."""
        self.Engine._log_tier_changes(
            [
                {
                    "partner": partner,
                    "old_tier": self.Tier,
                    "new_tier": tier,
                    "reason": "import",
                    "date": date(2024, 5, 1),
                }
                for partner, tier in (
                    (self.customer, self.tier_a),
                    (self.other_customer, self.tier_c),
                )
            ]
        )
        self._june_tickets()
        self.Kpi._compute_period(self.company, "month", date(2024, 6, 1))
        facts = self.env["vip.kpi.fact"].search(
            [
                ("company_id", "=", self.company.id),
                ("period_type", "=", "month"),
                ("date_start", "=", date(2024, 6, 1)),
                ("partner_id", "in", self.partners.ids),
            ]
        )
        self.assertEqual(
            {
                fact.partner_id: (fact.ticket_count, fact.complaint_count, fact.sla_pct)
                for fact in facts
            },
            # the ORM reads an empty rate as 0.0: its emptiness is checked below
            {self.customer: (3, 1, 50.0), self.other_customer: (1, 0, 0.0)},
            "one ticket met and one breached of the two closed with a policy: 50 %",
        )
        [(sla_count,)] = self.env["vip.kpi.fact"]._read_group(
            [("id", "in", facts.ids)], [], ["sla_pct:count"]
        )
        self.assertEqual(sla_count, 1, "no SLA result for the customer without policy")
        [(sla_pct, complaints, tickets)] = self.env["vip.kpi.fact"]._read_group(
            [("id", "in", facts.ids)],
            [],
            ["sla_pct:avg", "complaint_count:sum", "ticket_count:sum"],
        )
        self.assertEqual((sla_pct, complaints, tickets), (50.0, 1, 4))
        # the account manager's scorecard reads its customers' facts
        card = self.env["vip.manager.scorecard"].search(
            [
                ("company_id", "=", self.company.id),
                ("period_type", "=", "month"),
                ("date_start", "=", date(2024, 6, 1)),
                ("user_id", "=", self.vip_user.id),
            ]
        )
        self.assertEqual((card.ticket_count, card.complaint_count, card.sla_rate), (3, 1, 50.0))

    def test_reopened_ticket_has_no_result(self):
        with freeze_time(MONDAY.replace(hour=8)):
            ticket = self.create_ticket()
        with freeze_time(MONDAY.replace(hour=9)):
            ticket.stage_id = self.stage_solved
        with freeze_time(MONDAY.replace(hour=10)):
            ticket.stage_id = self.stage_progress
        self.assertEqual(
            self._service_rows(date(2024, 6, 1), date(2024, 6, 30)),
            [(self.customer.id, MONDAY.date(), False, None)],
        )

    def test_ticket_analysis_reads_the_same_sla_result(self):
        """The ticket analysis and the KPIs share the SLA engine's definition: a ticket
        left in a stage folded afterwards (its closing never ran) is neither met nor
        breached in either."""
        with freeze_time(MONDAY.replace(hour=8)):
            ticket = self.create_ticket()
            ticket.stage_id = self.stage_progress
        self.stage_progress.sudo().fold = True  # an admin folds the stage the ticket is in
        self.assertTrue(ticket.is_closed)
        self.assertFalse(ticket.close_date)
        self.env.flush_all()
        report = self.env["vip.service.ticket.report"].search([("ticket_id", "=", ticket.id)])
        self.assertFalse(report.sla_compliance)
        self.assertEqual(
            self.env["vip.service.ticket.report"]._read_group(
                [("ticket_id", "=", ticket.id)], [], ["sla_compliance:count"]
            ),
            [(0,)],
            "no result, not a 0 %",
        )
        self.assertEqual(
            self._service_rows(date(2024, 6, 1), date(2024, 6, 30)),
            [(self.customer.id, MONDAY.date(), False, None)],
        )

    def test_ticket_ratings_as_satisfaction(self):
        today = fields.Date.today()
        good = self.create_ticket(partner_id=self.contact.id)
        good.rating_apply(4, token=good._rating_get_access_token())
        self.create_ticket()._rating_get_access_token()  # asked, not answered
        foreign = self.create_ticket(
            company_id=self.other_company.id, team_id=False, partner_id=self.other_customer.id
        )
        foreign.rating_apply(1, token=foreign._rating_get_access_token())
        self.assertEqual(
            self._satisfaction_rows(today, today), [(self.customer.id, today, 80.0, None)]
        )
        self.assertEqual(
            self._satisfaction_rows(today, today, company=self.other_company),
            [(self.other_customer.id, today, 20.0, None)],
        )
        self.assertEqual(
            self._satisfaction_rows(today - timedelta(days=31), today - timedelta(days=1)), []
        )

    def test_rating_kpis_end_to_end(self):
        """A rating is the satisfaction of the month it was given; no NPS from it."""
        today = fields.Date.today()
        self.Engine._log_tier_changes(
            [
                {
                    "partner": self.customer,
                    "old_tier": self.Tier,
                    "new_tier": self.tier_a,
                    "reason": "import",
                    "date": date(2024, 5, 1),
                }
            ]
        )
        for rating in (4, 2):
            ticket = self.create_ticket(partner_id=self.contact.id)
            ticket.rating_apply(rating, token=ticket._rating_get_access_token())
        self.Kpi._compute_period(self.company, "month", today)
        fact = self.env["vip.kpi.fact"].search(
            [
                ("company_id", "=", self.company.id),
                ("period_type", "=", "month"),
                ("date_start", "=", today.replace(day=1)),
                ("partner_id", "=", self.customer.id),
            ]
        )
        self.assertEqual(
            (fact.satisfaction, fact.satisfaction_count, fact.ticket_count), (60.0, 2, 2)
        )
        [(nps_count,)] = self.env["vip.kpi.fact"]._read_group(
            [("id", "=", fact.id)], [], ["nps_pct:count"]
        )
        self.assertEqual(nps_count, 0, "a rating is no NPS answer")
