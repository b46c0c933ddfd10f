from odoo import api, fields, models


class VipMomentRule(models.Model):
    _inherit = "vip.moment.rule"

    trigger_type = fields.Selection(
        selection_add=[
            ("nps_detractor", "Detractor answer"),
            ("nps_passive", "Passive answer"),
        ],
        ondelete={"nps_detractor": "cascade", "nps_passive": "cascade"},
    )

    @api.model
    def _get_trigger_kinds(self):
        # a survey answer just submitted: an event
        return dict(super()._get_trigger_kinds(), nps_detractor="event", nps_passive="event")
