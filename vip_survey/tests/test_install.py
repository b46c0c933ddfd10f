from dateutil.relativedelta import relativedelta
from lxml import etree

from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.vip_survey import uninstall_hook

from .common import VipSurveyCommon


@tagged("post_install", "-at_install")
class TestInstall(VipSurveyCommon):
    """Uninstall, reinstall and update: no ERROR, no orphan, no duplicate demo data;
    the analysis opens on something meaningful."""

    def test_uninstall_hook_frees_the_activity_type(self):
        """Open follow-ups of passive customers used to block the deletion of the
        "NPS Follow-up" type at uninstall (an ERROR in the log, the type left behind)."""
        partner = self._customer("Passive Co", vip_account_manager_id=self.account_manager.id)
        self._answer(partner, 7)
        activity_type = self.env.ref("vip_survey.mail_activity_type_vip_nps_followup")
        activities = self.env["mail.activity"].search([("activity_type_id", "=", activity_type.id)])
        self.assertTrue(activities)
        uninstall_hook(self.env)
        self.assertFalse(activities.exists())
        with mute_logger("odoo.sql_db"), self.cr.savepoint():
            activity_type.unlink()
        self.assertFalse(activity_type.exists())

    def test_demo_loader_creates_nothing_twice(self):
        """Module updates (and reinstalls, when the tables are still there) run the
        demo function again: no second set of answers, tickets or activities."""
        half_yearly = self.env.ref(
            "vip_survey.vip_survey_campaign_demo_half_yearly", raise_if_not_found=False
        )
        if not half_yearly:
            self.skipTest("no demo data")
        surveys = self.env.ref("vip_survey.survey_vip_nps")

        # sudo: the demo data is in the main company, the test user in another one
        env = self.env(su=True)

        def counts():
            return (
                env["survey.user_input"].search_count([("survey_id", "=", surveys.id)]),
                env["vip.service.ticket"]
                .with_context(active_test=False)
                .search_count([("vip_survey_answer_id", "!=", False)]),
                env["mail.activity"].search_count(
                    [
                        (
                            "activity_type_id",
                            "=",
                            self.env.ref("vip_survey.mail_activity_type_vip_nps_followup").id,
                        )
                    ]
                ),
            )

        before = counts()
        self.assertTrue(all(before), before)
        env["vip.survey.campaign"]._load_demo_data()
        self.assertEqual(counts(), before)
        # the demo recovery ticket belongs to this add-on: uninstall removes it
        ticket = env["vip.service.ticket"].search([("vip_survey_campaign_id", "=", half_yearly.id)])
        self.assertEqual(len(ticket), 1)
        self.assertEqual(ticket.get_external_id()[ticket.id].split(".")[0], "vip_survey")

    def test_demo_follow_ups_send_no_assignment_mail(self):
        """The uninstall removes the demo's follow-up activities but not the mails
        announcing them: a reinstall sent the account manager a second "assigned
        you" mail for the same customer. The demo's activities announce nothing."""
        if not self.env.ref(
            "vip_survey.vip_survey_campaign_demo_half_yearly", raise_if_not_found=False
        ):
            self.skipTest("no demo data")
        # sudo: the demo data is in the main company, the test user in another one
        env = self.env(su=True)
        followup = env.ref("vip_survey.mail_activity_type_vip_nps_followup")
        activities = env["mail.activity"].search([("activity_type_id", "=", followup.id)])
        self.assertTrue(activities)
        notifications = env["mail.message"].search(
            [
                ("message_type", "=", "user_notification"),
                ("model", "=", "res.partner"),
                ("res_id", "in", activities.mapped("res_id")),
            ]
        )
        summaries = set(activities.mapped("summary"))
        announced = [
            subject
            for subject in notifications.mapped("subject")
            if any(summary in subject for summary in summaries)
        ]
        self.assertFalse(announced)

    def test_demo_answers_give_a_trend_against_the_target(self):
        """The Satisfaction Analysis opens on the last 12 months by month, with the
        target and the gap beside the satisfaction; the demo data fills it."""
        if not self.env.ref(
            "vip_survey.vip_survey_campaign_demo_half_yearly", raise_if_not_found=False
        ):
            self.skipTest("no demo data")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_survey.vip_satisfaction_report_action"
        )
        self.assertIn("search_default_last_12_months", action["context"])
        self.assertTrue(action["view_mode"].startswith("pivot"))
        # sudo: the demo data is in the main company, the test user in another one
        Report = self.env["vip.satisfaction.report"].sudo()
        pivot = etree.fromstring(Report.get_view(view_type="pivot")["arch"])
        measures = [f.get("name") for f in pivot.iterfind(".//field[@type='measure']")]
        self.assertEqual(measures[:3], ["satisfaction", "target", "gap"])
        self.assertEqual(pivot.find(".//field[@type='row']").get("interval"), "month")
        since = (self.today - relativedelta(months=11)).replace(day=1)
        months = Report._read_group(
            [("date", ">=", since), ("satisfaction", "!=", False)],
            ["date:month"],
            ["satisfaction:avg", "target:avg"],
        )
        self.assertGreaterEqual(len(months), 10, "answers spread over the year")
        self.assertEqual({round(target) for _month, _sat, target in months}, {85})
        satisfaction = [sat for _month, sat, _target in months]
        self.assertLess(min(satisfaction), 85, "some months below target")
        self.assertGreaterEqual(max(satisfaction), 85, "some months on target")

    def test_demo_program_kpis_show_satisfaction_nps_and_complaints(self):
        """vip_customer computes the demo KPIs before the answers and tickets exist:
        they are computed again once they do, so a fresh demo database shows the
        satisfaction, NPS and complaint figures of the program."""
        if not self.env.ref(
            "vip_survey.vip_survey_campaign_demo_half_yearly", raise_if_not_found=False
        ):
            self.skipTest("no demo data")
        company = self.env.ref("base.main_company")
        # sudo: the demo data is in the main company, the test user in another one
        Period = self.env["vip.kpi.period"].sudo()
        months = Period.search([("company_id", "=", company.id), ("period_type", "=", "month")])
        self.assertGreaterEqual(len(months.filtered("has_satisfaction")), 6)
        self.assertTrue(months.filtered("has_nps"), "the NPS of some month")
        year = Period.search(
            [
                ("company_id", "=", company.id),
                ("period_type", "=", "year"),
                ("date_start", "=", self.today.replace(month=1, day=1)),
            ]
        )
        self.assertTrue(year.has_satisfaction and year.has_nps)
        facts = (
            self.env["vip.kpi.fact"]
            .sudo()
            .search([("company_id", "=", company.id), ("complaint_count", ">", 0)])
        )
        self.assertTrue(facts, "the demo complaints reach the facts")
