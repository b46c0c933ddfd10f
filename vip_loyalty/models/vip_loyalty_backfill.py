from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_date

BACKFILL_BATCH_SIZE = 1000
# the first batch of a call under a time limit (see ir.cron._vip_call_budget)
FIRST_BATCH_SIZE = 100
# written by the run only (see VipLoyaltyBackfill._check_run_fields)
RUN_FIELDS = frozenset(
    {"state", "user_id", "date_done", "phase", "last_invoice_id", "invoice_count"}
)


class VipLoyaltyBackfill(models.Model):
    """Award points for invoices posted before the program existed.

    A manager picks a period (and a company); the run goes through the posted
    customer invoices of the period, then their credit notes, in batches, and
    gives each invoice what the earning rule gives a new one
    (``vip.loyalty.engine._sync_invoices``), so that:

    * an invoice that already earned (or was awarded by an earlier run) is
      skipped: running again is a no-op, and the earning rule later finds the
      invoice's points already there and never doubles them;
    * the moves reference their invoice and this run (``backfill_id``), so the
      awards can be found and audited;
    * the work is handed to a cron that goes on batch after batch (never inside
      the click's request).
    """

    _name = "vip.loyalty.backfill"
    _inherit = ["vip.company.guard.mixin"]
    _description = "Award Points for Past Invoices"
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company,
        domain=lambda self: [("id", "in", self.env.user.company_ids.ids)],
        help="Company whose invoices earn (a company of the program).",
    )
    date_from = fields.Date(
        string="Invoices From", required=True,
        help="Posted customer invoices dated from this day on earn their points.",
    )
    date_to = fields.Date(
        string="Invoices Until", help="Last invoice date included. Empty: up to today.",
    )
    expiry_from = fields.Selection(
        [("invoice", "Invoice date"), ("award", "Award date")],
        string="Validity Counted From", required=True, default="award",
        help="Invoice date: points of old invoices may already be expired, as if the program "
        "had always existed. Award date: the points are valid the program's validity from today.",
    )
    state = fields.Selection(
        [("draft", "Draft"), ("running", "Running"), ("done", "Done")],
        required=True, default="draft", readonly=True, copy=False,
    )
    user_id = fields.Many2one(
        "res.users", string="Started By", readonly=True, copy=False,
    )
    date_done = fields.Datetime(string="Finished On", readonly=True, copy=False)
    phase = fields.Selection(
        [("out_invoice", "Invoices"), ("out_refund", "Credit Notes")],
        default="out_invoice", readonly=True, copy=False,
        help="Invoices are awarded before credit notes, which take back at most what their "
        "invoice holds.",
    )
    # the resume marker of the cron: an invoice that earns nothing (zero amount, a credit
    # note of an invoice that holds no points) stays without points, so "invoices without
    # points" alone would select it again at every batch
    last_invoice_id = fields.Integer(readonly=True, copy=False)
    invoice_count = fields.Integer(
        string="Invoices Processed", readonly=True, copy=False,
    )
    move_ids = fields.One2many(
        "vip.loyalty.move", "backfill_id", string="Points Awarded", readonly=True,
    )
    move_count = fields.Integer(compute="_compute_move_stats", string="Moves")
    points_total = fields.Integer(compute="_compute_move_stats", string="Points")
    pending_count = fields.Integer(
        compute="_compute_pending_count", string="Invoices to Award",
        help="Posted invoices and credit notes of the period that hold no points yet.",
    )

    @api.depends("date_from", "date_to")
    def _compute_name(self):
        for run in self:
            run.name = self.env._(
                "Past invoices from %(start)s to %(end)s",
                start=format_date(self.env, run.date_from) if run.date_from else "…",
                end=format_date(self.env, run.date_to) if run.date_to else self.env._("today"),
            )

    def _compute_move_stats(self):
        groups = {
            run: (count, points)
            for run, count, points in self.env["vip.loyalty.move"]._read_group(
                [("backfill_id", "in", self.ids)], ["backfill_id"], ["__count", "points:sum"]
            )
        }
        for run in self:
            run.move_count, run.points_total = groups.get(run, (0, 0))

    @api.depends("date_from", "date_to", "company_id")
    def _compute_pending_count(self):
        for run in self:
            run.pending_count = (
                run._invoices().search_count(run._get_invoice_domain(("out_invoice", "out_refund")))
                if run.date_from else 0
            )

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        today = fields.Date.context_today(self)
        for run in self:
            if run.date_to and run.date_to < run.date_from:
                raise UserError(self.env._("The period ends before it starts."))
            if run.date_from > today:
                raise UserError(self.env._("Invoices From: %(date)s is in the future.",
                                           date=run.date_from))

    def _check_run_fields(self, fields_written):
        """The run's own fields (state, phase, resume marker, counts, who started it
        and when it ended) are the run's record of what it did: only the run writes
        them (``action_start`` and the cron, as superuser), never a client, whatever
        its group (a read-only field in the form protects nothing over RPC)."""
        forbidden = set(fields_written) & RUN_FIELDS
        if forbidden and not self.env.su:
            names = ", ".join(sorted(self._fields[name].string for name in forbidden))
            raise UserError(self.env._(
                "%(fields)s of an award of past invoices are set by the award itself "
                "(Start, then the scheduled run).",
                fields=names,
            ))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_run_fields(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_run_fields(vals)
        if vals.keys() & {"date_from", "date_to", "expiry_from", "company_id"} and self.filtered(
            lambda r: r.state != "draft"
        ):
            raise UserError(self.env._("A started award cannot change its period."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never_started(self):
        # sudo: the moves of an award are counted whoever deletes it
        if self.filtered(lambda r: r.state != "draft") or self.sudo().move_ids:
            raise UserError(self.env._(
                "A started award is part of the points audit trail: it cannot be deleted."
            ))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_start(self):
        """Start the award: the cron goes through the invoices batch after batch
        (triggered now), never all of them inside the click's request."""
        if not self.env.user.has_group("vip_loyalty.group_vip_loyalty_manager"):
            raise AccessError(self.env._("Only loyalty managers can award points."))
        for run in self:
            if run.state != "draft":
                raise UserError(self.env._("%(run)s was already started.", run=run.name))
            if not self.env["vip.loyalty.program"]._get_for_company(run.company_id):
                raise UserError(self.env._(
                    "%(company)s has no active loyalty program.", company=run.company_id.name
                ))
        # sudo: the run's own fields (see _check_run_fields); the rights were checked above
        self.sudo().write({"state": "running", "user_id": self.env.uid})
        self.env.ref("vip_loyalty.ir_cron_vip_loyalty_backfill")._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": self.env._("Award started"),
                "message": self.env._(
                    "The past invoices earn their points in the background, batch by batch; "
                    "the award shows Done when all are processed."
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_view_moves(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_loyalty.vip_loyalty_move_action"
        )
        action["domain"] = [("backfill_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    # ------------------------------------------------------------------
    # Business
    # ------------------------------------------------------------------
    def _invoices(self):
        # sudo: a loyalty manager awards points without accounting rights; invoices are
        # only read (their points are the ledger's)
        return self.env["account.move"].sudo().with_company(self.company_id)

    def _get_invoice_domain(self, move_types):
        """Posted customer documents of the period that hold no points yet."""
        self.ensure_one()
        domain = [
            ("company_id", "=", self.company_id.id),
            ("move_type", "in", list(move_types)),
            ("state", "=", "posted"),
            ("invoice_date", ">=", self.date_from),
            ("vip_loyalty_redemption_id", "=", False),
            ("vip_loyalty_move_ids", "=", False),
        ]
        if self.date_to:
            domain.append(("invoice_date", "<=", self.date_to))
        return domain

    def _process_batch(self, batch_size=BACKFILL_BATCH_SIZE):
        """Award the next batch of invoices of this run (invoices first, then credit notes).

        :return: number of invoices processed
        """
        self.ensure_one()
        if self.state != "running":
            return 0
        # sudo: the run's own fields are written by the run only (see _check_run_fields)
        run = self.sudo()
        invoices = self._invoices().search(
            self._get_invoice_domain([self.phase]) + [("id", ">", self.last_invoice_id)],
            order="id", limit=batch_size,
        )
        if not invoices:
            if self.phase == "out_invoice":
                run.write({"phase": "out_refund", "last_invoice_id": 0})
                return self._process_batch(batch_size)
            run.write({"state": "done", "date_done": fields.Datetime.now()})
            return 0
        program = self.env["vip.loyalty.program"]._get_for_company(self.company_id)
        expiry = (
            program._expiry_date(fields.Date.context_today(self))
            if self.expiry_from == "award" else None
        )
        self.env["vip.loyalty.engine"].with_context(
            vip_loyalty_backfill_id=self.id,
            vip_loyalty_backfill_expiry=fields.Date.to_string(expiry) if expiry else False,
        )._sync_invoices(invoices)
        run.write({
            "last_invoice_id": invoices[-1].id,
            "invoice_count": self.invoice_count + len(invoices),
        })
        if not self._get_remaining_count():
            run.write({"state": "done", "date_done": fields.Datetime.now()})
        return len(invoices)

    def _run_to_end(self, batch_size=BACKFILL_BATCH_SIZE):
        """Every batch now (tests, demo data): what the cron does over several calls."""
        self.ensure_one()
        while self.state == "running":
            self._process_batch(batch_size)
        return True

    def _get_remaining_count(self):
        """Invoices this running award still has to go through: those of its
        current phase after the last one done, and the credit notes while it is
        still on invoices."""
        self.ensure_one()
        if self.state != "running":
            return 0
        Invoice = self._invoices()
        remaining = Invoice.search_count(
            self._get_invoice_domain([self.phase]) + [("id", ">", self.last_invoice_id)]
        )
        if self.phase == "out_invoice":
            remaining += Invoice.search_count(self._get_invoice_domain(["out_refund"]))
        return remaining

    @api.model
    def _cron_award_past_invoices(self, batch_size=BACKFILL_BATCH_SIZE):
        """Go on with the running awards, the oldest run first (runs with nothing
        left are closed on the way), reporting the invoices done and those left
        over every running award; the cron runner commits and calls again while
        some remain. Called by the runner, a call sizes its batches by time
        (``ir.cron._vip_call_budget``) until its share of the server's cron
        limit is spent; otherwise it is one batch."""
        budget = self.env["ir.cron"]._vip_call_budget(batch_size, FIRST_BATCH_SIZE)
        if budget.deferred:
            return self.env["ir.cron"]._vip_defer_call()
        # sudo: the cron goes on with what a manager started, in every company
        runs = self.sudo().search([("state", "=", "running")], order="id")
        done = 0
        for size in budget:
            count = 0
            for run in runs.filtered(lambda r: r.state == "running"):
                count = run._process_batch(size)
                if count:
                    break
            budget.spent(count)
            done += count
            if not count:
                budget.stop()
        remaining = sum(run._get_remaining_count() for run in runs)
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
