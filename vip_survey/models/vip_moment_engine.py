"""The key moments of satisfaction answers: ``nps_detractor`` and ``nps_passive``.

A customer answered a VIP campaign's NPS question with a detractor's (0-6) or a
passive's (7-8) score. The occasion is the answer (``answer:<id>``): one task
per answer, never two. The completion of an answer signals the engine at once
(``survey.user_input._vip_process_completed``); the nightly run catches the
answers of the last days a signal missed.
"""

import datetime

from markupsafe import Markup

from odoo import api, models
from odoo.tools import SQL

from odoo.addons.vip_customer.models.vip_moment_engine import EVENT_LOOKBACK_DAYS

NPS_TRIGGERS = {"nps_detractor": "detractor", "nps_passive": "passive"}
# context key: ``((customer id, answer id), ...)`` of the moments being created
ANSWERS_KEY = "vip_survey_moment_answers"


class VipMomentEngine(models.AbstractModel):
    _inherit = "vip.moment.engine"

    @api.model
    def _moment_sql_nps_answer(self, rule, today, nps_class, extra=None):
        """Completed answers of the rule company's campaigns in the NPS class
        ``nps_class``, of the last ``EVENT_LOOKBACK_DAYS`` days (test entries aside)."""
        since = today - datetime.timedelta(days=EVENT_LOOKBACK_DAYS)
        return SQL(
            """
            SELECT p.commercial_partner_id AS partner_id,
                   'answer:' || ui.id AS occasion_key,
                   COALESCE(ui.end_datetime, ui.create_date)::date AS occasion_date
              FROM survey_user_input ui
              JOIN vip_survey_campaign c ON c.id = ui.vip_campaign_id
              JOIN res_partner p ON p.id = ui.partner_id
             WHERE c.company_id = %(company)s
               AND ui.state = 'done'
               AND ui.test_entry IS NOT TRUE
               AND ui.vip_nps_class = %(nps_class)s
               AND COALESCE(ui.end_datetime, ui.create_date)::date BETWEEN %(since)s AND %(today)s
               %(extra)s
            """,
            company=rule.company_id.id,
            nps_class=nps_class,
            since=since,
            today=today,
            extra=extra or SQL(),
        )

    @api.model
    def _moment_sql_nps_detractor(self, rule, today, horizon):
        """A detractor's answer (the recovery ticket is the campaign's own step)."""
        return self._moment_sql_nps_answer(rule, today, "detractor")

    @api.model
    def _moment_sql_nps_passive(self, rule, today, horizon):
        """A passive's answer, of a campaign that follows passives up (its
        "Follow-up Task for Passives" option)."""
        return self._moment_sql_nps_answer(
            rule, today, "passive", SQL("AND c.create_passive_activity")
        )

    @api.model
    def _fire(self, rule, rows, today):
        """The tasks of answer moments quote the answer's score."""
        if rule.trigger_type not in NPS_TRIGGERS:
            return super()._fire(rule, rows, today)
        answers = tuple(
            (partner_id, int(key.split(":", 1)[1]))
            for partner_id, key, _date, _tier in rows
            if key.startswith("answer:")
        )
        engine = self.with_context(**{ANSWERS_KEY: answers})
        return super(VipMomentEngine, engine)._fire(rule, rows, today)

    @api.model
    def _prepare_activity_vals(self, rule, partner, user, deadline, occasion_date):
        vals = super()._prepare_activity_vals(rule, partner, user, deadline, occasion_date)
        answers = dict(self.env.context.get(ANSWERS_KEY) or ())
        answer_id = answers.get(partner.id)
        if answer_id:
            # sudo: the engine quotes the answer's score to the account manager; the
            # batch's answers are read together, not one query per task
            answer = (
                self.env["survey.user_input"]
                .sudo()
                .browse(answer_id)
                .with_prefetch(tuple(answers.values()))
            )
            lang = user.lang or self.env.lang or "en_US"
            line = self.with_context(lang=lang).env._(
                "NPS answer: %(score)s/10 (campaign %(campaign)s).",
                score=answer.vip_nps_score,
                campaign=answer.vip_campaign_id.with_context(lang=lang).display_name,
            )
            vals["note"] = Markup("<p>%s</p>") % line + (vals.get("note") or Markup())
        return vals
