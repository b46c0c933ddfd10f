from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import VipSurveyCommon


@tagged("post_install", "-at_install")
class TestChurnSignal(VipSurveyCommon):
    def _signals(self, partner):
        return self.Engine._get_churn_signals(self.company, [partner.id]).get(partner.id, [])

    def test_detractor_signal(self):
        self._answer(self.customer, 5)
        labels = [label for _points, label in self._signals(self.customer)]
        self.assertTrue(any("Detractor" in label for label in labels), labels)

    def test_promoter_no_signal(self):
        self._answer(self.customer, 10, satisfaction=5)
        self.assertFalse(
            [
                s
                for s in self._signals(self.customer)
                if "atisfaction" in s[1] or "Detractor" in s[1]
            ]
        )

    def test_falling_satisfaction(self):
        first = self._answer(self.customer, 9, satisfaction=5)
        first.end_datetime = fields.Datetime.now() - timedelta(days=180)
        self._answer(self.customer, 8, satisfaction=3)
        labels = [label for _points, label in self._signals(self.customer)]
        self.assertIn("Satisfaction fell from 100 to 50", labels)

    def test_old_answers_ignored_and_batch(self):
        old = self._answer(self.customer, 1)
        old.end_datetime = fields.Datetime.now() - timedelta(days=400)
        other = self._customer("Other")
        self._answer(other, 2)
        signals = self.Engine._get_churn_signals(self.company, [self.customer.id, other.id])
        self.assertFalse([s for s in signals.get(self.customer.id, []) if "Detractor" in s[1]])
        self.assertTrue([s for s in signals.get(other.id, []) if "Detractor" in s[1]])

    def test_churn_score_raised(self):
        self._answer(self.customer, 0)
        self.recompute(self.customer)
        self.assertIn("Detractor", self.customer.vip_churn_signal_note or "")

    def test_answer_marks_the_customer_and_dates_its_end(self):
        """The incremental tier night: a completed answer has its customer evaluated
        at the next night, and again the day the answer leaves the look-back window."""
        self.env.flush_all()
        self.customer.invalidate_recordset(["vip_eval_date", "vip_eval_mark"])
        marks = self.customer.sudo().vip_eval_mark
        # a promoter: a detractor would open a recovery ticket (evaluated every night)
        answer = self._answer(self.customer, 10, satisfaction=5)
        self.env.flush_all()
        self.customer.invalidate_recordset(["vip_eval_date", "vip_eval_mark"])
        self.assertGreater(self.customer.sudo().vip_eval_mark, marks, "marked")
        self.assertLessEqual(self.customer.vip_eval_date, fields.Date.context_today(self.customer))
        dates = self.Engine._get_churn_signal_dates(self.company, [self.customer.id])
        self.assertEqual(
            dates[self.customer.id], answer.end_datetime.date() + timedelta(days=366)
        )
