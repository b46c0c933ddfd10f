from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import VipSurveyCommon


@tagged("post_install", "-at_install")
class TestSecurity(VipSurveyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_customer = cls._customer("Other Customer")
        cls.portal_partner = cls._customer("Portal Customer")
        cls.portal_user = new_test_user(
            cls.env,
            login="vip_survey-portal",
            groups="base.group_portal",
            partner_id=cls.portal_partner.id,
        )

    def test_groups_chain(self):
        self.assertTrue(self.survey_user.has_group("vip_customer.group_vip_user"))
        self.assertTrue(self.survey_user.has_group("survey.group_survey_user"))
        self.assertTrue(self.survey_manager.has_group("vip_survey.group_vip_survey_user"))
        self.assertFalse(self.survey_user.has_group("vip_survey.group_vip_survey_manager"))

    def test_campaign_acl(self):
        # plain salespeople and VIP users without the satisfaction group see no campaign
        for user in (self.salesman, self.vip_user):
            with self.assertRaises(AccessError):
                self.campaign.with_user(user).read(["name"])
        # satisfaction users read, but do not change campaigns
        self.assertEqual(self.campaign.with_user(self.survey_user).name, self.campaign.name)
        with self.assertRaises(AccessError):
            self.campaign.with_user(self.survey_user).write({"name": "Changed"})
        with self.assertRaises(AccessError):
            self.campaign.with_user(self.survey_user).copy()
        with self.assertRaises(AccessError):
            self.campaign.with_user(self.survey_user).unlink()
        # managers run them
        campaign = self.campaign.with_user(self.survey_manager).copy({"name": "Managed"})
        campaign.with_user(self.survey_manager).action_start()
        self.assertEqual(campaign.state, "running")
        campaign.with_user(self.survey_manager).unlink()

    def test_campaign_company_rule(self):
        other_company = self.setup_other_company(name="Other Satisfaction Co")["company"]
        foreign = self.Campaign.create(
            {
                "name": "Foreign",
                "company_id": other_company.id,
                "survey_id": self.survey.id,
                "nps_question_id": self.q_nps.id,
                "satisfaction_source": "nps",
            }
        )
        self.assertNotIn(foreign, self.Campaign.with_user(self.survey_manager).search([]))
        with self.assertRaises(AccessError):
            foreign.with_user(self.survey_manager).read(["name"])

    def test_answer_company_rule(self):
        other_company = self.setup_other_company(name="Other Answers Co")["company"]
        foreign = self.Campaign.create(
            {
                "name": "Foreign",
                "company_id": other_company.id,
                "survey_id": self.survey.id,
                "nps_question_id": self.q_nps.id,
                "satisfaction_source": "nps",
            }
        )
        answer = self._answer(self.other_customer, 3, campaign=foreign)
        with self.assertRaises(AccessError):
            answer.with_user(self.survey_user).read(["vip_nps_score"])
        own = self._answer(self.customer, 9)
        self.assertEqual(own.with_user(self.survey_user).vip_nps_score, 9)

    def test_report_access_and_company_rule(self):
        self._answer(self.customer, 9)
        self.env.flush_all()
        Report = self.env["vip.satisfaction.report"]
        for user in (self.salesman, self.vip_user):
            with self.assertRaises(AccessError):
                Report.with_user(user).search([])
        self.assertTrue(Report.with_user(self.survey_user).search([]))
        other_company = self.setup_other_company(name="Other Report Co")["company"]
        outsider = new_test_user(
            self.env,
            login="vip_survey-outsider",
            groups="base.group_user,vip_survey.group_vip_survey_user",
            company_id=other_company.id,
            company_ids=[Command.set(other_company.ids)],
        )
        self.assertFalse(
            Report.with_user(outsider).search([("campaign_id", "=", self.campaign.id)])
        )

    def test_portal_customer_cannot_read_answers(self):
        own = self._answer(self.portal_partner, 8)
        others = self._answer(self.other_customer, 2, comment="Confidential complaint")
        for answer in (others, own):
            with self.assertRaises(AccessError):
                answer.with_user(self.portal_user).read(["vip_nps_score"])
        with self.assertRaises(AccessError):
            others.user_input_line_ids.with_user(self.portal_user).read(["value_text_box"])
        with self.assertRaises(AccessError):
            self.campaign.with_user(self.portal_user).read(["name"])
        with self.assertRaises(AccessError):
            self.env["vip.satisfaction.report"].with_user(self.portal_user).search([])

    def test_public_user_cannot_read_answers(self):
        public = self.env.ref("base.public_user")
        answer = self._answer(self.other_customer, 2)
        with self.assertRaises(AccessError):
            answer.with_user(public).read(["vip_nps_score"])

    def test_customer_cannot_change_own_nps(self):
        self._answer(self.portal_partner, 10)
        with self.assertRaises(AccessError):
            self.portal_partner.with_user(self.portal_user).write({"vip_nps_score": 10})
