"""Survey answers of VIP campaigns: NPS class, satisfaction score and the closed loop.

The hook is the answer's passage to ``state = 'done'``, in ``create`` and ``write``:
whether a customer submits the survey (``_mark_done``), an integrator imports
completed answers or writes the state over RPC, the answer is classified, the
customer's last NPS is updated, a detractor gets one recovery ticket, and the
key-moment engine is signalled (the rules "Detractor answer" / "Passive answer"
give the account manager a task). Everything is idempotent: completing the same
answer twice creates nothing twice.
"""

from collections import defaultdict

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import AccessError

from .vip_moment_engine import NPS_TRIGGERS
from .vip_survey_campaign import NPS_CLASSES, reader_lang

# Fields the completion hook derives from the answer lines, or related: nobody writes them.
DERIVED_FIELDS = {
    "vip_nps_score",
    "vip_nps_class",
    "vip_satisfaction_score",
    "vip_followup_ticket_id",
    # related: written, they would rewrite the campaign or the customer through the answer
    "vip_company_id",
    "vip_commercial_partner_id",
}
# Fields that tie an answer to a campaign run: the campaign writes them; satisfaction
# managers may too (e.g. importing the answers of a past campaign).
CAMPAIGN_FIELDS = {"vip_campaign_id", "vip_campaign_run"}


def nps_class(score):
    """NPS class of a 0-10 answer: 9-10 promoter, 7-8 passive, 0-6 detractor."""
    if score is None or score is False:
        return False
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


