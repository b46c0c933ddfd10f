from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from .vip_loyalty_program import MAX_POINTS

# how far from today a redemption may be dated
DATE_PAST_YEARS = 5
DATE_FUTURE_YEARS = 1
# written by the confirm / done / cancel / reset buttons only (see _write_workflow)
WORKFLOW_FIELDS = {
    "state", "move_id", "reversal_move_id", "credit_note_id", "confirm_uid", "confirm_date",
    "amount",
}
STATES = [
    ("draft", "Draft"),
    ("confirmed", "Confirmed"),
    ("done", "Done"),
    ("cancelled", "Cancelled"),
]


class VipLoyaltyRedemption(models.Model):
    """A customer spending points on a reward.

    Draft redemptions are prepared by sales (loyalty users); a loyalty manager
    confirms them, which takes the points from the customer's lots (first to
    expire first) with the customer's ledger locked, so that the balance can
    never go below zero. Cancelling gives the points back to the same lots.
    """

    _name = "vip.loyalty.redemption"
    _description = "VIP Points Redemption"
    _inherit = ["mail.thread", "mail.activity.mixin", "vip.bounds.mixin"]
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(
        string="Reference", required=True, readonly=True, copy=False,
        default=lambda self: self.env._("New"),
    )
    state = fields.Selection(
        STATES, required=True, default="draft", readonly=True, copy=False, tracking=True,
        index=True,
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company,
        readonly=True,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, tracking=True,
        domain="[('parent_id', '=', False), ('company_id', 'in', (company_id, False))]",
        check_company=True,
    )
    partner_tier_id = fields.Many2one(related="partner_id.vip_tier_id", string="Tier")
    partner_balance = fields.Integer(
        string="Available Points", related="partner_id.vip_loyalty_balance",
    )
    reward_id = fields.Many2one(
        "vip.loyalty.reward", required=True, tracking=True, check_company=True,
        domain="[('company_id', '=', company_id)]",
    )
    reward_type = fields.Selection(related="reward_id.reward_type", string="Reward Type")
    quantity = fields.Integer(default=1, required=True, tracking=True)
    points = fields.Integer(
        compute="_compute_points", store=True, readonly=False, tracking=True,
        help="Points the redemption uses: the reward's points times the quantity. Cash "
        "deductions: the points to convert into a credit note.",
    )
    amount = fields.Monetary(
        string="Cash Value", compute="_compute_amount", store=True,
        help="Value of the credit note of a cash deduction.",
    )
    date = fields.Date(default=fields.Date.context_today, required=True, tracking=True)
    user_id = fields.Many2one(
        "res.users", string="Responsible", default=lambda self: self.env.user, tracking=True,
        domain=[("share", "=", False)],
    )
    confirm_uid = fields.Many2one("res.users", string="Confirmed By", readonly=True, copy=False)
    confirm_date = fields.Datetime(string="Confirmed On", readonly=True, copy=False)
    note = fields.Html()
    move_id = fields.Many2one(
        "vip.loyalty.move", string="Points Move", readonly=True, copy=False,
    )
    reversal_move_id = fields.Many2one(
        "vip.loyalty.move", string="Cancellation Move", readonly=True, copy=False,
    )
    allocation_ids = fields.One2many(
        related="move_id.allocation_ids", string="Points Taken From",
    )
    credit_note_id = fields.Many2one(
        "account.move", readonly=True, copy=False, check_company=True,
    )

    _sql_constraints = [
        ("quantity_positive", "CHECK(quantity > 0)", "The quantity must be at least one."),
        ("points_positive", "CHECK(points >= 0)", "The points cannot be negative."),
    ]

    @api.depends("reward_id.reward_type", "reward_id.points_cost", "quantity")
    def _compute_points(self):
        # confirmed redemptions keep the points they took, whatever the reward costs later
        for redemption in self.filtered(lambda r: r.state == "draft" or not r.id):
            if redemption.reward_id.reward_type != "cash":
                redemption.points = redemption._get_expected_points()
            elif not redemption.points:
                redemption.points = 0

    @api.depends("points", "reward_id.cash_points_rate", "reward_id.reward_type")
    def _compute_amount(self):
        for redemption in self.filtered(lambda r: r.state == "draft" or not r.id):
            redemption.amount = redemption._get_expected_amount()

    def _get_expected_points(self):
        """Points a redemption of its reward and quantity costs (the server decides them;
        cash deductions: the points the customer chose to convert)."""
        self.ensure_one()
        if self.reward_id.reward_type == "cash":
            return self.points
        return self.reward_id.points_cost * self.quantity

    def _get_expected_amount(self):
        """Cash value of a cash deduction: its points at the reward's rate."""
        self.ensure_one()
        reward = self.reward_id
        if reward.reward_type == "cash" and reward.cash_points_rate:
            return self.currency_id.round(self.points / reward.cash_points_rate)
        return 0.0

    @api.model
    def _get_vip_bounds(self):
        return {"quantity": (1, 1_000_000), "points": (0, MAX_POINTS)}

    @api.constrains("date")
    def _check_date(self):
        today = fields.Date.context_today(self)
        low = fields.Date.subtract(today, years=DATE_PAST_YEARS)
        high = fields.Date.add(today, years=DATE_FUTURE_YEARS)
        for redemption in self:
            if not low <= redemption.date <= high:
                raise ValidationError(self.env._(
                    "Redemption %(name)s: the date %(date)s is too far from today (from "
                    "%(low)s to %(high)s).",
                    name=redemption.name, date=redemption.date, low=low, high=high,
                ))

    @api.onchange("partner_id")
    def _onchange_partner_id(self):
        if self.partner_id and self.partner_id.commercial_partner_id != self.partner_id:
            self.partner_id = self.partner_id.commercial_partner_id

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_workflow_vals(vals)
            if vals.get("partner_id"):
                partner = self.env["res.partner"].browse(vals["partner_id"])
                vals["partner_id"] = partner.commercial_partner_id.id
            # the reference comes from the sequence, never from the caller
            vals["name"] = self.env["ir.sequence"].next_by_code(
                "vip.loyalty.redemption"
            ) or self.env._("New")
        redemptions = super().create(vals_list)
        redemptions._check_derived_values()
        return redemptions

    def write(self, vals):
        self._check_workflow_vals(vals)
        if vals.keys() & {"partner_id", "reward_id", "quantity", "points", "company_id"}:
            locked = self.filtered(lambda r: r.state != "draft")
            if locked:
                raise UserError(self.env._(
                    "Redemption %(name)s is %(state)s: only draft redemptions can be changed.",
                    name=locked[0].name,
                    state=dict(STATES)[locked[0].state],
                ))
        result = super().write(vals)
        if vals.keys() & {"reward_id", "quantity", "points"}:
            self._check_derived_values()
        return result

    def _check_workflow_vals(self, vals):
        """State, points move, credit note, confirmation and cash value are written by the
        buttons only (with the workflow context, as superuser): not over RPC."""
        forbidden = vals.keys() & WORKFLOW_FIELDS
        if forbidden and not (
            self.env.su and self.env.context.get("vip_loyalty_redemption_workflow")
        ):
            raise UserError(self.env._(
                "%(fields)s of a redemption are set by its Confirm, Done and Cancel buttons, "
                "not by hand.",
                fields=", ".join(
                    self._fields[f]._description_string(self.env) for f in sorted(forbidden)
                ),
            ))

    def _check_derived_values(self):
        """Points of non-cash rewards are the reward's points times the quantity; a cash
        deduction is one credit note (quantity 1). Refuse what a client sent otherwise."""
        cash = self.filtered(lambda r: r.reward_type == "cash" and r.quantity != 1)
        if cash:
            cash.write({"quantity": 1})
        for redemption in self.filtered(lambda r: r.state == "draft"):
            expected = redemption._get_expected_points()
            if expected > MAX_POINTS:
                raise ValidationError(self.env._(
                    "Redemption %(name)s: %(quantity)s × %(cost)s points is more than "
                    "%(max)s points.",
                    name=redemption.name, quantity=redemption.quantity,
                    cost=redemption.reward_id.points_cost, max=format(MAX_POINTS, ","),
                ))
            if redemption.points != expected:
                raise UserError(self.env._(
                    "Redemption %(name)s: %(reward)s costs %(expected)s points for a quantity "
                    "of %(quantity)s; its points are computed, not typed in.",
                    name=redemption.name, reward=redemption.reward_id.display_name,
                    expected=expected, quantity=redemption.quantity,
                ))

    def _write_workflow(self, vals):
        """Write the workflow fields (the buttons checked the user's rights)."""
        # sudo + context: the only way past _check_workflow_vals
        return self.sudo().with_context(vip_loyalty_redemption_workflow=True).write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_draft(self):
        for redemption in self:
            if redemption.state not in ("draft", "cancelled") or redemption.move_id:
                raise UserError(self.env._(
                    "Redemption %(name)s has used points: cancel it instead of deleting it.",
                    name=redemption.name,
                ))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def _check_manager(self):
        if not self.env.user.has_group("vip_loyalty.group_vip_loyalty_manager"):
            raise AccessError(self.env._(
                "Only loyalty managers can confirm, complete or cancel redemptions."
            ))

    def action_confirm(self):
        """Take the points, first-expiring lots first, with the customer's ledger locked."""
        self._check_manager()
        for redemption in self:
            redemption._confirm()
        return True

    def _confirm(self):
        self.ensure_one()
        if self.state != "draft":
            raise UserError(self.env._(
                "Redemption %(name)s is not a draft anymore.", name=self.name
            ))
        program = self.env["vip.loyalty.program"]._get_for_company(self.company_id)
        if not program:
            raise UserError(self.env._(
                "%(company)s has no active loyalty program.", company=self.company_id.name
            ))
        self._check_reward()
        # the points and cash value are derived again from the reward as it is now
        derived = {"points": self._get_expected_points(), "amount": self._get_expected_amount()}
        if derived["points"] > MAX_POINTS:
            raise UserError(self.env._(
                "Redemption %(name)s: %(points)s points is more than %(max)s points.",
                name=self.name, points=derived["points"], max=format(MAX_POINTS, ","),
            ))
        if (self.points, self.currency_id.round(self.amount)) != (
            derived["points"], derived["amount"]
        ):
            self._write_workflow(derived)
        if self.points <= 0:
            raise UserError(self.env._(
                "Redemption %(name)s uses no points.", name=self.name
            ))
        if self.points < program.min_redeem_points:
            raise UserError(self.env._(
                "Redemption %(name)s uses %(points)s points: the program's minimum is "
                "%(minimum)s points.",
                name=self.name, points=self.points, minimum=program.min_redeem_points,
            ))
        account = self.env["vip.loyalty.account"]._get_or_create(
            [(self.partner_id.id, self.company_id.id)]
        )[(self.partner_id.id, self.company_id.id)]
        account._lock()
        balance = account._refresh_balance()
        if balance < self.points:
            raise UserError(self.env._(
                "%(customer)s has %(balance)s points: redemption %(name)s needs %(points)s.",
                customer=self.partner_id.display_name, balance=balance, name=self.name,
                points=self.points,
            ))
        move = self.env["vip.loyalty.engine"]._post_moves([{
            "name": self.env._("Redemption %(name)s: %(reward)s",
                               name=self.name, reward=self.reward_id.name),
            "partner_id": self.partner_id.id,
            "company_id": self.company_id.id,
            "move_type": "redeem",
            "date": self.date,
            "points": -self.points,
            "redemption_id": self.id,
        }])
        vals = {
            "state": "confirmed",
            "move_id": move.id,
            "confirm_uid": self.env.uid,
            "confirm_date": fields.Datetime.now(),
        }
        if self.reward_type == "cash":
            vals["credit_note_id"] = self._create_credit_note(program).id
        self._write_workflow(vals)

    def _check_reward(self):
        reward = self.reward_id
        if not reward.active or not reward._is_available(self.date):
            raise UserError(self.env._(
                "Reward %(reward)s is not available on %(date)s.",
                reward=reward.display_name, date=self.date,
            ))
        if reward.tier_ids and self.partner_id.vip_tier_id not in reward.tier_ids:
            raise UserError(self.env._(
                "Reward %(reward)s is reserved for the tiers %(tiers)s: %(customer)s is "
                "%(tier)s.",
                reward=reward.display_name,
                tiers=", ".join(reward.tier_ids.mapped("display_name")),
                customer=self.partner_id.display_name,
                tier=self.partner_id.vip_tier_id.display_name or self.env._("without a tier"),
            ))
        if reward.quantity_limit:
            # serialize the confirmations of a limited reward (see vip.loyalty.account._lock)
            self.env.cr.execute(SQL(
                "SELECT id FROM vip_loyalty_reward WHERE id = %s FOR UPDATE", reward.id
            ))
            self.env.cr.execute(SQL(
                "UPDATE vip_loyalty_reward SET write_date = now() at time zone 'UTC' "
                "WHERE id = %s", reward.id,
            ))
            reward.invalidate_recordset(["quantity_redeemed", "quantity_left"])
            if reward.quantity_redeemed + self.quantity > reward.quantity_limit:
                raise UserError(self.env._(
                    "Reward %(reward)s: only %(left)s left, redemption %(name)s asks for "
                    "%(quantity)s.",
                    reward=reward.display_name, left=reward.quantity_left, name=self.name,
                    quantity=self.quantity,
                ))

    def _prepare_credit_note_vals(self, program):
        journal = program.redemption_journal_id or self.env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", self.company_id.id)], limit=1
        )
        if not journal:
            raise UserError(self.env._(
                "%(company)s has no sales journal for the credit note of redemption %(name)s.",
                company=self.company_id.name, name=self.name,
            ))
        line = {
            "name": self.env._("Points redemption %(name)s: %(points)s points",
                               name=self.name, points=self.points),
            "quantity": 1,
            "price_unit": self.amount,
            "tax_ids": [Command.clear()],
        }
        if program.redemption_account_id:
            line["account_id"] = program.redemption_account_id.id
        return {
            "move_type": "out_refund",
            "partner_id": self.partner_id.id,
            "company_id": self.company_id.id,
            "journal_id": journal.id,
            "invoice_date": self.date,
            "invoice_origin": self.name,
            "vip_loyalty_redemption_id": self.id,
            "invoice_line_ids": [Command.create(line)],
        }

    def _create_credit_note(self, program):
        # loyalty managers need no accounting rights: the confirmed redemption decides
        Move = self.env["account.move"].sudo().with_company(self.company_id)
        return Move.create(self._prepare_credit_note_vals(program))

    def action_done(self):
        """The reward was handed over (cash deductions: the credit note is posted)."""
        self._check_manager()
        for redemption in self:
            if redemption.state != "confirmed":
                raise UserError(self.env._(
                    "Redemption %(name)s must be confirmed first.", name=redemption.name
                ))
            credit_note = redemption.credit_note_id.sudo()  # see _create_credit_note
            if credit_note.state == "draft":
                credit_note.action_post()
        self._write_workflow({"state": "done"})
        return True

    def action_cancel(self):
        """Cancel; confirmed redemptions give their points back to the lots they came from."""
        self._check_manager()
        undo = []
        # each redemption once, even when a caller lists it twice ([[id, id]] over RPC)
        for redemption in self.browse(dict.fromkeys(self.ids)):
            if redemption.state == "cancelled":
                continue
            credit_note = redemption.credit_note_id.sudo()  # see _create_credit_note
            if credit_note.state == "posted":
                raise UserError(self.env._(
                    "Redemption %(name)s: credit note %(credit_note)s is posted. Reverse it "
                    "before cancelling the redemption.",
                    name=redemption.name, credit_note=credit_note.name,
                ))
            if credit_note.state == "draft":
                credit_note.button_cancel()
            if redemption.move_id and not redemption.reversal_move_id:
                undo.append(redemption)
        moves = self.env["vip.loyalty.engine"]._post_moves([
            {
                "name": self.env._("Cancellation of redemption %(name)s", name=redemption.name),
                "partner_id": redemption.partner_id.id,
                "company_id": redemption.company_id.id,
                "move_type": "reversal",
                "points": -redemption.move_id.points,
                "reversed_move_id": redemption.move_id.id,
                "redemption_id": redemption.id,
                "reason": self.env._("Redemption cancelled"),
            }
            for redemption in undo
        ])
        for redemption, move in zip(undo, moves, strict=True):
            redemption._write_workflow({"reversal_move_id": move.id})
        self._write_workflow({"state": "cancelled"})
        return True

    def action_draft(self):
        self._check_manager()
        if self.filtered(lambda r: r.state != "cancelled"):
            raise UserError(self.env._("Only cancelled redemptions can be reset to draft."))
        self._write_workflow({"state": "draft", "move_id": False, "reversal_move_id": False,
                              "credit_note_id": False, "confirm_uid": False,
                              "confirm_date": False})
        return True

    def action_view_credit_note(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": self.credit_note_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
