from datetime import timedelta

from odoo import Command
from odoo.tests import new_test_user, tagged

from odoo.addons.vip_survey.models.survey_user_input import nps_class

from .common import VipSurveyCommon


@tagged("post_install", "-at_install")
class TestNps(VipSurveyCommon):
    def test_class_boundaries(self):
        expected = {
            0: "detractor",
            6: "detractor",
            7: "passive",
            8: "passive",
            9: "promoter",
            10: "promoter",
        }
        for score, klass in expected.items():
            self.assertEqual(nps_class(score), klass, f"score {score}")
        self.assertFalse(nps_class(None))

    def test_answers_classified_at_boundaries(self):
        scores = {6: "detractor", 7: "passive", 8: "passive", 9: "promoter"}
        for score, klass in scores.items():
            partner = self._customer(f"Boundary {score}")
            answer = self._answer(partner, score)
            self.assertEqual(answer.vip_nps_score, score)
            self.assertEqual(answer.vip_nps_class, klass, f"score {score}")
            self.assertEqual(partner.vip_nps_class, klass)

    def test_satisfaction_scaled_to_100(self):
        answer = self._answer(self.customer, 9, satisfaction=4)
        # 1-5 scale: 4 is three quarters of the way
        self.assertEqual(answer.vip_satisfaction_score, 75.0)
        self.assertEqual(self.customer.vip_satisfaction_score, 75.0)
        self.assertEqual(self.customer.vip_nps_score, 9)
        self.assertEqual(self.customer.vip_nps_date, self.today)

    def test_satisfaction_from_nps(self):
        self.campaign.satisfaction_source = "nps"
        answer = self._answer(self.customer, 8)
        self.assertEqual(answer.vip_satisfaction_score, 80.0)

    def test_contact_answer_updates_account(self):
        contact = self.env["res.partner"].create(
            {"name": "Chen Wei", "email": "chen@example.com", "parent_id": self.customer.id}
        )
        self._answer(contact, 10)
        self.assertEqual(self.customer.vip_nps_class, "promoter")

    def test_campaign_nps(self):
        self._answer(self._customer("P1"), 10)
        self._answer(self._customer("P2"), 9)
        self._answer(self._customer("D1"), 2, satisfaction=1)
        self._answer(self._customer("Unanswered"), 5, done=False)
        campaign = self.campaign
        self.assertEqual(campaign.invited_count, 4)
        self.assertEqual(campaign.completed_count, 3)
        self.assertEqual(campaign.response_rate, 75.0)
        self.assertEqual(
            (campaign.promoter_count, campaign.passive_count, campaign.detractor_count), (2, 0, 1)
        )
        self.assertEqual(campaign.nps, 33.3)
        # satisfaction (75 + 75 + 0) / 3 is below the 85 target
        self.assertEqual(campaign.satisfaction_avg, 50.0)
        self.assertTrue(campaign.below_target)

    def test_test_entries_ignored(self):
        answer = self.survey.sudo()._create_answer(user=self.env.user, test_entry=True)
        answer._save_lines(self.q_nps, "2")
        answer._mark_done()
        self.assertFalse(answer.vip_nps_class)

    def test_merged_customers_keep_the_latest_nps(self):
        """Merging duplicates (Contacts > Merge) as a contact manager: the generic merge
        copies fields as the user, which the NPS fields refuse; the customer kept gets
        the latest NPS of the merged ones instead."""
        merger = new_test_user(
            self.env,
            login="vip_survey-merger",
            groups="base.group_user,base.group_partner_manager,vip_customer.group_vip_user",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        # not VIP customers: vip_customer's own engine fields are not the point here
        no_vip = {"vip_tier_id": False, "vip_company_id": False, "email": "dup@example.com"}
        kept = self._customer("Duplicate Co", **no_vip)
        merged = self._customer("Duplicate Co.", **no_vip)
        self._answer(kept, 9)
        # sudo: the answer of the customer kept is older
        kept.sudo().vip_nps_date = self.today - timedelta(days=30)
        self._answer(merged, 2)
        wizard = (
            self.env["base.partner.merge.automatic.wizard"]
            .with_user(merger)
            .create({"partner_ids": [Command.set((kept | merged).ids)], "dst_partner_id": kept.id})
        )
        wizard.action_merge()
        self.assertFalse(merged.exists())
        self.assertEqual(
            (kept.vip_nps_class, kept.vip_nps_score, kept.vip_nps_date),
            ("detractor", 2, self.today),
        )
