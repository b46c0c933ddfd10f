from odoo import Command
from odoo.tests import new_test_user, tagged

from .common import VipSurveyCommon


@tagged("post_install", "-at_install")
class TestCompletion(VipSurveyCommon):
    """Answers completed without the survey's submit button (an import, a write of
    the state over RPC) are classified and close the loop like submitted ones."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.followup_type = cls.env.ref("vip_survey.mail_activity_type_vip_nps_followup")
        # imports answers with their lines: survey administrator and satisfaction manager
        cls.integrator = new_test_user(
            cls.env,
            login="vip_survey-integrator",
            groups="base.group_user,survey.group_survey_manager,"
            "vip_survey.group_vip_survey_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def _tickets(self, answers):
        return (
            self.env["vip.service.ticket"]
            .sudo()
            .with_context(active_test=False)
            .search([("vip_survey_answer_id", "in", answers.ids)])
        )

    def _followups(self, partners):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "in", partners.ids),
                ("activity_type_id", "=", self.followup_type.id),
            ]
        )

    def _line_vals(self, nps, satisfaction, comment=None):
        lines = [
            Command.create(
                {"question_id": self.q_nps.id, "answer_type": "scale", "value_scale": nps}
            ),
            Command.create(
                {
                    "question_id": self.q_satisfaction.id,
                    "answer_type": "scale",
                    "value_scale": satisfaction,
                }
            ),
        ]
        if comment:
            lines.append(
                Command.create(
                    {
                        "question_id": self.q_comment.id,
                        "answer_type": "text_box",
                        "value_text_box": comment,
                    }
                )
            )
        return lines

    def test_write_state_done_closes_the_loop(self):
        """write({'state': 'done'}) over RPC: NPS class, customer's last NPS, ticket."""
        answer = self._answer(self.customer, 2, satisfaction=1, comment="Never again", done=False)
        answer.with_user(self.survey_manager).write({"state": "done"})
        self.assertEqual(answer.vip_nps_class, "detractor")
        self.assertEqual(answer.vip_satisfaction_score, 0.0)
        self.assertEqual(self.customer.vip_nps_class, "detractor")
        self.assertEqual(self.customer.vip_nps_score, 2)
        ticket = self._tickets(answer)
        self.assertEqual(len(ticket), 1)
        self.assertEqual(ticket.user_id, self.account_manager)
        self.assertIn("Never again", str(ticket.description))
        self.assertEqual(self.campaign.detractor_count, 1)

    def test_create_done_answers_in_batch(self):
        """An import creates completed answers with their lines in one create()."""
        detractor = self._customer("Import Detractor")
        passive = self._customer("Import Passive", vip_account_manager_id=self.account_manager.id)
        promoter = self._customer("Import Promoter")
        answers = (
            self.env["survey.user_input"]
            .with_user(self.integrator)
            .create(
                [
                    {
                        "survey_id": self.survey.id,
                        "partner_id": partner.id,
                        "vip_campaign_id": self.campaign.id,
                        "state": "done",
                        "user_input_line_ids": self._line_vals(nps, satisfaction, comment),
                    }
                    for partner, nps, satisfaction, comment in (
                        (detractor, 4, 2, "Broken on arrival"),
                        (passive, 7, 4, None),
                        (promoter, 10, 5, None),
                    )
                ]
            )
        )
        self.assertEqual(answers.mapped("vip_nps_class"), ["detractor", "passive", "promoter"])
        self.assertEqual(answers.mapped("vip_satisfaction_score"), [25.0, 75.0, 100.0])
        self.assertEqual(
            (detractor | passive | promoter).mapped("vip_nps_class"),
            ["detractor", "passive", "promoter"],
        )
        ticket = self._tickets(answers)
        self.assertEqual(ticket.vip_survey_answer_id, answers[0])
        self.assertIn("Broken on arrival", str(ticket.description))
        self.assertEqual(len(self._followups(detractor | passive | promoter)), 1)
        self.assertEqual(self._followups(passive).user_id, self.account_manager)

    def test_submit_after_write_processes_once(self):
        """Completed by a write, then submitted again: one ticket, one activity."""
        detractor = self._answer(self.customer, 1, done=False)
        passive_partner = self._customer(
            "Passive Co", vip_account_manager_id=self.account_manager.id
        )
        passive = self._answer(passive_partner, 8, done=False)
        (detractor | passive).write({"state": "done"})
        (detractor | passive)._mark_done()
        (detractor | passive).write({"state": "done"})
        self.assertEqual(len(self._tickets(detractor)), 1)
        self.assertEqual(len(self._followups(passive_partner)), 1)

    def test_answer_not_of_a_campaign_untouched(self):
        answer = self.survey.sudo()._create_answer(partner=self.customer, check_attempts=False)
        answer._save_lines(self.q_nps, "1")
        answer.write({"state": "done"})
        self.assertFalse(answer.vip_nps_class)
        self.assertFalse(self._tickets(answer))

    def test_import_ties_a_completed_answer_to_a_campaign(self):
        """Completed first, tied to the campaign afterwards (two-step import)."""
        answer = self.survey.sudo()._create_answer(partner=self.customer, check_attempts=False)
        answer._save_lines(self.q_nps, "9")
        answer._save_lines(self.q_satisfaction, "5")
        answer._mark_done()
        answer.with_user(self.survey_manager).write({"vip_campaign_id": self.campaign.id})
        self.assertEqual(answer.vip_nps_class, "promoter")
        self.assertEqual(self.customer.vip_nps_class, "promoter")
