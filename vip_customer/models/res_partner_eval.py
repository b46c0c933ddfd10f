"""When the incremental tier night must look at a customer again.

``vip_eval_date`` is the next day a customer's tier, metrics or churn risk can
change (see ``vip.tier.engine``): the engine stores it after each evaluation
(the day a purchase leaves a window, a pending downgrade or a lock ends, the
recency component moves up a step, a dated churn signal ends), and every change
of what the engine reads brings it forward (:meth:`_vip_mark_for_evaluation`):
purchases posted, changed or cancelled (``account.move``), the partner fields
the engine reads (below), signals of other add-ons (tickets, survey answers).
The nightly run evaluates the customers whose date has come, a full run every
customer.
"""

from odoo import api, fields, models
from odoo.tools import SQL

from .res_partner import VIP_USER

# Partner fields the tier engine reads: a change by hand (or by another module)
# means the customer is evaluated at the next night.
EVAL_FIELDS = frozenset(
    {
        "parent_id",
        "is_company",
        "company_id",
        "vip_company_id",
        "vip_tier_id",
        "vip_locked",
        "vip_lock_until",
        "vip_downgrade_date",
        "vip_pending_tier_id",
    }
)

CREATE_FIELDS = frozenset({"vip_tier_id", "vip_company_id", "vip_locked"})
# The engine's own bookkeeping (refused to everyone: DERIVED_FIELDS).
ENGINE_OWN = frozenset({"vip_eval_date", "vip_eval_mark"})


class ResPartner(models.Model):
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    vip_eval_date = fields.Date(
        string="Next Evaluation",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="The next night the tier rules look at this customer again: the day a "
        "purchase leaves the tier window, a pending downgrade or a lock ends, or the "
        "churn risk can move. A new, changed or cancelled purchase brings it forward.",
        groups=VIP_USER,
    )
    # How many times the customer was marked: the engine keeps a mark made while it
    # evaluated the customer (its write compares the count read before the batch).

    vip_eval_mark = fields.Integer(
        string="Evaluation Marks", copy=False, readonly=True, groups=VIP_USER
    )

    @api.model_create_multi
    def create(self, vals_list):
        partners = super().create(vals_list)
        # a new partner has no purchase yet: only a tier or a lock given at once counts
        if any(CREATE_FIELDS & vals.keys() for vals in vals_list):
            partners._vip_mark_for_evaluation()
        return partners

    def write(self, vals):
        if self.env.context.get("vip_customer_merge") and ENGINE_OWN & vals.keys():
            # Odoo's merge copies every stored field of the merged contacts; the
            # engine evaluates the customer kept right after (its own dates)
            vals = {key: value for key, value in vals.items() if key not in ENGINE_OWN}
        relevant = EVAL_FIELDS & vals.keys() and not self._vip_is_engine_write()
        before = (self | self.commercial_partner_id) if relevant else self.browse()
        result = super().write(vals)
        if relevant:
            (before | self.commercial_partner_id)._vip_mark_for_evaluation()
        return result

    def _vip_mark_for_evaluation(self, dates=None):
        """Have the tier engine evaluate these customers (their commercial
        partners) at the next night, or on a given day.

        The API for anything the engine reads that changes outside this module:
        a purchase source added through ``vip.tier.engine._get_purchase_sources``
        calls it for the customers whose purchases changed, with the purchase
        date (a future date: evaluated on that day).

        :param dates: ``{partner_id: date}``; default: today for every partner.
            The earlier of the stored date and the given one is kept.
        """
        if dates is None:
            today = fields.Date.context_today(self)
            dates = dict.fromkeys(self.ids, today)
        dates = {pid: day for pid, day in dates.items() if pid and day}
        if not dates:
            return
        # the commercial partner carries the customer's purchases
        self.env["res.partner"].flush_model(["commercial_partner_id", "vip_eval_date"])
        ids = list(dates)
        days = [fields.Date.to_date(dates[pid]) for pid in ids]
        self.env.cr.execute(
            SQL(
                """
                UPDATE res_partner rp
                   SET vip_eval_date = LEAST(COALESCE(rp.vip_eval_date, v.day), v.day),
                       vip_eval_mark = COALESCE(rp.vip_eval_mark, 0) + 1
                  FROM (SELECT c.commercial_partner_id AS id, MIN(m.day) AS day
                          FROM unnest(%(ids)s::int4[], %(days)s::date[]) AS m(id, day)
                          JOIN res_partner c ON c.id = m.id
                         WHERE c.commercial_partner_id IS NOT NULL
                         GROUP BY c.commercial_partner_id) v
                 WHERE rp.id = v.id
                RETURNING rp.id
                """,
                ids=ids,
                days=days,
            )
        )
        marked = [row[0] for row in self.env.cr.fetchall()]
        if marked:
            self.env["res.partner"].browse(marked).invalidate_recordset(
                ["vip_eval_date", "vip_eval_mark"]
            )

