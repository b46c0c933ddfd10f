from odoo import api, fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    vip_loyalty_redemption_id = fields.Many2one(
        "vip.loyalty.redemption",
        string="Points Redemption",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Credit note created by a cash deduction: it earns and takes back no points.",
    )
    vip_loyalty_move_ids = fields.One2many(
        "vip.loyalty.move", "invoice_id", string="Points Moves",
        groups="vip_loyalty.group_vip_loyalty_user",
    )
    vip_loyalty_points = fields.Integer(
        string="Loyalty Points", compute="_compute_vip_loyalty_points",
        groups="vip_loyalty.group_vip_loyalty_user",
    )

    @api.depends("vip_loyalty_move_ids.points")
    def _compute_vip_loyalty_points(self):
        groups = dict(self.env["vip.loyalty.move"]._read_group(
            [("invoice_id", "in", self.ids), ("move_type", "in", ("earn", "reversal"))],
            ["invoice_id"], ["points:sum"],
        ))
        for move in self:
            move.vip_loyalty_points = groups.get(move, 0)

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        self.env["vip.loyalty.engine"]._sync_invoices(posted)
        return posted

    def button_draft(self):
        result = super().button_draft()
        self.env["vip.loyalty.engine"]._sync_invoices(self)
        # core returns None, which XML-RPC cannot marshal
        return True if result is None else result

    def button_cancel(self):
        result = super().button_cancel()
        self.env["vip.loyalty.engine"]._sync_invoices(self)
        return True if result is None else result

    def _vip_loyalty_sync_paid_moves(self):
        """Payments reconciled or unreconciled: invoices of programs that earn on
        payment gain or lose their points (the payment state is recomputed first)."""
        invoices = self.filtered(lambda m: m.move_type in ("out_invoice", "out_refund"))
        if not invoices:
            return
        programs = self.env["vip.loyalty.program"]._get_for_companies(invoices.company_id)
        paid_mode = invoices.filtered(
            lambda m: m.company_id.id in programs and programs[m.company_id.id].earn_on == "paid"
        )
        if paid_mode:
            self.env["vip.loyalty.engine"]._sync_invoices(paid_mode)

    def action_vip_loyalty_view_moves(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_loyalty.vip_loyalty_move_action"
        )
        action["domain"] = [("invoice_id", "=", self.id)]
        action["context"] = {"create": False}
        return action
