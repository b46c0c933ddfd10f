from odoo import fields, models


class VipCustomerImport(models.TransientModel):
    _name = "vip.customer.import"
    _description = "Import VIP Customers"

    file = fields.Binary()
    line_ids = fields.One2many("vip.customer.import.line", "wizard_id")


class VipCustomerImportLine(models.TransientModel):
    _name = "vip.customer.import.line"
    _description = "VIP Customer Import Row"

    wizard_id = fields.Many2one("vip.customer.import")
