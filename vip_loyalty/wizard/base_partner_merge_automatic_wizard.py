from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from odoo.addons.vip_customer.models.vip_bounds_mixin import INT_MAX

from ..models.vip_loyalty_account import PARTNER_FIELDS


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    @api.model
    def _update_foreign_keys(self, src_partners, dst_partner):
        """A customer has one points account per company. Where the merged contacts
        hold several in one company, the generic merge cannot move them all to the
        customer kept (unique) nor delete the extra ones (their ledger): it failed.
        The accounts of a company are joined first, none of their points lost."""
        self._vip_join_loyalty_accounts(src_partners, dst_partner)
        return super()._update_foreign_keys(src_partners, dst_partner)

    @api.model
    def _vip_join_loyalty_accounts(self, src_partners, dst_partner):
        """Per company, the moves of every account of the merged contacts go to one
        account (the kept customer's, else the first, which the generic merge then
        moves to them), whose totals add the others' (totals are the ledger's sums);
        the emptied accounts are deleted. Plain SQL on the ledger's own tables, like
        the engine's writes; the accounts are locked first, like every ledger change."""
        # sudo: the ledger is the engine's; the merging user need not read it
        Account = self.env["vip.loyalty.account"].sudo()
        accounts = Account.search(
            [("partner_id", "in", (src_partners | dst_partner).ids)], order="id"
        )
        joins = {}  # {account emptied: account kept}
        for _company, company_accounts in accounts.grouped("company_id").items():
            kept = company_accounts.filtered(lambda a: a.partner_id == dst_partner)[:1]
            kept = kept or company_accounts[:1]
            joins.update(dict.fromkeys((company_accounts - kept).ids, kept.id))
        if not joins:
            return
        totals = Account.browse([*joins, *joins.values()])._lock()
        for kept_id in set(joins.values()):
            joined = [kept_id] + [src for src, dst in joins.items() if dst == kept_id]
            if any(
                abs(sum(totals[account_id][column] for account_id in joined)) > INT_MAX
                for column in (0, 1)
            ):
                raise UserError(
                    self.env._(
                        "%(customer)s: the merged points accounts hold more points than an "
                        "account can (%(max)s).",
                        customer=Account.browse(kept_id).partner_id.display_name,
                        max=f"{INT_MAX:,}",
                    )
                )
        self.env.flush_all()
        pairs = SQL(
            "unnest(%s::int[], %s::int[]) AS j(src, dst)", list(joins), list(joins.values())
        )
        cr = self.env.cr
        cr.execute(
            SQL(
                "UPDATE vip_loyalty_move m SET account_id = j.dst FROM %s "
                "WHERE m.account_id = j.src",
                pairs,
            )
        )
        cr.execute(
            SQL(
                """
                UPDATE vip_loyalty_account a
                   SET balance = a.balance + s.balance,
                       lifetime_earned = a.lifetime_earned + s.lifetime_earned,
                       write_date = now() at time zone 'UTC', write_uid = %(uid)s
                  FROM (SELECT j.dst, SUM(o.balance) AS balance,
                               SUM(o.lifetime_earned) AS lifetime_earned
                          FROM vip_loyalty_account o JOIN %(pairs)s ON o.id = j.src
                         GROUP BY j.dst) s
                 WHERE a.id = s.dst
                """,
                uid=self.env.uid,
                pairs=pairs,
            )
        )
        cr.execute(SQL("DELETE FROM vip_loyalty_account WHERE id = ANY(%s)", list(joins)))
        self.env.invalidate_all()
        self.env["res.partner"].invalidate_model(PARTNER_FIELDS)
