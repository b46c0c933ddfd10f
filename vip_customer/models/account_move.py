from odoo import fields, models
from odoo.tools import SQL

# What the tier engine reads of a customer invoice or credit note: a change of
# any of them (by write() or a stored compute: amounts, payment state) has its
# customer evaluated at the next incremental night.
PURCHASE_FIELDS = frozenset(
    {
        "state",
        "move_type",
        "invoice_date",
        "amount_total_signed",
        "amount_untaxed_signed",
        "payment_state",
        "commercial_partner_id",
        "company_id",
    }
)

# The purchases index (see AccountMove.init) and the columns it carries besides its key.
PURCHASE_INDEX = "account_move_vip_purchase_cover_index"
PURCHASE_INDEX_INCLUDE = (
    "move_type",
    "payment_state",
    "amount_untaxed_signed",
    "amount_total_signed",
)


class AccountMove(models.Model):
    _inherit = "account.move"

    def init(self):
        super().init()
        # commercial_partner_id is stored but not indexed by account: the tier
        # engine's per-customer aggregates and the customer value need it. The
        # index covers every column they read (INCLUDE), so a batch of customers
        # is read from the index alone (index-only scan), without a heap fetch
        # per invoice: 0.14 s instead of 0.84 s for 5,000 customers spread over
        # 2M invoices. The first version, without INCLUDE, is replaced.
        self.env.cr.execute(SQL("DROP INDEX IF EXISTS account_move_vip_purchase_index"))
        self.env.cr.execute(
            SQL(
                """CREATE INDEX IF NOT EXISTS %(index)s ON %(table)s
                       (commercial_partner_id, company_id, invoice_date)
                       INCLUDE (%(included)s)
                    WHERE state = 'posted' AND move_type IN ('out_invoice', 'out_refund')""",
                index=SQL.identifier(PURCHASE_INDEX),
                table=SQL.identifier(self._table),
                included=SQL(", ").join(SQL.identifier(col) for col in PURCHASE_INDEX_INCLUDE),
            )
        )

    def _vip_purchase_dates(self):
        """``{commercial partner id: earliest invoice date}`` of these moves as
        the database holds them now, for the posted customer invoices and
        credit notes (what the tier engine counts)."""
        if not self.ids:
            return {}
        rows = self.env.execute_query(
            SQL(
                """SELECT commercial_partner_id, MIN(COALESCE(invoice_date, %(today)s))
                     FROM account_move
                    WHERE id = ANY(%(ids)s) AND state = 'posted'
                      AND move_type IN ('out_invoice', 'out_refund')
                      AND commercial_partner_id IS NOT NULL
                    GROUP BY commercial_partner_id""",
                ids=list(self.ids),
                today=fields.Date.context_today(self),
            )
        )
        return dict(rows)

    def _write_multi(self, vals_list):
        # the low-level write: reached by write() and by the flush of stored
        # computes (amounts, payment state) alike
        if not any(PURCHASE_FIELDS & vals.keys() for vals in vals_list):
            return super()._write_multi(vals_list)
        before = self._vip_purchase_dates()
        result = super()._write_multi(vals_list)
        after = self._vip_purchase_dates()
        self._vip_mark_purchases(before, after)
        return result

    def _create(self, data_list):
        records = super()._create(data_list)
        # moves are created in draft and posted by a write; a move created
        # posted (imports, other modules) counts at once
        if any(data["stored"].get("state") == "posted" for data in data_list):
            self._vip_mark_purchases(records._vip_purchase_dates())
        return records

    def _vip_mark_purchases(self, *date_maps):
        dates = {}
        for date_map in date_maps:
            for partner_id, day in date_map.items():
                dates[partner_id] = min(day, dates.get(partner_id, day))
        if dates:
            self.env["res.partner"].sudo()._vip_mark_for_evaluation(dates)
