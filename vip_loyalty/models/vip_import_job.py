from odoo import api, fields, models


class VipImportJob(models.Model):
    """Opening point balances are imported in the background too."""

    _inherit = "vip.import.job"

    kind = fields.Selection(
        selection_add=[("loyalty_opening", "Opening Points Balances")],
        ondelete={"loyalty_opening": "cascade"},
    )

    @api.model
    def _get_handlers(self):
        return dict(super()._get_handlers(), loyalty_opening="vip.loyalty.import")
