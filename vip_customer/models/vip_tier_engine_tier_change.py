"""The VIP tier engine: what a tier change does.

A tier decided by the rules is written with ``write()`` on the customers
grouped by new tier: the tier reaches the contacts by one path, Odoo's
commercial-field sync (``vip_tier_id`` is a commercial field, see
``res.partner._commercial_fields``), the same one a tier set by hand takes,
and every stored field depending on the tier (the next follow-up, other
add-ons' fields) is recomputed by the ORM. Then the tier history, a chatter
note per customer (through ``mail``'s API), the account manager a tier
requires and the tier's pricelist. The key moments of tier changes and
new churn risk episodes (the retention call) are the key-moment engine's
(``vip_tier_engine_run._signal_moments``).
"""

import datetime
from collections import defaultdict

from markupsafe import escape

from odoo import api, fields, models
from odoo.tools import SQL

from .vip_tier_engine import NOTE_TIME


class VipTierEngine(models.AbstractModel):
    _inherit = "vip.tier.engine"  # pylint: disable=consider-merging-classes-inherited

    def _apply_tier_changes(self, company, changes, today):
        """Write the tier changes of a batch and everything that follows them.

        :param changes: dicts with ``partner_id``, ``old_tier_id``,
            ``new_tier_id``, ``spend``, ``purchase_count``, ``window_months``
        """
        # as superuser with the engine flag: the rules decide (see
        # res.partner._vip_is_engine_write); no tracking, the note says it all
        Partner = (
            self.env["res.partner"].sudo().with_context(vip_engine=True, tracking_disable=True)
        )
        Tier = self.env["vip.tier"]
        partners = Partner.browse([change["partner_id"] for change in changes])
        old_tiers = {change["partner_id"]: Tier.browse(change["old_tier_id"]) for change in changes}
        by_tier = defaultdict(list)
        for change in changes:
            by_tier[change["new_tier_id"] or False].append(change["partner_id"])
        for tier_id, partner_ids in by_tier.items():
            # write(): the contacts follow by the commercial sync, dependent
            # stored fields are recomputed
            Partner.browse(partner_ids).write(
                {"vip_tier_id": tier_id, "vip_tier_since": today if tier_id else False}
            )
        # dedicated account manager for tiers that require one
        needing = partners.filtered(
            lambda p: (
                p.vip_tier_id.account_manager_required
                and not p.vip_account_manager_id
                and p.user_id
                # only VIP users may be account managers (see res.partner)
                and p.user_id._has_group("vip_customer.group_vip_user")
            )
        )
        for user, group in needing.grouped("user_id").items():
            group.write({"vip_account_manager_id": user.id})
        self._log_tier_changes(
            [
                {
                    "partner": Partner.browse(change["partner_id"]),
                    "old_tier": old_tiers[change["partner_id"]],
                    "new_tier": Tier.browse(change["new_tier_id"]),
                    "reason": "rule",
                    "date": today,
                    "spend": change["spend"],
                    "purchase_count": change["purchase_count"],
                    "window_months": change["window_months"],
                }
                for change in changes
            ]
        )
        self._apply_tier_pricelists(partners, old_tiers)

    @api.model
    def _log_tier_changes(self, changes):
        """Tier history rows and chatter notes for a batch of changes.

        ``changes``: dicts with ``partner``, ``old_tier``, ``new_tier``,
        ``reason`` and optionally ``date`` (the evaluation date, default today),
        ``spend``, ``purchase_count``, ``window_months`` and ``note``. Without
        metrics (a tier set by hand or imported) the row records the customer's
        current ones, so the history always shows what the customer stood at.

        Each note is written in the language of the people who read the
        customer's chatter (see ``res.partner._vip_get_note_lang``).
        """
        if not changes:
            return
        History = self.env["vip.tier.history"].sudo()  # audit rows are created for the rules too
        today = fields.Date.context_today(self)
        history_vals = []
        by_lang = defaultdict(list)
        # one prefetch group: the fields read below (metrics, the note's language through
        # the account manager) are fetched once for the batch, not once per customer
        prefetch = self.env["res.partner"].browse(
            [change["partner"].id for change in changes]
        )._prefetch_ids
        for change in changes:
            partner = change["partner"].with_prefetch(prefetch)
            old, new = change["old_tier"], change["new_tier"]
            company = (new or old).company_id or self.env.company
            direction = History._direction(old, new)
            has_metrics = "spend" in change or "purchase_count" in change
            history_vals.append(
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "date": change.get("date") or today,
                    "old_tier_id": old.id or False,
                    "new_tier_id": new.id or False,
                    "direction": direction,
                    "reason": change["reason"],
                    "spend": change.get("spend") if has_metrics else partner.vip_spend,
                    "purchase_count": (
                        change.get("purchase_count")
                        if has_metrics
                        else partner.vip_purchase_count
                    ),
                    "window_months": change.get("window_months")
                    or (partner.vip_company_id or company).vip_window_months
                    or 12,
                    "note": change.get("note") or False,
                    "user_id": self.env.uid,
                }
            )
            by_lang[partner._vip_get_note_lang()].append((partner, old, new, direction, change))
        bodies, dates = {}, {}
        for lang, lang_changes in by_lang.items():
            engine = self.with_context(lang=lang)
            labels = engine._tier_note_labels()  # once per language, not per note
            for partner, old, new, direction, change in lang_changes:
                bodies[partner.id] = engine._prepare_tier_note(
                    old, new, direction, change["reason"], labels=labels
                )
                # a run for a past date (a replay, the demo) notes the change on that day
                if change.get("date") and change["date"] < today:
                    dates[partner.id] = datetime.datetime.combine(change["date"], NOTE_TIME)
        self._insert_history(history_vals)
        self._insert_notes(bodies, dates)

    def _tier_note_labels(self):
        """The direction and reason labels of the tier notes in the language of
        the context: ``({direction: label}, {reason: label})``."""
        env = self.env
        History = env["vip.tier.history"]
        return (
            dict(History._fields["direction"]._description_selection(env)),
            dict(History._fields["reason"]._description_selection(env)),
        )

    def _prepare_tier_note(self, old_tier, new_tier, direction, reason, labels=None):
        """Hook: the chatter note of one tier change, in the language of the
        context (tier names, direction and reason translated).

        :param labels: :meth:`_tier_note_labels` of the context's language, when
            the caller writes many notes (read once, not once per note)
        """
        env = self.env
        directions, reasons = labels or self._tier_note_labels()
        return env._(
            "VIP tier: %(old)s → %(new)s (%(direction)s, %(reason)s)",
            old=old_tier.with_env(env).display_name or env._("none"),
            new=new_tier.with_env(env).display_name or env._("none"),
            direction=directions[direction],
            reason=reasons[reason],
        )

    def _insert_history(self, vals_list):
        """The history rows in one INSERT: an audit table written for every
        change of a nightly run, where create() per row would dominate."""
        columns = {
            "partner_id": "int4",
            "company_id": "int4",
            "date": "date",
            "old_tier_id": "int4",
            "new_tier_id": "int4",
            "direction": "varchar",
            "reason": "varchar",
            "spend": "numeric",
            "purchase_count": "int4",
            "window_months": "int4",
            "note": "varchar",
            "user_id": "int4",
        }
        arrays = SQL(", ").join(
            SQL("%s::" + sql_type + "[]", [vals[col] or None for vals in vals_list])
            for col, sql_type in columns.items()
        )
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO vip_tier_history (%(names)s, create_uid, write_uid,
                                              create_date, write_date)
                SELECT v.*, %(uid)s, %(uid)s,
                       NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC'
                  FROM unnest(%(arrays)s) AS v(%(names)s)
                """,
                names=SQL(", ").join(SQL.identifier(col) for col in columns),
                uid=self.env.uid,
                arrays=arrays,
            )
        )
        self.env["res.partner"].invalidate_model(["vip_tier_history_ids"])

    def _insert_notes(self, bodies, dates=None):
        """Chatter notes on the customers through ``mail.thread._message_log_batch``
        (a note, no notification), so ``mail``'s own logic and other modules'
        overrides of message creation apply. ``dates``: the message date per
        customer when not now (a replay of past days notes the change on that day).
        """
        dates = dates or {}
        if not bodies:
            return
        # sudo: the engine writes the notes of customers the cron user may not read
        partners = self.env["res.partner"].sudo().browse(list(bodies))
        messages = partners._message_log_batch(
            {res_id: escape(body) for res_id, body in bodies.items()}
        )
        by_date = defaultdict(self.env["mail.message"].sudo)
        for message in messages:
            if dates.get(message.res_id):
                by_date[dates[message.res_id]] |= message
        for date, dated in by_date.items():
            dated.write({"date": date})

    @api.model
    def _apply_tier_pricelists(self, partners, old_tiers):
        """Set the tier's pricelist on customers entering a tier that has one;
        customers leaving it get their default pricelist back if they still had
        the old tier's one."""
        to_set = defaultdict(lambda: self.env["res.partner"])
        for partner in partners:
            old = old_tiers.get(partner.id) or self.env["vip.tier"]
            new = partner.vip_tier_id
            company = (new or old).company_id
            if not company:
                continue
            current = partner.with_company(company).specific_property_product_pricelist
            if new.pricelist_id and current != new.pricelist_id:
                to_set[(company, new.pricelist_id.id)] |= partner
            elif not new.pricelist_id and old.pricelist_id and current == old.pricelist_id:
                to_set[(company, False)] |= partner
        for (company, pricelist_id), group in to_set.items():
            # sudo: the tier decides the pricelist, also on contacts the caller cannot edit
            contacts = group | self.env["res.partner"].sudo().search(
                [("commercial_partner_id", "in", group.ids)]
            )
            contacts.sudo().with_company(company).write(
                {"specific_property_product_pricelist": pricelist_id}
            )
