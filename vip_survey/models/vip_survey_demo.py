"""Demo data with dates relative to today, completed answers and translations,
which XML alone cannot express. Called once from demo/vip_survey_campaign_demo.xml."""

from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models

# Chinese titles of the demo survey, loaded when zh_CN is installed.
ZH_CN = {
    "vip_survey.survey_vip_nps": "VIP 客户满意度调查",
    "vip_survey.survey_vip_nps_q_recommend": "您有多大可能向朋友或同事推荐我们？",
    "vip_survey.survey_vip_nps_q_satisfaction": "总体而言，您对我们的服务满意吗？",
    "vip_survey.survey_vip_nps_q_comment": "我们可以在哪些方面做得更好？",
}
SCALE_LABELS_ZH = {
    "vip_survey.survey_vip_nps_q_recommend": ("完全不可能", "非常可能"),
    "vip_survey.survey_vip_nps_q_satisfaction": ("非常不满意", "非常满意"),
}


class VipSurveyCampaign(models.Model):
    _inherit = "vip.survey.campaign"

    @api.model
    def _load_demo_translations(self):
        """Chinese titles of the demo survey (only when Chinese is installed)."""
        if not self.env["res.lang"]._lang_get("zh_CN"):
            return
        env_zh = self.with_context(lang="zh_CN").env
        for xml_id, title in ZH_CN.items():
            record = env_zh.ref(xml_id, raise_if_not_found=False)
            if record:
                record.title = title
        for xml_id, (low, high) in SCALE_LABELS_ZH.items():
            record = env_zh.ref(xml_id, raise_if_not_found=False)
            if record:
                record.write({"scale_min_label": low, "scale_max_label": high})

    @api.model
    def _load_demo_data(self):
        """A half-yearly campaign run a month ago: a promoter, a passive and a detractor."""
        self._load_demo_translations()
        ref = self.env.ref
        campaign = ref("vip_survey.vip_survey_campaign_demo_half_yearly")
        env = self.env(context=dict(self.env.context, tracking_disable=True, mail_notrack=True))
        today = fields.Date.context_today(self)
        campaign = campaign.with_env(env)
        campaign.write(
            {
                "state": "running",
                "run_count": 1,
                "last_run_date": today - timedelta(days=30),
                "next_run_date": today - timedelta(days=30) + relativedelta(months=6),
            }
        )
        plan = [
            ("vip_customer.res_partner_vip_golden_dragon", 10, 9, "Excellent service, thank you."),
            ("vip_customer.res_partner_vip_jade_garden", 8, 7, "Good, delivery could be faster."),
            ("vip_customer.res_partner_vip_zhang_studio", 3, 2, "Three late deliveries in a row."),
            ("vip_customer.res_partner_vip_lin_mei", None, None, None),
        ]
        partners = [ref(xml_id, raise_if_not_found=False) for xml_id, *_rest in plan]
        if not all(partners):
            return
        invitations = campaign._create_invitations(
            env["res.partner"].browse([p.id for p in partners])
        )
        questions = {
            "nps": ref("vip_survey.survey_vip_nps_q_recommend"),
            "satisfaction": ref("vip_survey.survey_vip_nps_q_satisfaction"),
            "comment": ref("vip_survey.survey_vip_nps_q_comment"),
        }
        for invitation, (_xml_id, nps, satisfaction, comment) in zip(
            invitations, plan, strict=True
        ):
            if nps is None:
                continue  # invited, not answered yet
            invitation._save_lines(questions["nps"], str(nps))
            invitation._save_lines(questions["satisfaction"], str(satisfaction))
            invitation._save_lines(questions["comment"], comment)
        answered = invitations.filtered("user_input_line_ids")
        answered._mark_done()
        # answers were given about three weeks ago
        answered.write({"end_datetime": fields.Datetime.now() - timedelta(days=21)})
