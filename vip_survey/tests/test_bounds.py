from dateutil.relativedelta import relativedelta

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common import VipSurveyCommon


@tagged("post_install", "-at_install")
class TestCampaignBounds(VipSurveyCommon):
    """Numbers and dates a satisfaction manager types are checked by the model:
    an absurd value is a named error, never psycopg2's "integer out of range"."""

    def test_huge_numbers_named_error(self):
        campaign = self.campaign.with_user(self.survey_manager)
        for fname, label in (
            ("skip_days", "Skip Surveyed Within"),
            ("interval_months", "Every"),
            ("answer_days", "Answer Within"),
            ("satisfaction_target", "Satisfaction Target"),
        ):
            with self.subTest(field=fname), self.assertRaisesRegex(ValidationError, label):
                campaign.write({fname: 2**40})
        with self.assertRaisesRegex(ValidationError, "Satisfaction Target"):
            campaign.write({"satisfaction_target": 101})
        with self.assertRaisesRegex(ValidationError, "Satisfaction Target"):
            campaign.write({"satisfaction_target": -1})
        with self.assertRaisesRegex(ValidationError, "Every"):
            campaign.write({"interval_months": 0})
        campaign.write(
            {"skip_days": 365, "interval_months": 12, "answer_days": 60, "satisfaction_target": 90}
        )
        self.assertEqual(campaign.interval_months, 12)

    def test_next_run_date_horizon(self):
        campaign = self.campaign.with_user(self.survey_manager)
        with self.assertRaisesRegex(ValidationError, "Next Run Date"):
            campaign.write({"next_run_date": "2200-01-01"})
        campaign.write({"next_run_date": self.today + relativedelta(years=1)})
        self.assertEqual(campaign.next_run_date, self.today + relativedelta(years=1))

    def test_campaign_stays_in_the_managers_companies(self):
        other = self.env["res.company"].create({"name": "VIP Survey Elsewhere"})
        # no company-bound target tiers: Odoo's own company check has nothing to refuse
        campaign = self.campaign.copy({"tier_ids": [(5, 0, 0)]})
        with self.assertRaisesRegex(AccessError, "Company"):
            campaign.with_user(self.survey_manager).write({"company_id": other.id})
        self.assertEqual(campaign.company_id, self.company)
