from odoo import api, fields, models


class VipCustomerImportLine(models.TransientModel):
    _name = "vip.customer.import.line"
    _description = "VIP Customer Import Row"
    _order = "is_error desc, row_number"

    wizard_id = fields.Many2one(
        "vip.customer.import", required=True, index=True, ondelete="cascade"
    )
    row_number = fields.Integer(
        string="Row", help="Row number in the Excel sheet (headers are row 1)."
    )
    name = fields.Char()
    outcome = fields.Selection(
        [("create", "New"), ("update", "Update"), ("error", "Error")], required=True
    )
    is_error = fields.Boolean(compute="_compute_is_error", store=True)
    partner_id = fields.Many2one("res.partner", string="Customer", ondelete="set null")
    message = fields.Char()

    @api.depends("outcome")
    def _compute_is_error(self):
        for line in self:
            line.is_error = line.outcome == "error"
