from odoo import Command
from odoo.tests import new_test_user

from odoo.addons.vip_customer.tests.common import VipCustomerCommon


class VipSurveyCommon(VipCustomerCommon):
    """Fixtures: an NPS survey (0-10 recommendation, 1-5 satisfaction, a comment),
    a half-yearly campaign over the A/B/C tiers, an account manager, a satisfaction
    user and a satisfaction manager; helpers to answer as a customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.groups_id = [
            Command.link(cls.env.ref("vip_survey.group_vip_survey_manager").id),
            Command.link(cls.env.ref("vip_service_ticket.group_vip_service_manager").id),
        ]
        cls.survey = cls.env["survey.survey"].create(
            {
                "title": "VIP Satisfaction",
                "access_mode": "token",
                "questions_layout": "one_page",
                "question_and_page_ids": [
                    Command.create(
                        {
                            "title": "How likely are you to recommend us?",
                            "question_type": "scale",
                            "scale_min": 0,
                            "scale_max": 10,
                            "constr_mandatory": True,
                            "sequence": 1,
                        }
                    ),
                    Command.create(
                        {
                            "title": "How satisfied are you?",
                            "question_type": "scale",
                            "scale_min": 1,
                            "scale_max": 5,
                            "constr_mandatory": True,
                            "sequence": 2,
                        }
                    ),
                    Command.create(
                        {"title": "Anything to add?", "question_type": "text_box", "sequence": 3}
                    ),
                ],
            }
        )
        cls.q_nps, cls.q_satisfaction, cls.q_comment = cls.survey.question_ids.sorted("sequence")
        cls.account_manager = new_test_user(
            cls.env,
            login="vip_survey-account-manager",
            groups="base.group_user,vip_customer.group_vip_user,"
            "vip_service_ticket.group_vip_service_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.survey_user = new_test_user(
            cls.env,
            login="vip_survey-user",
            groups="base.group_user,vip_survey.group_vip_survey_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.survey_manager = new_test_user(
            cls.env,
            login="vip_survey-manager",
            groups="base.group_user,vip_survey.group_vip_survey_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.customer.write(
            {
                "vip_tier_id": cls.tier_a.id,
                "vip_company_id": cls.company.id,
                "vip_account_manager_id": cls.account_manager.id,
            }
        )
        cls.Campaign = cls.env["vip.survey.campaign"]
        cls.campaign = cls.Campaign.create(
            {
                "name": "Half-yearly satisfaction",
                "company_id": cls.company.id,
                "survey_id": cls.survey.id,
                "nps_question_id": cls.q_nps.id,
                "satisfaction_source": "question",
                "satisfaction_question_id": cls.q_satisfaction.id,
                "tier_ids": [Command.set((cls.tier_a | cls.tier_b | cls.tier_c).ids)],
            }
        )

    @classmethod
    def _customer(cls, name, tier=None, **values):
        vals = {
            "name": name,
            "is_company": True,
            "email": f"{name.lower().replace(' ', '.')}@example.com",
            "vip_tier_id": (tier or cls.tier_b).id,
            "vip_company_id": cls.company.id,
        }
        vals.update(values)
        return cls.env["res.partner"].create(vals)

    def _answer(self, partner, nps, satisfaction=4, comment=None, campaign=None, done=True):
        """An invitation of ``partner`` answered (and submitted when ``done``)."""
        campaign = campaign or self.campaign
        # sudo: customers answer through the survey controller, which works in sudo
        answer = campaign._create_invitations(partner).sudo()
        answer._save_lines(self.q_nps, str(nps))
        answer._save_lines(self.q_satisfaction, str(satisfaction))
        if comment:
            answer._save_lines(self.q_comment, comment)
        if done:
            answer._mark_done()
        return answer
