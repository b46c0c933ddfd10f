from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from .vip_survey_campaign import reader_lang

# Churn points of a detractor answer, of a satisfaction drop, and the look-back window.
DETRACTOR_POINTS = 25
FALLING_POINTS = 15
FALLING_DROP = 10.0
SIGNAL_DAYS = 365


class VipTierEngine(models.AbstractModel):
    _inherit = "vip.tier.engine"

    @api.model
    def _get_last_answers(self, company, partner_ids, columns):
        """One aggregate row per customer account of ``partner_ids`` with
        completed campaign answers of ``company`` in the look-back window:
        ``(commercial partner id, *columns)``, each column an ``SQL``
        aggregate over its answers ordered from the last one (alias ``ui``)."""
        self.env["survey.user_input"].flush_model(
            [
                "partner_id",
                "state",
                "end_datetime",
                "vip_campaign_id",
                "vip_nps_class",
                "vip_nps_score",
                "vip_satisfaction_score",
                "test_entry",
            ]
        )
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        self.env["vip.survey.campaign"].flush_model(["company_id"])
        return self.env.execute_query(
            SQL(
                """
                SELECT p.commercial_partner_id, %(columns)s
                  FROM survey_user_input ui
                  JOIN res_partner p ON p.id = ui.partner_id
                  JOIN vip_survey_campaign c ON c.id = ui.vip_campaign_id
                 WHERE p.commercial_partner_id = ANY(%(partners)s)
                   AND c.company_id = %(company)s
                   AND ui.state = 'done'
                   AND NOT COALESCE(ui.test_entry, FALSE)
                   AND ui.end_datetime >= %(since)s
                 GROUP BY p.commercial_partner_id
                """,
                columns=SQL(", ").join(columns),
                partners=list(partner_ids),
                company=company.id,
                since=fields.Datetime.now() - timedelta(days=SIGNAL_DAYS),
            )
        )

    @api.model
    def _get_churn_signal_dates(self, company, partner_ids):
        """The day the older of a customer's last two answers leaves the
        look-back window (the falling satisfaction, then the detractor signal,
        end by the calendar); a completed answer marks its customer instead."""
        dates = super()._get_churn_signal_dates(company, partner_ids)
        if not partner_ids:
            return dates
        rows = self._get_last_answers(
            company,
            partner_ids,
            [SQL("(ARRAY_AGG(ui.end_datetime ORDER BY ui.end_datetime DESC, ui.id DESC))[1:2]")],
        )
        for partner_id, ends in rows:
            day = min(ends).date() + timedelta(days=SIGNAL_DAYS + 1)
            dates[partner_id] = min(day, dates.get(partner_id, day))
        return dates

    @api.model
    def _get_churn_signals(self, company, partner_ids):
        """A detractor last answer and a falling satisfaction raise the churn risk.

        One aggregate query for the whole batch: the last two completed campaign
        answers of each customer account in the look-back window.
        """
        signals = super()._get_churn_signals(company, partner_ids)
        if not partner_ids:
            return signals
        rows = self._get_last_answers(
            company,
            partner_ids,
            [
                SQL("(ARRAY_AGG(ui.vip_nps_class ORDER BY ui.end_datetime DESC, ui.id DESC))[1]"),
                SQL(
                    "(ARRAY_AGG(COALESCE(ui.vip_nps_score, 0) "
                    "ORDER BY ui.end_datetime DESC, ui.id DESC))[1]"
                ),
                SQL(
                    "(ARRAY_AGG(COALESCE(ui.vip_satisfaction_score, 0) "
                    "ORDER BY ui.end_datetime DESC, ui.id DESC))[1:2]"
                ),
            ],
        )
        # the labels are stored on the customer: in the language of the company's staff
        staff_env = self.with_context(lang=reader_lang(self.env, company=company)).env
        for partner_id, last_class, last_score, satisfactions in rows:
            partner_signals = []
            if last_class == "detractor":
                partner_signals.append(
                    (
                        DETRACTOR_POINTS,
                        staff_env._(
                            "Detractor in the last survey (NPS %(score)s)", score=last_score
                        ),
                    )
                )
            if len(satisfactions) == 2 and satisfactions[1] - satisfactions[0] >= FALLING_DROP:
                partner_signals.append(
                    (
                        FALLING_POINTS,
                        staff_env._(
                            "Satisfaction fell from %(before)s to %(after)s",
                            before=round(satisfactions[1]),
                            after=round(satisfactions[0]),
                        ),
                    )
                )
            if partner_signals:
                signals.setdefault(partner_id, []).extend(partner_signals)
        return signals


class SurveyUserInput(models.Model):
    _inherit = "survey.user_input"  # pylint: disable=consider-merging-classes-inherited

    def _vip_on_completed(self):
        result = super()._vip_on_completed()
        # a new answer can start or end a churn signal: evaluated at the next night
        self.filtered("vip_campaign_id").partner_id.commercial_partner_id.sudo()._vip_mark_for_evaluation()
        return result
