from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.vip_survey.models import vip_survey_campaign_dispatch as dispatch

from .common import VipSurveyCommon


@tagged("post_install", "-at_install")
class TestCron(VipSurveyCommon):
    """The dispatch cron: one batch per call, an exact ``remaining``, buttons that
    hand the work to the cron instead of running it in the request."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.others = cls.env["res.partner"].browse(
            [cls._customer(f"Customer {i}", tier=cls.tier_c).id for i in range(5)]
        )
        cls.targets = cls.customer | cls.others
        cls.cron = cls.env.ref("vip_survey.ir_cron_vip_survey_dispatch")

    def _cron_call(self, batch_size=2, seconds=None):
        """One call of the cron as Odoo's runner makes it, with ``seconds`` of
        time budget (None: a server without limits, one batch); returns (done,
        remaining)."""
        progress = self.env["ir.cron.progress"].sudo().create({"cron_id": self.cron.id})
        with (
            patch.object(dispatch, "BATCH_SIZE", batch_size),
            patch.object(dispatch, "FIRST_BATCH_SIZE", 1),
            patch.object(type(self.env["ir.cron"]), "_vip_call_seconds", lambda cron: seconds),
        ):
            self.Campaign.with_context(ir_cron_progress_id=progress.id)._cron_dispatch()
        return progress.done, progress.remaining

    def test_a_call_works_by_its_time_budget(self):
        """Production mode: with time to spare a call invites batch after batch
        (one customer first, then up to the batch size) until the run is done;
        with hardly any it invites its first batch only, and reports the rest;
        with none it leaves the work to a new pass."""
        self.campaign.action_start()
        self.assertEqual(self._cron_call(seconds=1e-9), (1, 5))
        self.assertEqual(self._cron_call(seconds=0.0), (0, 0), "no time: left to a new pass")
        self.assertEqual(self._cron_call(seconds=600.0), (5, 0))
        self.assertFalse(self.campaign.run_in_progress)
        self.assertEqual(self.campaign.user_input_ids.partner_id, self.targets)
        self.assertEqual(len(self.campaign.user_input_ids), 6, "nobody invited twice")

    def _triggers(self):
        return self.env["ir.cron.trigger"].sudo().search([("cron_id", "=", self.cron.id)])

    def test_remaining_counts_across_calls(self):
        """Each call invites one batch and reports exactly the customers left (a
        customer surveyed recently by another campaign is not counted); the call
        that invites the last ones closes the run."""
        skipped = self.others[2]
        self.campaign.copy({"name": "Other campaign"})._create_invitations(skipped)
        self.campaign.action_start()
        self.assertEqual(self.campaign._count_pending_partners(), 5)
        self.assertEqual(self._cron_call(), (2, 3))
        self.assertTrue(self.campaign.run_in_progress)
        self.assertEqual(self._cron_call(), (2, 1))
        self.assertEqual(self._cron_call(), (1, 0))
        self.assertFalse(self.campaign.run_in_progress, "the last batch closes the run")
        self.assertIn("Run 1: invitations sent.", "".join(self.campaign.message_ids.mapped("body")))
        self.assertEqual(self._cron_call(), (0, 0))
        invitations = self.campaign.user_input_ids
        self.assertEqual(invitations.partner_id, self.targets - skipped)
        self.assertEqual(len(invitations), 5, "nobody invited twice")

    def test_remaining_counts_every_due_campaign(self):
        second = self.campaign.copy({"name": "Second campaign", "skip_days": 0})
        self.campaign.action_start()
        second.action_start()
        # 6 customers each; the first campaign's batch goes first
        self.assertEqual(self._cron_call(batch_size=4), (4, 8))
        self.assertEqual(self._cron_call(batch_size=4), (2, 6))
        self.assertEqual(self._cron_call(batch_size=4), (4, 2))
        self.assertEqual(self._cron_call(batch_size=4), (2, 0))
        self.assertEqual(second.user_input_ids.partner_id, self.targets)
        self.assertEqual(len(second.user_input_ids), 6)

    def test_send_now_hands_the_run_to_the_cron(self):
        """'Send now' used to create and mail every batch inside the request: it now
        starts the run, shows it in progress and triggers the cron."""
        self.campaign.action_start()
        self._triggers().unlink()
        self.assertTrue(self.campaign.action_send_now())
        self.assertFalse(self.campaign.user_input_ids, "nothing sent inside the request")
        self.assertTrue(self.campaign.run_in_progress)
        self.assertEqual(self.campaign.run_count, 1)
        self.assertTrue(self._triggers(), "the cron is asked to run")
        while self._cron_call()[1]:
            pass
        self.assertEqual(self.campaign.user_input_ids.partner_id, self.targets)
        self.assertFalse(self.campaign.run_in_progress)

    def test_send_now_twice_does_not_restart_the_run(self):
        self.campaign.action_start()
        self.campaign.action_send_now()
        self._cron_call()
        self.campaign.action_send_now()
        self.assertEqual(self.campaign.run_count, 1, "the run in progress goes on")
        while self._cron_call()[1]:
            pass
        invitations = self.campaign.user_input_ids
        self.assertEqual(len(invitations), 6, "one invitation per customer")
        self.assertEqual(invitations.partner_id, self.targets)

    def test_send_now_by_a_manager_runs_nothing_inline(self):
        self.campaign.action_start()
        self.campaign.with_user(self.survey_manager).action_send_now()
        self.assertTrue(self.campaign.run_in_progress)
        self.assertFalse(self.campaign.user_input_ids)

    def test_send_now_needs_write_access(self):
        """Hostile check: a read-only survey user pushed a running campaign's
        dispatch over RPC, a new cron trigger per call."""
        self.campaign.action_start()
        self.campaign.action_send_now()
        self._triggers().unlink()
        with self.assertRaises(AccessError):
            self.campaign.with_user(self.survey_user).action_send_now()
        self.assertFalse(self._triggers())

    def test_start_triggers_the_cron(self):
        self._triggers().unlink()
        self.campaign.action_start()
        self.assertTrue(self._triggers())
        self.assertFalse(self.campaign.user_input_ids)

    def test_archived_survey_holds_its_campaign_not_the_cron(self):
        """A campaign whose survey was archived after its start made every cron call
        fail (no answer can be created), holding back the other campaigns."""
        other_survey = self.survey.copy()
        other = self.campaign.copy(
            {
                "name": "Other campaign",
                "survey_id": other_survey.id,
                "nps_question_id": other_survey.question_ids.sorted("sequence")[:1].id,
                "satisfaction_question_id": other_survey.question_ids.sorted("sequence")[1].id,
                "skip_days": 0,
            }
        )
        self.campaign.skip_days = 0
        self.campaign.action_start()
        other.action_start()
        self.survey.active = False
        self.assertEqual(self._cron_call(batch_size=10), (6, 0))
        self.assertEqual(other.user_input_ids.partner_id, self.targets)
        self.assertFalse(self.campaign.user_input_ids)
        with self.assertRaisesRegex(UserError, "archived"):
            self.campaign.action_send_now()
        self.survey.active = True
        self.assertEqual(self._cron_call(batch_size=10), (6, 0), "the run goes on once restored")

    def test_cron_is_noupdate(self):
        """Admins may tune the cron's interval: module updates keep their change."""
        data = self.env["ir.model.data"].search(
            [("module", "=", "vip_survey"), ("name", "=", "ir_cron_vip_survey_dispatch")]
        )
        self.assertTrue(data.noupdate)
