from odoo import api, models


class VipKpiEngine(models.AbstractModel):
    _name = "vip.kpi.engine"
    _description = "VIP Program KPI Engine"

    @api.model
    def _get_satisfaction_sources(self, company, date_from, date_to):
        return []

    @api.model
    def _get_service_sources(self, company, date_from, date_to):
        return []
