from odoo import fields, models
from odoo.tools import SQL
from odoo.tools.sql import create_index

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


class AccountMove(models.Model):
    _inherit = "account.move"

    def init(self):
        super().init()
        # commercial_partner_id is stored but not indexed by account: the tier
        # engine's per-customer recompute and purchase aggregates need it.
        create_index(
            self.env.cr,
            "account_move_vip_purchase_index",
            self._table,
            ["commercial_partner_id", "company_id", "invoice_date"],
            where="state = 'posted' AND move_type IN ('out_invoice', 'out_refund')",
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
