"""Demo data with dates relative to today, completed answers and translations,
which XML alone cannot express. Called from demo/vip_survey_campaign_demo.xml; lives
here, in demo/, with the XML that calls it, not among the production models."""

from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import Command, api, fields, models

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
        """A year of answers: a half-yearly campaign run three times (the last run a
        month ago: a promoter, a passive, a detractor and one not answered yet) and a
        monthly pulse over the top tiers, whose satisfaction climbs to the target.

        Module updates and reinstalls run demo functions again: nothing is created
        twice (the answers go with their survey on uninstall, and the records made
        here that outlive the add-on's tables get an external id of this module).
        """
        self._load_demo_translations()
        ref = self.env.ref
        half_yearly = ref("vip_survey.vip_survey_campaign_demo_half_yearly")
        pulse = ref("vip_survey.vip_survey_campaign_demo_pulse")
        if half_yearly.user_input_ids or pulse.user_input_ids:
            return
        names = (
            "golden_dragon",
            "jade_garden",
            "zhang_studio",
            "lin_mei",
            "phoenix_hotel",
            "silk_road",
            "east_wind",
        )
        customers = {
            name: ref(f"vip_customer.res_partner_vip_{name}", raise_if_not_found=False)
            for name in names
        }
        if not all(customers.values()):
            return
        # no assignment mail for the demo's follow-up activities: a reinstall would
        # send the account manager a second one for the same customer
        env = self.env(
            context=dict(
                self.env.context,
                tracking_disable=True,
                mail_notrack=True,
                mail_activity_quick_update=True,
            )
        )
        today = fields.Date.context_today(self)
        # (days ago, customer, NPS 0-10, satisfaction 0-10, comment); NPS None: not answered
        half_yearly_runs = [
            (
                365,
                [
                    (350, "golden_dragon", 9, 8, None),
                    (345, "jade_garden", 7, 6, "Orders arrive late too often."),
                    (340, "phoenix_hotel", 8, 7, None),
                    (330, "silk_road", 9, 8, None),
                    (325, "east_wind", 7, 6, None),
                ],
            ),
            (
                183,
                [
                    (170, "golden_dragon", 10, 9, None),
                    (165, "jade_garden", 8, 7, None),
                    (160, "zhang_studio", 7, 6, "Prices went up."),
                    (150, "phoenix_hotel", 9, 8, None),
                    (140, "east_wind", 8, 7, None),
                ],
            ),
            (
                30,
                [
                    (21, "golden_dragon", 10, 9, "Excellent service, thank you."),
                    # answered this week: the passive's follow-up task (key moment)
                    (5, "jade_garden", 8, 7, "Good, delivery could be faster."),
                    (19, "zhang_studio", 3, 2, "Three late deliveries in a row."),
                    (30, "lin_mei", None, None, None),
                ],
            ),
        ]
        # the monthly pulse: two customers a month, satisfaction rising towards 85
        pulse_runs = [
            (
                30 * month + 5,
                [
                    (30 * month + 3, "golden_dragon", 9, 7 + (11 - month) // 4, None),
                    (
                        30 * month + 1,
                        "phoenix_hotel",
                        8 if month > 5 else 9,
                        6 + (11 - month) // 3,
                        None,
                    ),
                ],
            )
            for month in range(11, -1, -1)
        ]
        for campaign, runs in ((half_yearly, half_yearly_runs), (pulse, pulse_runs)):
            self._load_demo_runs(campaign.with_env(env), runs, customers, today)

        # the recovery ticket of the recent detractor outlives this add-on's tables:
        # an external id of this module removes it on uninstall
        tickets = env["vip.service.ticket"].search(
            [("vip_survey_campaign_id", "in", (half_yearly | pulse).ids)]
        )
        env["ir.model.data"].create(
            [
                {
                    "module": "vip_survey",
                    "name": f"vip_service_ticket_demo_recovery_{index}",
                    "model": "vip.service.ticket",
                    "res_id": ticket.id,
                    "noupdate": True,
                }
                for index, ticket in enumerate(tickets, start=1)
            ]
        )
        # the program KPIs were computed when vip_customer loaded its demo: again,
        # now that the answers (and their recovery tickets) exist
        env["vip.kpi.engine"]._load_demo_kpis(env.ref("base.main_company"))

    @api.model
    def _load_demo_runs(self, campaign, runs, customers, today):
        """The past runs of ``campaign``: invitations dated at each run, completed
        answers created as an import would create them (the completion hook
        classifies them and closes the loop; the key moments of the last days get
        their tasks)."""
        questions = {
            "nps": self.env.ref("vip_survey.survey_vip_nps_q_recommend"),
            "satisfaction": self.env.ref("vip_survey.survey_vip_nps_q_satisfaction"),
            "comment": self.env.ref("vip_survey.survey_vip_nps_q_comment"),
        }
        UserInput = self.env["survey.user_input"]
        now = fields.Datetime.now()
        vals_list = []
        for run, (run_days, answers) in enumerate(runs, start=1):
            for days, name, nps, satisfaction, comment in answers:
                partner = customers[name]
                vals = campaign._prepare_invitation_vals(partner)
                vals.update(
                    vip_campaign_run=run,
                    create_date=now - timedelta(days=run_days),
                )
                if nps is not None:
                    lines = [
                        UserInput._get_line_answer_values(questions["nps"], str(nps), "scale"),
                        UserInput._get_line_answer_values(
                            questions["satisfaction"], str(satisfaction), "scale"
                        ),
                    ]
                    if comment:
                        lines.append(
                            UserInput._get_line_answer_values(
                                questions["comment"], comment, "text_box"
                            )
                        )
                    vals.update(
                        state="done",
                        start_datetime=now - timedelta(days=days, minutes=5),
                        end_datetime=now - timedelta(days=days),
                        user_input_line_ids=[
                            Command.create({k: v for k, v in line.items() if k != "user_input_id"})
                            for line in lines
                        ],
                    )
                vals_list.append(vals)
        UserInput.with_env(campaign.env).create(vals_list)
        last_run_date = today - timedelta(days=runs[-1][0])
        months = campaign.interval_months
        next_run_date = last_run_date + relativedelta(months=months)
        while next_run_date <= today:
            next_run_date += relativedelta(months=months)
        campaign.write(
            {
                "state": "running",
                "run_count": len(runs),
                "last_run_date": last_run_date,
                "next_run_date": next_run_date,
            }
        )
