from odoo.tests import tagged

from .common import VipSurveyCommon


@tagged("post_install", "-at_install")
class TestSatisfaction(VipSurveyCommon):
    def _rated_ticket(self, rating):
        Ticket = self.env["vip.service.ticket"]
        ticket = Ticket.create(Ticket._prepare_ticket_vals(self.customer, name="Question"))
        token = ticket._rating_get_access_token()
        ticket.rating_apply(rating, token=token)
        return ticket

    def _history(self):
        self.env.flush_all()
        return self.env["vip.satisfaction.report"].search(
            [("partner_id", "=", self.customer.id), ("state", "=", "done")]
        )

    def test_ticket_ratings_in_history(self):
        good = self._rated_ticket(5)
        bad = self._rated_ticket(1)
        self._answer(self.customer, 9, satisfaction=5)
        history = self._history()
        self.assertEqual(len(history), 3)
        by_ticket = {row.ticket_id: row for row in history if row.source == "ticket"}
        self.assertEqual(by_ticket[good].satisfaction, 100.0)
        self.assertEqual(by_ticket[bad].satisfaction, 20.0)
        self.assertTrue(by_ticket[bad].below_target)
        self.assertFalse(by_ticket[good].below_target)
        survey_row = history.filtered(lambda r: r.source == "survey")
        self.assertEqual(survey_row.satisfaction, 100.0)
        self.assertEqual(survey_row.nps_class, "promoter")
        self.assertEqual(survey_row.tier_id, self.tier_a)
        self.assertEqual(survey_row.account_manager_id, self.account_manager)
        self.assertEqual(self.customer.vip_satisfaction_count, 3)
        action = self.customer.action_view_vip_satisfaction()
        self.assertEqual(self.env["vip.satisfaction.report"].search_count(action["domain"]), 3)

    def test_unrated_ticket_not_in_history(self):
        Ticket = self.env["vip.service.ticket"]
        ticket = Ticket.create(Ticket._prepare_ticket_vals(self.customer, name="Question"))
        ticket._rating_get_access_token()
        self.assertFalse(self._history())

    def test_analysis_nps_and_response_rate(self):
        self._answer(self.customer, 10, satisfaction=5)
        self._answer(self._customer("Detractor"), 3, satisfaction=2)
        self._answer(self._customer("Silent"), 5, done=False)
        self.env.flush_all()
        [(nps, satisfaction, rate, invited, completed)] = self.env[
            "vip.satisfaction.report"
        ]._read_group(
            [("campaign_id", "=", self.campaign.id)],
            [],
            [
                "nps:avg",
                "satisfaction:avg",
                "response_rate:avg",
                "invited_count:sum",
                "completed_count:sum",
            ],
        )
        self.assertEqual(nps, 0.0, "one promoter, one detractor")
        self.assertAlmostEqual(satisfaction, 62.5)
        self.assertAlmostEqual(rate, 200 / 3)
        self.assertEqual((invited, completed), (3, 2))
