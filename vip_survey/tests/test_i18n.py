from odoo.tests import tagged

from .common import VipSurveyCommon


@tagged("post_install", "-at_install")
class TestStoredTextLanguage(VipSurveyCommon):
    """Text stored for people is written in its reader's language, not in the
    language of whoever triggered it (here: an English-speaking customer or user)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("zh_CN")
        cls.account_manager.lang = "zh_CN"
        cls.env_zh = cls.env(context=dict(cls.env.context, lang="zh_CN"))

    def _zh(self, source, **params):
        translated = self.env_zh._(source, **params)
        # the Chinese catalogue has the sentence, or this test proves nothing
        self.assertNotEqual(translated, source % params)
        return translated

    def test_passive_followup_summary_in_account_manager_language(self):
        """The passive follow-up is the key moment "Passive answer": its task reads in
        the account manager's language (the rule's translated summary) and quotes the
        score."""
        rule = self.company._vip_get_builtin_moment_rules("nps_passive")
        summary_zh = "被动者客户：询问怎样才能让他们推荐我们"
        rule.update_field_translations("activity_summary", {"zh_CN": summary_zh})
        partner = self._customer("Passive Co", vip_account_manager_id=self.account_manager.id)
        self._answer(partner, 8)
        activity = self.env["mail.activity"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", partner.id)]
        )
        self.assertEqual(activity.summary, summary_zh)
        self.assertIn("8/10", str(activity.note))

    def test_followup_survey_note_in_assignee_language(self):
        followup = self.env["survey.survey"].create({"title": "Fixed?", "access_mode": "token"})
        self.campaign.followup_survey_id = followup
        answer = self._answer(self.customer, 2)
        ticket = answer.sudo().vip_recovery_ticket_ids
        self.assertEqual(ticket.user_id, self.account_manager)
        ticket.write(
            {
                "root_cause_id": self.env.ref(
                    "vip_service_ticket.vip_service_root_cause_delivery"
                ).id,
                "solution": "<p>New courier.</p>",
                "stage_id": self.env.ref("vip_service_ticket.vip_service_stage_solved").id,
            }
        )
        expected = self._zh(
            "Follow-up survey %(survey)s sent to %(customer)s.",
            survey="Fixed?",
            customer=self.customer.display_name,
        )
        self.assertIn(expected, " ".join(str(body) for body in ticket.message_ids.mapped("body")))

    def test_recovery_ticket_in_customer_language_note_in_staff_language(self):
        """The ticket's title and description are the customer's (portal); the score
        and instructions are an internal note."""
        answer = self._answer(self.customer, 1, comment="Too slow")
        ticket = answer.sudo().vip_recovery_ticket_ids
        self.assertEqual(ticket.name, "Follow-up of your satisfaction survey")
        self.assertIn("Too slow", str(ticket.description))
        self.assertNotIn("1/10", str(ticket.description))
        note = ticket.message_ids.filtered(lambda m: "1/10" in str(m.body))
        self.assertEqual(len(note), 1)
        self.assertTrue(note.is_internal or note.subtype_id.internal)

    def test_churn_signal_labels_in_company_language(self):
        self.company.partner_id.lang = "zh_CN"
        self._answer(self.customer, 2)
        labels = [
            label
            for _points, label in self.Engine._get_churn_signals(
                self.company, [self.customer.id]
            ).get(self.customer.id, [])
        ]
        self.assertIn(self._zh("Detractor in the last survey (NPS %(score)s)", score=2), labels)