class SurveyUserInput(models.Model):
    _inherit = "survey.user_input"

    vip_campaign_id = fields.Many2one(
        "vip.survey.campaign",
        string="VIP Campaign",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        copy=False,
    )
    vip_campaign_run = fields.Integer(string="Campaign Run", readonly=True, copy=False)
    vip_company_id = fields.Many2one(related="vip_campaign_id.company_id", string="VIP Company")
    vip_commercial_partner_id = fields.Many2one(
        related="partner_id.commercial_partner_id", string="Customer Account"
    )
    vip_nps_score = fields.Integer(string="NPS Score", readonly=True, copy=False, aggregator="avg")
    vip_nps_class = fields.Selection(
        NPS_CLASSES, string="NPS Class", readonly=True, copy=False, index=True
    )
    vip_satisfaction_score = fields.Float(
        string="Satisfaction (/100)", readonly=True, copy=False, aggregator="avg"
    )
    vip_recovery_ticket_ids = fields.One2many(
        "vip.service.ticket",
        "vip_survey_answer_id",
        string="Recovery Tickets",
        groups="vip_service_ticket.group_vip_service_user",
    )
    vip_followup_ticket_id = fields.Many2one(
        "vip.service.ticket",
        string="Follow-up of Ticket",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        copy=False,
        help="Recovery ticket whose closing sent this follow-up survey.",
    )

    # ------------------------------------------------------------------
    # CRUD: guards and the completion hook
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        self._vip_check_protected_fields({key for vals in vals_list for key in vals})
        answers = super().create(vals_list)
        answers.filtered(lambda a: a.state == "done")._vip_on_completed()
        return answers

    def write(self, vals):
        self._vip_check_protected_fields(vals.keys())
        if vals.get("state") != "done" and not vals.get("vip_campaign_id"):
            return super().write(vals)
        # the answers this write completes, or ties to a campaign once completed
        before = {answer.id: (answer.state, answer.vip_campaign_id) for answer in self}
        result = super().write(vals)
        self.filtered(
            lambda a: a.state == "done" and before[a.id] != ("done", a.vip_campaign_id)
        )._vip_on_completed()
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_except_vip_campaign_answer(self):
        if self.env.su or not self.filtered("vip_campaign_id"):
            return
        if not self.env.user.has_group("vip_survey.group_vip_survey_manager"):
            raise AccessError(
                self.env._("Only satisfaction managers can delete the answers of a campaign.")
            )

    def _vip_check_protected_fields(self, fnames):
        """Refuse the fields the server derives (NPS, satisfaction, follow-up) to
        everyone, and the campaign link to all but satisfaction managers: a view's
        ``readonly`` protects nothing over RPC or in an import."""
        if self.env.su:
            return
        derived = DERIVED_FIELDS & set(fnames)
        if derived:
            raise AccessError(
                self.env._(
                    "The fields %(fields)s of a survey answer are derived by the server from "
                    "the answer and its campaign and cannot be written.",
                    fields=", ".join(
                        sorted(self._fields[f]._description_string(self.env) for f in derived)
                    ),
                )
            )
        if CAMPAIGN_FIELDS & set(fnames) and not self.env.user.has_group(
            "vip_survey.group_vip_survey_manager"
        ):
            raise AccessError(
                self.env._("Only satisfaction managers can link survey answers to a campaign.")
            )

    def _vip_on_completed(self):
        """Close the loop of the campaign answers among ``self``, just completed.

        Every completion passes here (survey submission, import, RPC write): the
        processing is set-based and idempotent, so an answer completed twice gets
        one NPS class, one recovery ticket and one follow-up activity.
        """
        answers = self.filtered(lambda a: a.vip_campaign_id and not a.test_entry)
        if answers:
            # sudo: the customer (public/portal) or an integrator completes the answer;
            # the derived fields, the customer's account and the tickets are the
            # server's to write
            answers.sudo()._vip_process_completed()
        followups = self.filtered(lambda a: a.vip_followup_ticket_id and not a.test_entry)
        if followups:
            # sudo: as above; the complaint's step is the loop's own record
            followups.sudo()._vip_process_followups()
        return answers | followups

    def _vip_process_completed(self):
        """Classify the answers and close the loop (hook: add steps)."""
        self._vip_compute_scores()
        self._vip_update_partners()
        self.filtered(
            lambda a: a.vip_nps_class == "detractor" and a.vip_campaign_id.create_recovery_ticket
        )._vip_create_recovery_tickets()
        self._vip_signal_moments()

    def _vip_process_followups(self):
        """Score the follow-up surveys of recovery tickets like campaign answers, and
        let a satisfied one confirm the complaint (see :meth:`_vip_is_satisfied`).
        Idempotent: the complaint is confirmed once, at its follow-up step only (an
        answer completed before the visit confirms it when the visit is done)."""
        self._vip_compute_scores()
        return self._vip_confirm_complaints()

    def _vip_confirm_complaints(self):
        """The satisfied completed follow-up answers among ``self`` confirm their
        complaints (vip_service_ticket's hook, a no-op before the follow-up visit or
        once confirmed). Returns the complaints confirmed."""
        satisfied = self.filtered(
            lambda a: a.state == "done" and a.vip_followup_ticket_id and a._vip_is_satisfied()
        )
        return satisfied.vip_followup_ticket_id._complaint_confirm_by_customer("survey")

    def _vip_get_score_questions(self):
        """``{answer id: (campaign, NPS question, satisfaction question)}`` (hook).

        A campaign answer is scored on its campaign's questions. The follow-up survey
        of a recovery ticket is scored by the ticket's campaign: on the campaign's
        questions when it is the campaign's survey, else on its own first 0-10 scale
        question (NPS) and its first other scale question (satisfaction).
        """
        result = {}
        for answer in self:
            campaign = (
                answer.vip_campaign_id or answer.vip_followup_ticket_id.vip_survey_campaign_id
            )
            if answer.survey_id == campaign.survey_id:
                result[answer.id] = (
                    campaign,
                    campaign.nps_question_id,
                    campaign.satisfaction_question_id,
                )
                continue
            scales = answer.survey_id.question_ids.filtered(
                lambda q: q.question_type == "scale"
            ).sorted("sequence")
            nps = scales.filtered(lambda q: q.scale_min == 0 and q.scale_max == 10)[:1]
            result[answer.id] = (campaign, nps, (scales - nps)[:1])
        return result

    def _vip_is_satisfied(self):
        """The answer says the customer is satisfied (hook), by its campaign's own
        measures: an NPS answer is a promoter's, and a satisfaction score reaches the
        campaign's target (what the campaign counts as not "below target"). A measure
        the survey does not take is left out; an answer with neither is not satisfied.
        """
        self.ensure_one()
        campaign, nps_question, satisfaction_question = self._vip_get_score_questions()[self.id]
        source = campaign.satisfaction_source
        satisfaction_measured = (
            (source == "scoring" and self.survey_id.scoring_type != "no_scoring")
            or (source == "question" and bool(satisfaction_question))
            or (source == "nps" and bool(self.vip_nps_class))
        )
        if not (nps_question and self.vip_nps_class) and not satisfaction_measured:
            return False
        if self.vip_nps_class and self.vip_nps_class != "promoter":
            return False
        return not satisfaction_measured or (
            self.vip_satisfaction_score >= campaign.satisfaction_target
        )

    @api.model
    def _vip_scale_to_100(self, question, value):
        """A scale answer brought to 0-100."""
        span = (question.scale_max or 0) - (question.scale_min or 0)
        if not span:
            return 0.0
        return round(100.0 * (value - question.scale_min) / span, 2)

    def _vip_compute_scores(self):
        """NPS score, class and satisfaction of the answers, from their lines (one read)."""
        score_questions = self._vip_get_score_questions()
        questions = self.env["survey.question"].union(
            *(nps | satisfaction for _c, nps, satisfaction in score_questions.values())
        )
        # sudo: answers are completed by customers (public/portal), who cannot read lines
        lines = (
            self.env["survey.user_input.line"]
            .sudo()
            .search_fetch(
                [
                    ("user_input_id", "in", self.ids),
                    ("question_id", "in", questions.ids),
                    ("skipped", "=", False),
                    ("answer_type", "=", "scale"),
                ],
                ["user_input_id", "question_id", "value_scale"],
            )
        )
        values = {(line.user_input_id.id, line.question_id.id): line.value_scale for line in lines}
        by_vals = defaultdict(self.browse)
        for answer in self:
            campaign, nps_question, question = score_questions[answer.id]
            score = values.get((answer.id, nps_question.id))
            satisfaction = False
            if campaign.satisfaction_source == "scoring":
                if answer.survey_id.scoring_type != "no_scoring":
                    satisfaction = answer.scoring_percentage
            elif campaign.satisfaction_source == "nps" and score is not None:
                satisfaction = score * 10.0
            elif campaign.satisfaction_source == "question":
                value = values.get((answer.id, question.id))
                if value is not None:
                    satisfaction = self._vip_scale_to_100(question, value)
            key = (score if score is not None else False, nps_class(score), satisfaction)
            by_vals[key] |= answer
        for (score, klass, satisfaction), answers in by_vals.items():
            answers.write(
                {
                    "vip_nps_score": score,
                    "vip_nps_class": klass,
                    "vip_satisfaction_score": satisfaction,
                }
            )

    def _vip_update_partners(self):
        """The customer account shows its last NPS and satisfaction."""
        latest = {}
        for answer in self.filtered("partner_id").sorted(lambda a: a.end_datetime or a.create_date):
            latest[answer.partner_id.commercial_partner_id] = answer
        by_vals = defaultdict(lambda: self.env["res.partner"])
        for partner, answer in latest.items():
            date = (answer.end_datetime or fields.Datetime.now()).date()
            if partner.vip_nps_date and partner.vip_nps_date > date:
                continue
            key = (
                answer.vip_nps_score if answer.vip_nps_class else False,
                date,
                answer.vip_nps_class,
                answer.vip_satisfaction_score,
            )
            by_vals[key] |= partner
        for (score, date, klass, satisfaction), partners in by_vals.items():
            # sudo: the customer who answers cannot write their own account
            partners.sudo().write(
                {
                    "vip_nps_score": score,
                    "vip_nps_date": date,
                    "vip_nps_class": klass,
                    "vip_satisfaction_score": satisfaction,
                }
            )

    def _vip_get_comments(self):
        """Free-text answers per answer id, to quote them in the recovery ticket."""
        lines = (
            self.env["survey.user_input.line"]
            .sudo()
            .search_fetch(
                [
                    ("user_input_id", "in", self.ids),
                    ("answer_type", "in", ("text_box", "char_box")),
                    ("skipped", "=", False),
                ],
                ["user_input_id", "value_text_box", "value_char_box"],
            )
        )
        comments = defaultdict(list)
        for line in lines:
            comments[line.user_input_id.id].append(line.value_text_box or line.value_char_box)
        return comments

    def _vip_prepare_recovery_ticket_vals(self, comments):
        """Values of the recovery ticket of this detractor answer (hook).

        The customer sees the ticket on the portal: its title and description are
        written in the customer's language and quote only their own words; the
        score and the instructions for the staff go in an internal note (see
        :meth:`_vip_prepare_recovery_note`).
        """
        self.ensure_one()
        Ticket = self.env["vip.service.ticket"]
        partner = self.partner_id
        campaign = self.vip_campaign_id
        manager = partner.commercial_partner_id.vip_account_manager_id
        customer_env = self.with_context(
            lang=partner.lang or campaign.company_id.partner_id.lang or self.env.lang
        ).env
        description = Markup("<p>%s</p>") % customer_env._(
            "Thank you for answering our satisfaction survey. We are sorry we did not meet "
            "your expectations: we will contact you to understand what went wrong and put "
            "it right."
        )
        for comment in comments:
            description += Markup("<blockquote>%s</blockquote>") % escape(comment)
        values = {
            "name": customer_env._("Follow-up of your satisfaction survey"),
            "description": description,
            "channel": "visit",
            "priority": "2",
            "company_id": campaign.company_id.id,
            "vip_survey_answer_id": self.id,
        }
        if manager and not manager.share:
            values["user_id"] = manager.id
        # in the campaign's company: the default service team is picked from env.company
        return Ticket.with_company(campaign.company_id)._prepare_ticket_vals(
            partner, "vip_service_ticket.vip_service_category_complaint", **values
        )

    def _vip_prepare_recovery_note(self, ticket):
        """Internal note of the recovery ticket, for the staff, in the language of the
        user it is assigned to (else of the company)."""
        self.ensure_one()
        staff_env = self.with_context(
            lang=reader_lang(self.env, ticket.user_id, ticket.company_id)
        ).env
        return Markup("<p>%s</p>") % staff_env._(
            "Detractor: %(customer)s answered %(score)s/10 to the NPS question of campaign "
            "%(campaign)s. Contact them, find the root cause and record the action taken.",
            customer=self.partner_id.display_name,
            score=self.vip_nps_score,
            campaign=self.vip_campaign_id.with_context(lang=staff_env.lang).display_name,
        )

    def _vip_create_recovery_tickets(self):
        """One complaint ticket per detractor answer, never two (also when an answer is
        submitted twice: existing links are checked, and a unique index backs it)."""
        # sudo: the customer's submission creates the ticket; tickets of a company are
        # created whoever triggers them (archived tickets count as existing too)
        Ticket = self.env["vip.service.ticket"].sudo().with_context(active_test=False)
        done = set(
            Ticket.search([("vip_survey_answer_id", "in", self.ids)]).vip_survey_answer_id.ids
        )
        todo = self.filtered(lambda a: a.id not in done and a.partner_id)
        if not todo:
            return Ticket
        comments = todo._vip_get_comments()
        tickets = Ticket.browse()
        for company in todo.vip_campaign_id.company_id:
            answers = todo.filtered(
                lambda a, company=company: a.vip_campaign_id.company_id == company
            )
            vals_list = [
                answer._vip_prepare_recovery_ticket_vals(comments.get(answer.id, []))
                for answer in answers
            ]
            tickets |= Ticket.with_company(company).with_context(active_test=True).create(vals_list)
        tickets._message_log_batch(
            bodies={
                ticket.id: ticket.vip_survey_answer_id._vip_prepare_recovery_note(ticket)
                for ticket in tickets
            },
            author_id=self.env.ref("base.partner_root").id,
        )
        return tickets

    def _vip_signal_moments(self):
        """The key moments of these answers, at once: the account manager's task of
        the active "Detractor answer" / "Passive answer" rules (see
        vip_moment_engine.py; one per answer, the nightly run catches any missed)."""
        answers = self.filtered(
            lambda a: a.partner_id and a.vip_nps_class in NPS_TRIGGERS.values()
        )
        if not answers:
            return self.env["vip.moment.occurrence"]
        return self.env["vip.moment.engine"]._signal(list(NPS_TRIGGERS), answers.partner_id)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_view_vip_recovery_tickets(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_service_ticket.vip_service_ticket_action"
        )
        action["domain"] = [("vip_survey_answer_id", "=", self.id)]
        action["context"] = {}
        return action
