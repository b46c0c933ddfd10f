from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from .common import VipSurveyCommon


@tagged("post_install", "-at_install")
class TestCampaign(VipSurveyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.others = cls.env["res.partner"].browse(
            [cls._customer(f"Customer {i}", tier=cls.tier_c).id for i in range(5)]
        )
        cls.targets = cls.customer | cls.others

    def _invited(self, campaign=None):
        return (campaign or self.campaign).user_input_ids.partner_id

    def _run_all(self, campaign=None, batch_size=1000):
        campaign = campaign or self.campaign
        batches = []
        while invitations := campaign._dispatch_batch(batch_size=batch_size):
            batches.append(invitations)
        return batches

    def test_start_requires_targets(self):
        campaign = self.campaign.copy({"tier_ids": [Command.clear()]})
        with self.assertRaisesRegex(UserError, campaign.name):
            campaign.action_start()

    def test_start_refuses_a_survey_requiring_a_login(self):
        """Customers answer by their invitation link, most without a user: the old
        check compared the survey's access mode with a value Odoo 18 no longer has."""
        self.survey.users_login_required = True
        with self.assertRaisesRegex(UserError, "open to invited customers"):
            self.campaign.action_start()
        self.assertEqual(self.campaign.state, "draft")

    def test_nps_question_must_be_0_10_scale(self):
        with self.assertRaises(ValidationError):
            self.campaign.nps_question_id = self.q_satisfaction

    def test_onchange_survey_picks_nps_question(self):
        with Form(self.Campaign) as form:
            form.name = "New"
            form.survey_id = self.survey
            self.assertEqual(form.nps_question_id, self.q_nps)
            form.satisfaction_source = "nps"

    def test_batches_and_tokens(self):
        self.campaign.action_start()
        batches = self._run_all(batch_size=2)
        self.assertEqual([len(b) for b in batches], [2, 2, 2])
        invitations = self.campaign.user_input_ids
        self.assertEqual(invitations.partner_id, self.targets)
        self.assertEqual(len(set(invitations.mapped("access_token"))), 6, "one token each")
        self.assertTrue(all(i.state == "new" and i.deadline for i in invitations))
        mails = self.env["mail.mail"].search(
            [("model", "=", "survey.user_input"), ("res_id", "in", invitations.ids)]
        )
        self.assertEqual(len(mails), 6, "one invitation mail per customer")
        self.assertIn(invitations[0].access_token, "".join(mails.mapped("body_html")))
        self.assertFalse(self.campaign.run_in_progress)
        self.assertEqual(self.campaign.last_run_date, self.today)
        self.assertEqual(self.campaign.next_run_date, self.today + relativedelta(months=6))

    def test_cron_dispatch(self):
        self.campaign.action_start()
        for _i in range(3):
            self.Campaign._cron_dispatch()
        self.assertEqual(self._invited(), self.targets)
        self.assertEqual(self.campaign.invited_count, 6)

    def test_archived_target_tier_stays_the_target(self):
        """A tier archived while its campaign runs still limits the campaign to its
        customers: the campaign never widens to every customer with an e-mail."""
        outsider = self._customer("Outsider", vip_tier_id=False)
        campaign = self.campaign.copy({
            "name": "Tier C only", "tier_ids": [Command.set(self.tier_c.ids)],
        })
        campaign.action_start()
        self.tier_c.active = False
        self.assertEqual(campaign.tier_ids, self.tier_c, "the form still shows the tier")
        self.assertEqual(campaign._count_pending_partners(), len(self.others))
        self._run_all(campaign)
        self.assertEqual(self._invited(campaign), self.others)
        self.assertNotIn(outsider, self._invited(campaign))

    def test_running_campaign_never_loses_its_targets(self):
        """A running campaign keeps target tiers or a filter: clearing them is
        refused, a targeted tier cannot be deleted, and a campaign whose tiers the
        database dropped anyway invites nobody, never every customer."""
        tier_d = self.env["vip.tier"].create({
            "name": "D - Empty", "code": "D", "level": 97, "company_id": self.company.id,
            "min_spend": 10_000_000,
        })
        campaign = self.campaign.copy({
            "name": "Tier D only", "tier_ids": [Command.set(tier_d.ids)],
        })
        campaign.action_start()
        with self.assertRaisesRegex(UserError, "target of the running survey campaign"):
            tier_d.unlink()
        with self.assertRaisesRegex(ValidationError, "needs target tiers or a customer filter"):
            campaign.write({"tier_ids": [Command.clear()]})
        # the relation row gone as the database's cascade would drop it
        self.env.cr.execute(
            "DELETE FROM vip_survey_campaign_vip_tier_rel WHERE vip_survey_campaign_id = %s",
            [campaign.id],
        )
        campaign.invalidate_recordset(["tier_ids"])
        self.assertFalse(campaign.tier_ids)
        self.assertEqual(campaign._count_pending_partners(), 0)
        self.assertFalse(self._run_all(campaign), "nobody invited")
        # a draft may be emptied; starting it is refused (action_start)
        draft = self.campaign.copy({"name": "Draft"})
        draft.write({"tier_ids": [Command.clear()]})
        with self.assertRaises(UserError):
            draft.action_start()

    def test_draft_and_future_campaigns_wait(self):
        self.Campaign._cron_dispatch()
        self.assertFalse(self.campaign.user_input_ids)
        self.campaign.action_start()
        self.campaign.next_run_date = self.today + relativedelta(days=3)
        self.Campaign._cron_dispatch()
        self.assertFalse(self.campaign.user_input_ids)

    def test_exclusions(self):
        opted_out = self._customer("Opted Out", vip_survey_opt_out=True)
        no_care = self._customer("No Care", vip_care_opt_out=True)
        no_email = self._customer("No Email", email=False)
        no_tier = self._customer("No Tier", vip_tier_id=False)
        recent = self._customer("Recent")
        other = self.campaign.copy({"name": "Other campaign"})
        other._create_invitations(recent)
        self.campaign.action_start()
        self._run_all()
        invited = self._invited()
        self.assertEqual(invited, self.targets)
        for partner in (opted_out, no_care, no_email, no_tier, recent):
            self.assertNotIn(partner, invited, partner.name)

    def test_care_opt_out_optional(self):
        no_care = self._customer("No Care", vip_care_opt_out=True)
        self.campaign.skip_care_opt_out = False
        self.campaign.action_start()
        self._run_all()
        self.assertIn(no_care, self._invited())

    def test_partner_domain_filter(self):
        self.campaign.write(
            {
                "tier_ids": [Command.clear()],
                "partner_domain": f"[('id', 'in', {self.others[:2].ids})]",
            }
        )
        self.campaign.action_start()
        self._run_all()
        self.assertEqual(self._invited(), self.others[:2])

    def test_invalid_partner_domain(self):
        with self.assertRaisesRegex(ValidationError, "customer filter"):
            self.campaign.partner_domain = "[('no_such_field', '=', 1)]"

    def test_recurrence(self):
        self.campaign.action_start()
        self._run_all()
        self.assertEqual(self.campaign.run_count, 1)
        # nothing to do before the next run date
        with freeze_time(self.today + relativedelta(months=3)):
            self.assertFalse(self.campaign._dispatch_batch())
        with freeze_time(self.today + relativedelta(months=6)):
            self._run_all()
        self.assertEqual(self.campaign.run_count, 2)
        self.assertEqual(len(self.campaign.user_input_ids), 12, "everybody asked again")
        self.assertEqual(self.campaign.next_run_date, self.today + relativedelta(months=12))

    def test_recent_answers_skip_next_run_within_skip_days(self):
        self.campaign.write({"interval_months": 1, "skip_days": 60})
        self.campaign.action_start()
        self._run_all()
        with freeze_time(self.today + relativedelta(months=1)):
            self._run_all()
        self.assertEqual(len(self.campaign.user_input_ids), 6, "surveyed a month ago: skipped")

    def test_one_shot(self):
        self.campaign.recurrence = "once"
        self.campaign.action_start()
        self._run_all()
        self.assertEqual(self.campaign.state, "done")
        self.assertFalse(self.campaign.next_run_date)

    def test_send_now(self):
        self.campaign.action_start()
        self.campaign.action_send_now()
        self.Campaign._cron_dispatch()
        self.assertEqual(self._invited(), self.targets)
        with self.assertRaisesRegex(UserError, self.campaign.name):
            self.campaign.copy().action_send_now()

    def test_batches_stay_full_past_skipped_customers(self):
        """A skipped customer inside a batch is replaced by the next one: batches stay
        full and nobody is invited twice."""
        skipped = self.others[1]
        self.campaign.copy({"name": "Other campaign"})._create_invitations(skipped)
        self.campaign.action_start()
        batches = self._run_all(batch_size=2)
        self.assertEqual([len(b) for b in batches], [2, 2, 1])
        self.assertEqual(self._invited(), self.targets - skipped)
        self.assertEqual(len(self.campaign.user_input_ids), 5)

    def test_invited_in_run_beyond_cursor_not_invited_again(self):
        self.campaign.action_start()
        first = self.campaign._dispatch_batch(batch_size=1)
        self.assertEqual(len(first), 1)
        # invited by hand during the run, ahead of the dispatch
        self.campaign._create_invitations(self.others[-1])
        self._run_all(batch_size=2)
        invitations = self.campaign.user_input_ids
        self.assertEqual(invitations.partner_id, self.targets)
        self.assertEqual(len(invitations), 6, "one invitation per customer and run")
        self.assertEqual(set(invitations.mapped("vip_campaign_run")), {1})
