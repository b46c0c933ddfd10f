from odoo import fields, models


class VipCareLog(models.Model):
    """What was done for which occasion: the guard that makes each occasion
    happen once a year per customer."""

    _name = "vip.care.log"
    _description = "VIP Care Log"
    _order = "date desc, id desc"
    _check_company_auto = True

    occasion_id = fields.Many2one(
        "vip.care.occasion", required=True, ondelete="cascade", index=True
    )
    partner_id = fields.Many2one("res.partner", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="occasion_id.company_id", store=True, index=True)
    year = fields.Integer(required=True, aggregator=None)
    date = fields.Date(required=True, default=fields.Date.context_today)
    occasion_date = fields.Date(help="Day of the occasion the customer was cared for.")
    mail_sent = fields.Boolean()
    activity_created = fields.Boolean()
    skipped_reason = fields.Char()

    _sql_constraints = [
        (
            "occasion_partner_year_uniq",
            "unique(occasion_id, partner_id, year)",
            "A care occasion happens once a year per customer.",
        )
    ]
