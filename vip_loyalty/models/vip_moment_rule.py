from odoo import api, fields, models


class VipMomentRule(models.Model):
    _inherit = "vip.moment.rule"

    trigger_type = fields.Selection(
        selection_add=[("points_expiring", "Points expiring")],
        ondelete={"points_expiring": "cascade"},
    )

    @api.model
    def _get_trigger_kinds(self):
        # an anomaly of the customer's account, not a date the program plans
        return dict(super()._get_trigger_kinds(), points_expiring="anomaly")
