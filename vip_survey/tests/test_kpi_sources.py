from datetime import date, datetime

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged
from odoo.tools import SQL

from .common import VipSurveyCommon


@tagged("post_install", "-at_install")
class TestKpiSources(VipSurveyCommon):
    """The rows the campaign answers give the program KPIs (``vip.kpi.engine`` hook)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Kpi = cls.env["vip.kpi.engine"]
        cls.contact = cls.env["res.partner"].create(
            {"name": "Ms. Wang", "parent_id": cls.customer.id, "email": "wang@gd.example.com"}
        )
        cls.jade = cls._customer("Jade Garden")
        cls.other_company = cls.setup_other_company(name="KPI Satisfaction Other Co")["company"]
        cls.other_campaign = cls.Campaign.create(
            {
                "name": "Other company's satisfaction",
                "company_id": cls.other_company.id,
                "survey_id": cls.survey.id,
                "nps_question_id": cls.q_nps.id,
                "satisfaction_source": "nps",
            }
        )
        cls.partners = cls.customer | cls.contact | cls.jade

    def _rows(self, date_from, date_to, company=None):
        """The satisfaction rows of every source for the test's customers, sorted."""
        sources = self.Kpi._get_satisfaction_sources(company or self.company, date_from, date_to)
        rows = self.env.execute_query(
            SQL(
                "SELECT s.partner_id, s.date, s.satisfaction, s.nps FROM (%s) s "
                "WHERE s.partner_id = ANY(%s)",
                SQL(" UNION ALL ").join(sources),
                self.partners.ids,
            )
        )
        return sorted(rows, key=repr)

    def test_completed_answers_of_the_company(self):
        with freeze_time(datetime(2024, 6, 10, 10)):
            self._answer(self.contact, 9, satisfaction=4)  # (4 - 1) / 4 -> 75 out of 100
        with freeze_time(datetime(2024, 6, 20, 10)):
            self._answer(self.jade, 3, satisfaction=1)
        with freeze_time(datetime(2024, 6, 25, 10)):
            self._answer(self.customer, 10, satisfaction=5, done=False)
            self._answer(self.customer, 8, campaign=self.other_campaign)
        with freeze_time(datetime(2024, 6, 30, 23, 59)):
            self._answer(self.jade, 7, satisfaction=5)
        with freeze_time(datetime(2024, 7, 1, 0, 1)):
            self._answer(self.customer, 10, satisfaction=5)
        june = (date(2024, 6, 1), date(2024, 6, 30))
        self.assertEqual(
            self._rows(*june),
            sorted(
                [
                    # a contact's answer counts for their company
                    (self.customer.id, date(2024, 6, 10), 75.0, 9),
                    (self.jade.id, date(2024, 6, 20), 0.0, 3),
                    (self.jade.id, date(2024, 6, 30), 100.0, 7),
                ],
                key=repr,
            ),
            "completed answers of the company's campaigns in June, by completion date",
        )
        self.assertEqual(
            self._rows(date(2024, 7, 1), date(2024, 7, 31)),
            [(self.customer.id, date(2024, 7, 1), 100.0, 10)],
        )
        self.assertEqual(
            self._rows(*june, company=self.other_company),
            [(self.customer.id, date(2024, 6, 25), 80.0, 8)],
            "the other company's campaign: satisfaction from the NPS answer (x10)",
        )

    def test_skipped_nps_question(self):
        self.q_nps.constr_mandatory = False
        with freeze_time(datetime(2024, 6, 10, 10)):
            answer = self.campaign._create_invitations(self.customer).sudo()
            answer._save_lines(self.q_satisfaction, "5")
            answer._mark_done()
        self.assertEqual(
            self._rows(date(2024, 6, 1), date(2024, 6, 30)),
            [(self.customer.id, date(2024, 6, 10), 100.0, None)],
            "satisfaction without NPS",
        )

    def test_ratings_counted_once_as_in_the_history(self):
        """Ticket ratings come from vip_service_ticket's hook only: with the survey
        answers they are the satisfaction history's rows, each once."""
        today = fields.Date.today()
        Ticket = self.env["vip.service.ticket"]
        ticket = Ticket.create(Ticket._prepare_ticket_vals(self.contact, name="Question"))
        ticket.rating_apply(5, token=ticket._rating_get_access_token())
        self._answer(self.customer, 9, satisfaction=3)
        self._answer(self.jade, 10, done=False)  # started today, not completed
        rows = self._rows(today, today)
        self.assertEqual(
            rows,
            sorted(
                [(self.customer.id, today, 100.0, None), (self.customer.id, today, 50.0, 9)],
                key=repr,
            ),
        )
        self.env.flush_all()
        history = self.env["vip.satisfaction.report"].search(
            [("partner_id", "in", self.partners.ids), ("state", "=", "done")]
        )
        self.assertEqual(
            sorted(
                (
                    (row.partner_id.id, row.date, row.satisfaction, row.nps_score or None)
                    for row in history
                ),
                key=repr,
            ),
            rows,
        )

    def test_satisfaction_kpis_end_to_end(self):
        """The facts of June: the mean satisfaction of a customer's answers, the NPS of
        their last answer, and the recovery ticket of a detractor as a complaint."""
        self.Engine._log_tier_changes(
            [
                {
                    "partner": partner,
                    "old_tier": self.Tier,
                    "new_tier": self.tier_b,
                    "reason": "import",
                    "date": date(2024, 5, 1),
                }
                for partner in (self.customer, self.jade)
            ]
        )
        with freeze_time(datetime(2024, 6, 5, 10)):
            self._answer(self.customer, 3, satisfaction=1)  # detractor, 0
        with freeze_time(datetime(2024, 6, 10, 10)):
            self._answer(self.contact, 9, satisfaction=4)  # promoter, 75
        with freeze_time(datetime(2024, 6, 20, 10)):
            self._answer(self.jade, 9, satisfaction=5)  # promoter, 100
        with freeze_time(datetime(2024, 6, 30, 10)):
            self._answer(self.jade, 8, satisfaction=3)  # passive, 50
            self._answer(self.jade, 0, satisfaction=1, done=False)
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
                fact.partner_id: (
                    fact.satisfaction,
                    fact.satisfaction_count,
                    fact.nps_pct,
                    fact.complaint_count,
                )
                for fact in facts
            },
            {self.customer: (37.5, 2, 100.0, 1), self.jade: (75.0, 2, 0.0, 0)},
        )
        period = self.env["vip.kpi.period"].search(
            [
                ("company_id", "=", self.company.id),
                ("period_type", "=", "month"),
                ("date_start", "=", date(2024, 6, 1)),
            ]
        )
        self.assertEqual((period.satisfaction, period.nps), (56.25, 50.0))
