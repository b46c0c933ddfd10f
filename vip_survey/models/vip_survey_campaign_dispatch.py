"""The runs of a satisfaction campaign: who is invited, when, and how.

A run picks the campaign's customers (tiers and/or a customer filter), skips the
ones surveyed recently or who opted out, and creates one Odoo survey answer (with
its own access token) per customer through ``survey.user_input.create``, one
bounded batch per call of the cron; each batch is mailed with the campaign's
invitation template. Buttons never run the batches themselves: they start the run
and trigger the cron, which commits between batches.
"""

import logging
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL

from .vip_survey_campaign import reader_lang

_logger = logging.getLogger(__name__)

# Invitations created (and mailed) per batch: one cron call handles one batch.
BATCH_SIZE = 1000
# the first batch of a call under a time limit (see ir.cron._vip_call_budget)
FIRST_BATCH_SIZE = 20


class VipSurveyCampaign(models.Model):
    # the campaign's runs, split from its definition on purpose (one concern per file)
    _inherit = "vip.survey.campaign"  # pylint: disable=consider-merging-classes-inherited

    # ------------------------------------------------------------------
    # Actions of the run
    # ------------------------------------------------------------------
    def action_start(self):
        """Start the campaign: the cron sends its first invitations on the next run date."""
        today = fields.Date.context_today(self)
        for campaign in self:
            if campaign.state != "draft":
                raise UserError(
                    self.env._(
                        "Campaign %(campaign)s is already started.", campaign=campaign.display_name
                    )
                )
            if not campaign._has_targets():
                raise UserError(
                    self.env._(
                        "Campaign %(campaign)s: choose target tiers or a customer filter before "
                        "starting it.",
                        campaign=campaign.display_name,
                    )
                )
            # customers open their invitation by its link, most without a user: a survey
            # requiring a login would stop them at the login page
            if not campaign.survey_id.active or campaign.survey_id.users_login_required:
                raise UserError(
                    self.env._(
                        "Campaign %(campaign)s: the survey %(survey)s must be active and open "
                        "to invited customers.",
                        campaign=campaign.display_name,
                        survey=campaign.survey_id.display_name,
                    )
                )
        self._write_run_state({"state": "running"})
        for campaign in self.filtered(lambda c: not c.next_run_date or c.next_run_date < today):
            campaign.next_run_date = today
        self._trigger_dispatch()
        return True

    def action_send_now(self):
        """Start the run now instead of on its next run date and hand it to the cron.

        The invitations are created and mailed by the cron, one batch per call with a
        commit in between, not inside this request (tens of thousands of customers
        would not fit in one). The campaign shows the run in progress meanwhile; a run
        already in progress is only pushed again, never restarted (nobody is invited
        twice in a run).
        """
        self.ensure_one()
        # sending is changing the campaign: readers may not, even while a run goes on
        self.check_access("write")
        if self.state != "running":
            raise UserError(
                self.env._(
                    "Campaign %(campaign)s must be running to send invitations.",
                    campaign=self.display_name,
                )
            )
        if not self.survey_id.active:
            raise UserError(
                self.env._(
                    "Campaign %(campaign)s: the survey %(survey)s is archived; restore it "
                    "to send invitations.",
                    campaign=self.display_name,
                    survey=self.survey_id.display_name,
                )
            )
        if not self.run_in_progress:
            # the next run is counted from today, as for a run started by its date
            self.next_run_date = fields.Date.context_today(self)
            self._start_run()
        self._trigger_dispatch()
        return True

    def _trigger_dispatch(self):
        """Ask Odoo's cron runner to run the dispatch as soon as it can."""
        cron = self.env.ref("vip_survey.ir_cron_vip_survey_dispatch", raise_if_not_found=False)
        return cron._trigger() if cron else self.env["ir.cron.trigger"]

    # ------------------------------------------------------------------
    # Targets
    # ------------------------------------------------------------------
    def _get_target_domain(self):
        """Domain of the customers this campaign invites (hook: add conditions).

        Exclusions that depend on past answers (recently surveyed, already invited in
        this run) are applied in SQL by :meth:`_get_excluded_answer_condition`.
        """
        self.ensure_one()
        domain = [
            ("active", "=", True),
            ("email", "!=", False),
            ("vip_survey_opt_out", "=", False),
            ("company_id", "in", [False, self.company_id.id]),
        ]
        if self.skip_care_opt_out:
            domain.append(("vip_care_opt_out", "=", False))
        if self.tier_ids:
            domain.append(("vip_tier_id", "in", self.tier_ids.ids))
        elif not self._has_targets():
            # its tiers gone (deleted with the database's cascade): nobody, never everyone
            return expression.FALSE_DOMAIN
        return domain + self._get_partner_domain_filter()

    def _get_target_partner_ids(self, after=0, limit=None):
        """Ids of the target customers after the id ``after``, in id order (keyset
        pagination: one index range scan, bounded by ``limit``)."""
        self.ensure_one()
        Partner = self.env["res.partner"].with_context(active_test=False)
        query = Partner._search(
            self._get_target_domain() + [("id", ">", after)], order="id", limit=limit
        )
        return [row[0] for row in self.env.execute_query(query.select())]

    def _get_excluded_answer_condition(self, alias):
        """SQL condition on the survey answer ``alias`` that excludes its customer
        from the current run: invited already in this run, or surveyed by any VIP
        campaign during the last ``skip_days`` days. The one definition used to pick
        a batch and to count the customers left."""
        self.ensure_one()
        self.env["survey.user_input"].flush_model(
            ["partner_id", "vip_campaign_id", "vip_campaign_run", "create_date"]
        )
        # before its first batch, the run about to start has no invitation yet
        run = self.run_count if self.run_in_progress else self.run_count + 1
        skip = SQL("FALSE")
        if self.skip_days:
            since = fields.Datetime.now() - timedelta(days=self.skip_days)
            skip = SQL("%s >= %s", SQL.identifier(alias, "create_date"), since)
        return SQL(
            "%(campaign_col)s IS NOT NULL AND ((%(campaign_col)s = %(campaign)s "
            "AND %(run_col)s = %(run)s) OR %(skip)s)",
            campaign_col=SQL.identifier(alias, "vip_campaign_id"),
            run_col=SQL.identifier(alias, "vip_campaign_run"),
            campaign=self.id,
            run=run,
            skip=skip,
        )

    def _get_excluded_partner_ids(self, partner_ids):
        """Those of ``partner_ids`` excluded from the current run (see
        :meth:`_get_excluded_answer_condition`).

        ``partner_ids`` is a chunk of customer ids in ascending order: one range scan
        of the partner_id index over the chunk, whatever the number of invitations
        sent before (the result may hold other customers of the range).
        """
        self.ensure_one()
        if not partner_ids:
            return set()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT ui.partner_id
                  FROM survey_user_input ui
                 WHERE ui.partner_id BETWEEN %(first)s AND %(last)s AND %(excluded)s
                """,
                first=min(partner_ids),
                last=max(partner_ids),
                excluded=self._get_excluded_answer_condition("ui"),
            )
        )
        return {row[0] for row in rows}

    def _get_pending_partner_ids(self, limit=None):
        """Ids of the target customers not invited yet in the current run, after the
        run's cursor, in id order (at most ``limit``).

        Customers are read by chunks of ``limit`` along the id index and the chunk's
        exclusions are probed by id, so the cost of a batch does not grow with the
        invitations already sent nor with the number of customers.
        """
        self.ensure_one()
        chunk = limit or BATCH_SIZE
        cursor = self.run_cursor if self.run_in_progress else 0
        pending = []
        while not limit or len(pending) < limit:
            candidates = self._get_target_partner_ids(
                after=cursor, limit=(limit - len(pending)) if limit else chunk
            )
            if not candidates:
                break
            excluded = self._get_excluded_partner_ids(candidates)
            pending.extend(pid for pid in candidates if pid not in excluded)
            cursor = candidates[-1]
        return pending

    def _is_dispatch_due(self):
        """The campaign has a run in progress, or one due today, and its survey takes
        answers (a survey archived meanwhile holds the run instead of failing the cron,
        and with it every other campaign's)."""
        self.ensure_one()
        today = fields.Date.context_today(self)
        return (
            self.state == "running"
            and self.survey_id.active
            and (self.run_in_progress or bool(self.next_run_date and self.next_run_date <= today))
        )

    def _count_pending_partners(self):
        """Customers the campaign still has to invite: in its run in progress, or in
        the run due today; 0 when nothing is due. Exact (the exclusions of
        :meth:`_get_excluded_answer_condition` are applied): it is the ``remaining``
        the cron reports."""
        self.ensure_one()
        if not self._is_dispatch_due():
            return 0
        cursor = self.run_cursor if self.run_in_progress else 0
        Partner = self.env["res.partner"].with_context(active_test=False)
        query = Partner._search(self._get_target_domain() + [("id", ">", cursor)])
        query.add_where(
            SQL(
                "NOT EXISTS (SELECT 1 FROM survey_user_input ui WHERE ui.partner_id = %s AND %s)",
                SQL.identifier(query.table, "id"),
                self._get_excluded_answer_condition("ui"),
            )
        )
        return len(query)

    # ------------------------------------------------------------------
    # Dispatch
    # ------------------------------------------------------------------
    def _start_run(self):
        for campaign in self:
            campaign._write_run_state(
                {"run_count": campaign.run_count + 1, "run_in_progress": True, "run_cursor": 0}
            )

    def _finish_run(self):
        today = fields.Date.context_today(self)
        for campaign in self:
            vals = {"run_in_progress": False, "last_run_date": today}
            if campaign.recurrence == "recurring":
                base = max(campaign.next_run_date or today, today - relativedelta(years=1))
                next_date = base + relativedelta(months=campaign.interval_months)
                while next_date <= today:
                    next_date += relativedelta(months=campaign.interval_months)
                vals["next_run_date"] = next_date
            else:
                vals.update(state="done", next_run_date=False)
            campaign._write_run_state(vals)
            # a note for the campaign's responsible, in their language
            staff_env = self.with_context(
                lang=reader_lang(self.env, campaign.user_id, campaign.company_id)
            ).env
            campaign.message_post(
                body=staff_env._("Run %(run)s: invitations sent.", run=campaign.run_count),
            )

    def _dispatch_batch(self, batch_size=BATCH_SIZE, send=True):
        """Invite the next batch of customers of this campaign.

        Starts a run when the campaign is due; finishes it as soon as nobody is left
        (in the call that invites the last ones). Returns the invitations created
        (empty when nothing was due).
        """
        self.ensure_one()
        UserInput = self.env["survey.user_input"]
        if not self._is_dispatch_due():
            return UserInput
        if not self.run_in_progress:
            self._start_run()
        # one more than the batch: whether this batch is the run's last one
        partner_ids = self._get_pending_partner_ids(limit=batch_size + 1)
        last_batch = len(partner_ids) <= batch_size
        partner_ids = partner_ids[:batch_size]
        invitations = UserInput
        if partner_ids:
            invitations = self._create_invitations(self.env["res.partner"].browse(partner_ids))
            self._write_run_state({"run_cursor": max(partner_ids)})
            if send:
                self._send_invitations(invitations)
        if last_batch:
            self._finish_run()
        return invitations

    def _dispatch_next_batch(self, batch_size=BATCH_SIZE, send=True, count=True):
        """Invite one batch of the first of these campaigns that has customers left.

        Returns ``(invitations, remaining)``: the invitations created and the number
        of customers the campaigns still have to invite afterwards (None when
        ``count`` is false: the caller counts once after its batches).
        """
        invitations = self.env["survey.user_input"]
        for campaign in self:
            invitations = campaign._dispatch_batch(batch_size=batch_size, send=send)
            if invitations:
                _logger.info(
                    "vip.survey.campaign %s: %s invitations created", campaign.id, len(invitations)
                )
                break
        if not count:
            return invitations, None
        return invitations, sum(campaign._count_pending_partners() for campaign in self)

    def _prepare_invitation_vals(self, partner, deadline=False, questions=None):
        """Values of the survey answer (invitation) of ``partner``: those
        ``survey.survey._create_answer(partner=partner, check_attempts=False)`` sets
        (a customer's user has the customer's partner, e-mail and name, so it
        changes nothing), plus the deadline and the campaign run.

        ``questions``: the questions the answer shows; left out, the survey draws
        them (``survey.user_input.create`` calls ``_prepare_user_input_predefined_questions``).
        """
        self.ensure_one()
        survey = self.survey_id
        vals = {
            "survey_id": survey.id,
            "test_entry": False,
            "is_session_answer": survey.session_state in ("ready", "in_progress"),
            "partner_id": partner.id,
            "email": partner.email,
            "nickname": partner.name,
            "deadline": deadline,
            "vip_campaign_id": self.id,
            "vip_campaign_run": self.run_count,
        }
        if survey.session_state == "in_progress":
            # a session already in progress skips the 'new' state (as _create_answer)
            vals.update(state="in_progress", start_datetime=fields.Datetime.now())
        if survey.is_attempts_limited and (
            survey.access_mode != "public" or survey.users_login_required
        ):
            vals["invite_token"] = self.env["survey.user_input"]._generate_invite_token()
        if questions is not None:
            vals["predefined_question_ids"] = [Command.set(questions.ids)]
        return vals

    def _create_invitations(self, partners):
        """One survey answer (invitation with its own token) per customer, created as
        ``survey.survey._create_answer`` creates one, in one batch
        ``survey.user_input.create(vals_list)`` (``_create_answer`` creates one
        answer per call).

        Same checks (``check_access``, ``_check_answer_creation`` per customer),
        same values (:meth:`_prepare_invitation_vals`), the questions drawn once per
        answer for a random survey and once for the batch otherwise, and the e-mail
        and nickname saved in the answer lines that ask for them. No creation
        message nor follower per answer (``tracking_disable``): the answers are the
        campaign's, their chatter stays empty until the customer answers.
        """
        self.ensure_one()
        survey = self.survey_id
        UserInput = self.env["survey.user_input"]
        if not partners:
            return UserInput
        survey.check_access("read")
        for partner in partners:
            try:
                survey._check_answer_creation(
                    partner.user_ids[:1], partner, partner.email, check_attempts=False
                )
            except UserError as error:
                raise UserError(
                    self.env._(
                        "Campaign %(campaign)s cannot invite %(customer)s: %(reason)s",
                        campaign=self.display_name,
                        customer=partner.display_name,
                        reason=error.args[0],
                    )
                ) from error
        deadline = (
            fields.Datetime.now() + timedelta(days=self.answer_days) if self.answer_days else False
        )
        questions = None
        if survey.questions_selection == "all":
            questions = survey._prepare_user_input_predefined_questions()
        vals_list = [self._prepare_invitation_vals(p, deadline, questions) for p in partners]
        # sudo: the campaign (and its cron) invites customers; survey answers are
        # otherwise created by survey officers only
        answers = UserInput.sudo().with_context(tracking_disable=True).create(vals_list)
        for question in survey.question_ids.filtered(
            lambda q: q.question_type == "char_box" and (q.save_as_email or q.save_as_nickname)
        ):
            for answer in answers:
                if question.save_as_email and answer.email:
                    answer._save_lines(question, answer.email)
                if question.save_as_nickname and answer.nickname:
                    answer._save_lines(question, answer.nickname)
        self.invalidate_recordset(["user_input_ids"])
        return answers.with_env(self.env)

    def _send_invitations(self, invitations):
        """Mail each invitation with the campaign template (one mass mailing)."""
        self.ensure_one()
        if not invitations or not self.mail_template_id:
            return
        # sudo: the campaign mails customers the campaign user cannot necessarily read
        composer = (
            self.env["mail.compose.message"]
            .sudo()
            .with_context(active_test=False)
            .create(
                {
                    "composition_mode": "mass_mail",
                    "model": "survey.user_input",
                    "res_ids": invitations.ids,
                    "template_id": self.mail_template_id.id,
                    "email_layout_xmlid": "mail.mail_notification_light",
                    "auto_delete": True,
                    "auto_delete_keep_log": False,
                }
            )
        )
        composer._action_send_mail()

    @api.model
    def _cron_dispatch(self):
        """Invite batches of customers of the due campaigns and report them.

        Called by Odoo's cron runner, a call sizes its batches by time
        (``ir.cron._vip_call_budget``) until its share of the server's cron
        limit is spent; otherwise it is one batch of ``BATCH_SIZE``. The runner
        commits and calls again while ``remaining`` (the customers the due
        campaigns still have to invite) is positive, so a call never holds more
        than what it has time for and memory stays bounded whatever the number
        of customers.
        """
        today = fields.Date.context_today(self)
        budget = self.env["ir.cron"]._vip_call_budget(BATCH_SIZE, FIRST_BATCH_SIZE)
        if budget.deferred:
            return self.env["ir.cron"]._vip_defer_call()
        domain = [
            ("state", "=", "running"),
            "|",
            ("run_in_progress", "=", True),
            ("next_run_date", "<=", today),
        ]
        done = 0
        for size in budget:
            invitations = self.search(domain, order="id")._dispatch_next_batch(
                batch_size=size, count=False
            )[0]
            budget.spent(len(invitations))
            done += len(invitations)
            if not invitations:
                budget.stop()
        # the customers left, counted once for the call (not after every batch)
        remaining = sum(
            campaign._count_pending_partners() for campaign in self.search(domain, order="id")
        )
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return True
