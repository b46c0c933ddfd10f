"""Who may do what in vip_survey: one test per rule, each run as the user it denies.

=============================  ======  ========  ========  ============  ============  =========
model / fields                 portal  internal  VIP user  satisf. user  satisf. mgr   other co.
=============================  ======  ========  ========  ============  ============  =========
campaign                       -       -         -         read          CRUD          -
campaign run fields (state,    -       -         -         -             buttons only  -
run count, cursor, last run)
campaign answers               -       -         -         read, write   CRUD          -
answer NPS / satisfaction /    -       -         -         refused       refused       -
follow-up fields (derived)
answer's campaign link         -       -         -         refused       write         -
satisfaction analysis          -       -         -         read          read          -
customer NPS / satisfaction    -       -         read      read          read          n/a
(res.partner)                  (write refused to everyone: derived from the answers)
customer survey opt-out        -       read/wr.  read/wr.  read/wr.      read/wr.      n/a
ticket's detractor answer,     -       read      read      read          read          n/a
NPS, campaign, follow-ups      (the link is refused on create/write to everyone: derived)
=============================  ======  ========  ========  ============  ============  =========

"internal" is a plain employee (contacts and tickets, no VIP group); "other co." a
satisfaction manager of another company. The superuser (the completion hook, the
campaign dispatch) is the only writer of derived fields.
"""

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
        cls.internal_user = new_test_user(
            cls.env,
            login="vip_survey-internal",
            groups="base.group_user,base.group_partner_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.service_manager = new_test_user(
            cls.env,
            login="vip_survey-service-manager",
            groups="base.group_user,vip_service_ticket.group_vip_service_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.other_company = cls.setup_other_company(name="Other Satisfaction Co")["company"]
        cls.outsider = new_test_user(
            cls.env,
            login="vip_survey-outsider",
            groups="base.group_user,vip_survey.group_vip_survey_manager",
            company_id=cls.other_company.id,
            company_ids=[Command.set(cls.other_company.ids)],
        )
        cls.answer = cls._answer_class(cls.customer, 3, comment="Confidential complaint")
        cls.portal_answer = cls._answer_class(cls.portal_partner, 6)
        cls.ticket = (
            cls.env["vip.service.ticket"]
            .sudo()
            .search([("vip_survey_answer_id", "=", cls.portal_answer.id)])
        )
        cls.Report = cls.env["vip.satisfaction.report"]
        cls.env.flush_all()

    @classmethod
    def _answer_class(cls, partner, nps, comment=None):
        answer = cls.campaign._create_invitations(partner).sudo()
        answer._save_lines(cls.q_nps, str(nps))
        answer._save_lines(cls.q_satisfaction, "2")
        if comment:
            answer._save_lines(cls.q_comment, comment)
        answer._mark_done()
        return answer.sudo(False)

    def test_groups_chain(self):
        self.assertTrue(self.survey_user.has_group("vip_customer.group_vip_user"))
        self.assertTrue(self.survey_user.has_group("survey.group_survey_user"))
        self.assertTrue(self.survey_manager.has_group("vip_survey.group_vip_survey_user"))
        self.assertFalse(self.survey_user.has_group("vip_survey.group_vip_survey_manager"))

    # ------------------------------------------------------------------
    # Campaign
    # ------------------------------------------------------------------
    def test_campaign_read_denied_without_satisfaction_group(self):
        for user in (self.portal_user, self.internal_user, self.salesman, self.vip_user):
            with self.subTest(user=user.sudo().login), self.assertRaises(AccessError):
                self.campaign.with_user(user).read(["name"])

    def test_campaign_read_by_satisfaction_user(self):
        self.assertEqual(self.campaign.with_user(self.survey_user).name, self.campaign.name)

    def test_campaign_counters_for_satisfaction_user_without_ticket_access(self):
        """The campaign list computes the recovery count: a satisfaction user who
        cannot read tickets sees the answers' counters, and no ticket."""
        campaign = self.campaign.with_user(self.survey_user)
        self.assertEqual((campaign.invited_count, campaign.detractor_count), (2, 2))
        self.assertEqual(campaign.ticket_count, 0)
        self.assertEqual(self.campaign.ticket_count, 2)

    def test_campaign_create_denied_to_satisfaction_user(self):
        with self.assertRaises(AccessError):
            self.campaign.with_user(self.survey_user).copy()

    def test_campaign_write_denied_to_satisfaction_user(self):
        with self.assertRaises(AccessError):
            self.campaign.with_user(self.survey_user).write({"name": "Changed"})

    def test_campaign_buttons_denied_to_satisfaction_user(self):
        for action in ("action_start", "action_done", "action_reset_draft"):
            with self.subTest(action=action), self.assertRaises(AccessError):
                getattr(self.campaign.with_user(self.survey_user), action)()

    def test_campaign_unlink_denied_to_satisfaction_user(self):
        with self.assertRaises(AccessError):
            self.campaign.with_user(self.survey_user).unlink()

    def test_campaign_crud_by_manager(self):
        campaign = self.campaign.with_user(self.survey_manager).copy({"name": "Managed"})
        campaign.write({"satisfaction_target": 90})
        campaign.action_start()
        self.assertEqual(campaign.state, "running")
        campaign.unlink()
        self.assertFalse(campaign.exists())

    def test_campaign_run_fields_refused_to_manager(self):
        """State and run bookkeeping change through the buttons and the dispatch only:
        a manager cannot start a campaign past its checks nor rewind its run."""
        campaign = self.campaign.with_user(self.survey_manager)
        for vals in (
            {"state": "running"},
            {"run_count": 5},
            {"run_cursor": 0},
            {"run_in_progress": True},
            {"last_run_date": self.today},
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                campaign.write(vals)
        with self.assertRaises(AccessError):
            campaign.create(
                {
                    "name": "Born running",
                    "survey_id": self.survey.id,
                    "nps_question_id": self.q_nps.id,
                    "satisfaction_source": "nps",
                    "state": "running",
                }
            )
        self.assertEqual(self.campaign.state, "draft")

    def test_campaign_counters_refused_to_everyone(self):
        """Counters are computed from the answers: a write is refused, not kept in the
        request's cache and silently dropped."""
        for vals in ({"ticket_count": 99}, {"nps": 100.0}, {"invited_count": 0}):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                self.campaign.with_user(self.survey_manager).write(vals)
        self.assertEqual(self.campaign.nps, -100.0)

    def test_campaign_other_company_denied(self):
        self.assertNotIn(self.campaign, self.Campaign.with_user(self.outsider).search([]))
        with self.assertRaises(AccessError):
            self.campaign.with_user(self.outsider).read(["name"])

    # ------------------------------------------------------------------
    # Campaign answers (survey.user_input)
    # ------------------------------------------------------------------
    def test_answer_read_denied_to_portal_public_and_non_survey_users(self):
        public = self.env.ref("base.public_user")
        for user in (public, self.portal_user, self.internal_user, self.vip_user):
            for answer in (self.answer, self.portal_answer):
                with self.subTest(user=user.sudo().login), self.assertRaises(AccessError):
                    answer.with_user(user).read(["vip_nps_score"])
        with self.assertRaises(AccessError):
            self.answer.user_input_line_ids.with_user(self.portal_user).read(["value_text_box"])

    def test_answer_read_by_satisfaction_user(self):
        self.assertEqual(self.answer.with_user(self.survey_user).vip_nps_score, 3)

    def test_answer_derived_fields_refused_to_everyone(self):
        for user in (self.survey_user, self.survey_manager):
            for vals in (
                {"vip_nps_score": 10},
                {"vip_nps_class": "promoter"},
                {"vip_satisfaction_score": 100},
                {"vip_company_id": self.other_company.id},
                {"vip_commercial_partner_id": self.other_customer.id},
            ):
                with (
                    self.subTest(user=user.sudo().login, vals=vals),
                    self.assertRaises(AccessError),
                ):
                    self.answer.with_user(user).write(vals)
        with self.assertRaises(AccessError):
            self.env["survey.user_input"].with_user(self.survey_manager).create(
                {"survey_id": self.survey.id, "vip_nps_class": "promoter"}
            )
        self.assertEqual(self.answer.vip_nps_class, "detractor")
        self.assertEqual(self.campaign.company_id, self.company)

    def test_answer_campaign_link_refused_to_satisfaction_user(self):
        other = self.campaign.copy({"name": "Other run"})
        with self.assertRaises(AccessError):
            self.answer.with_user(self.survey_user).write({"vip_campaign_id": other.id})
        with self.assertRaises(AccessError):
            self.env["survey.user_input"].with_user(self.survey_user).create(
                {"survey_id": self.survey.id, "vip_campaign_id": self.campaign.id}
            )

    def test_answer_campaign_link_by_manager(self):
        answer = (
            self.env["survey.user_input"]
            .with_user(self.survey_manager)
            .create({"survey_id": self.survey.id, "vip_campaign_id": self.campaign.id})
        )
        self.assertEqual(answer.vip_campaign_id, self.campaign)

    def test_answer_unlink_denied_to_satisfaction_user(self):
        with self.assertRaises(AccessError):
            self.answer.with_user(self.survey_user).unlink()
        self.portal_answer.with_user(self.survey_manager).unlink()
        self.assertFalse(self.portal_answer.exists())

    def test_answer_other_company_denied(self):
        with self.assertRaises(AccessError):
            self.answer.with_user(self.outsider).read(["vip_nps_score"])

    # ------------------------------------------------------------------
    # Satisfaction analysis
    # ------------------------------------------------------------------
    def test_report_denied_without_satisfaction_group(self):
        for user in (self.portal_user, self.internal_user, self.salesman, self.vip_user):
            with self.subTest(user=user.sudo().login), self.assertRaises(AccessError):
                self.Report.with_user(user).search([])

    def test_report_read_by_satisfaction_user(self):
        self.assertTrue(
            self.Report.with_user(self.survey_user).search([("campaign_id", "=", self.campaign.id)])
        )

    def test_report_is_read_only(self):
        row = self.Report.search([("campaign_id", "=", self.campaign.id)], limit=1)
        with self.assertRaises(AccessError):
            row.with_user(self.survey_manager).write({"satisfaction": 100})
        with self.assertRaises(AccessError):
            row.with_user(self.survey_manager).unlink()

    def test_report_other_company_denied(self):
        self.assertFalse(
            self.Report.with_user(self.outsider).search([("campaign_id", "=", self.campaign.id)])
        )

    # ------------------------------------------------------------------
    # Customer fields (res.partner)
    # ------------------------------------------------------------------
    def test_customer_nps_unreadable_by_own_portal_user(self):
        """The customer's portal user reads their own partner, not its analytics."""
        partner = self.portal_partner.with_user(self.portal_user)
        self.assertEqual(partner.read(["name"])[0]["name"], self.portal_partner.name)
        for fname in (
            "vip_nps_score",
            "vip_nps_date",
            "vip_nps_class",
            "vip_satisfaction_score",
            "vip_satisfaction_count",
            "vip_survey_opt_out",
        ):
            with self.subTest(field=fname), self.assertRaises(AccessError):
                partner.read([fname])
        with self.assertRaises(AccessError):
            partner.search([("vip_nps_class", "=", "detractor")])

    def test_customer_nps_unreadable_without_vip_group(self):
        for fname in ("vip_nps_score", "vip_nps_class", "vip_satisfaction_score"):
            with self.subTest(field=fname), self.assertRaises(AccessError):
                self.customer.with_user(self.internal_user).read([fname])

    def test_customer_nps_read_by_vip_user(self):
        self.assertEqual(self.customer.with_user(self.vip_user).vip_nps_class, "detractor")

    def test_customer_nps_write_refused_to_everyone(self):
        for user in (self.vip_manager, self.survey_manager, self.internal_user):
            for vals in (
                {"vip_nps_score": 10},
                {"vip_nps_class": "promoter"},
                {"vip_nps_date": self.today},
                {"vip_satisfaction_score": 100},
            ):
                with (
                    self.subTest(user=user.sudo().login, vals=vals),
                    self.assertRaises(AccessError),
                ):
                    self.customer.with_user(user).write(vals)
        with self.assertRaises(AccessError):
            self.env["res.partner"].with_user(self.survey_manager).create(
                {"name": "Self-made promoter", "vip_nps_class": "promoter"}
            )
        self.assertEqual(self.customer.vip_nps_class, "detractor")

    def test_customer_opt_out_by_internal_user(self):
        self.other_customer.with_user(self.internal_user).vip_survey_opt_out = True
        self.assertTrue(self.other_customer.vip_survey_opt_out)

    # ------------------------------------------------------------------
    # Recovery tickets (vip.service.ticket)
    # ------------------------------------------------------------------
    def test_ticket_survey_fields_unreadable_by_portal(self):
        """The customer reads their recovery ticket on the portal, not their score."""
        self.assertTrue(self.ticket)
        ticket = self.ticket.with_user(self.portal_user)
        self.assertTrue(ticket.read(["name"]))
        for fname in (
            "vip_survey_answer_id",
            "vip_survey_nps_score",
            "vip_survey_campaign_id",
            "vip_followup_answer_ids",
        ):
            with self.subTest(field=fname), self.assertRaises(AccessError):
                ticket.read([fname])
        # nor does its title or description give the score or the NPS vocabulary away
        text = f"{ticket.name} {ticket.description}"
        self.assertNotIn("6/10", text)
        self.assertNotIn("NPS", text)
        self.assertNotIn("etractor", text)

    def test_ticket_recovery_link_refused_to_everyone(self):
        Ticket = self.env["vip.service.ticket"]
        # a service manager may write and create any ticket, but not this link
        manager = self.service_manager
        self.ticket.with_user(manager).write({"priority": "3"})
        for vals in (
            {"vip_survey_answer_id": self.answer.id},
            {"vip_survey_campaign_id": False},
            {"vip_survey_nps_score": 10},
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                self.ticket.with_user(manager).write(vals)
        with self.assertRaises(AccessError):
            Ticket.with_user(manager).create(
                Ticket._prepare_ticket_vals(self.customer, vip_survey_answer_id=self.answer.id)
            )
        self.assertEqual(self.ticket.vip_survey_answer_id, self.portal_answer)
        self.assertEqual(self.ticket.vip_survey_campaign_id, self.campaign)
        self.assertEqual(self.portal_answer.vip_campaign_id, self.campaign)
