"""Follow-up cadences are key-moment rules: when one changes, or one of their
key moments, the next follow-up of its customers
(``res.partner.vip_next_followup_date``) follows; which built-in rule a rule
is (``builtin_code``) is the program's to say."""

from odoo import api, models
from odoo.exceptions import AccessError

# customers whose next follow-up is computed again at once when a cadence rule
# changes (one query each; the batch's records are dropped from the cache after)
CADENCE_RECOMPUTE_BATCH_SIZE = 1000
# the rule fields the next follow-up of a customer is computed from
CADENCE_FIELDS = frozenset(
    {"active", "trigger_type", "interval_days", "tier_ids", "company_id", "builtin_code"}
)


class VipMomentRule(models.Model):
    _inherit = "vip.moment.rule"  # pylint: disable=consider-merging-classes-inherited

    @api.model_create_multi
    def create(self, vals_list):
        self._check_builtin_code_vals(vals_list)
        rules = super().create(vals_list)
        rules._recompute_cadence_partners()
        return rules

    def write(self, vals):
        self._check_builtin_code_vals([vals])
        if not CADENCE_FIELDS & set(vals):
            return super().write(vals)
        before = self.filtered(lambda r: r.trigger_type == "cadence").company_id
        result = super().write(vals)
        after = self.filtered(lambda r: r.trigger_type == "cadence").company_id
        self._recompute_cadence_partners(before | after)
        return result

    def unlink(self):
        companies = self.filtered(lambda r: r.trigger_type == "cadence").company_id
        result = super().unlink()
        self._recompute_cadence_partners(companies)
        return result

    def _check_builtin_code_vals(self, vals_list):
        if not self.env.su and any(
            "builtin_code" in vals or "builtin" in vals for vals in vals_list
        ):
            raise AccessError(
                self.env._("Which built-in key moment a rule is is set by the VIP add-ons only.")
            )

    def _recompute_cadence_partners(self, companies=None, batch_size=None):
        """The next follow-up of the customers of these cadence rules'
        companies is computed again, ``batch_size`` customers at a time in id
        order (keyset pagination): each batch is computed (one query), written
        and dropped from the cache before the next one is read, so the memory
        does not grow with the number of customers of the program (a whole
        company's customers marked at once were computed and held together at
        the next flush)."""
        if companies is None:
            companies = self.filtered(lambda r: r.trigger_type == "cadence").company_id
        if not companies:
            return
        batch_size = batch_size or CADENCE_RECOMPUTE_BATCH_SIZE
        # sudo: the next follow-up is the program's, whoever changed the rule
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        field = Partner._fields["vip_next_followup_date"]
        domain = [("vip_company_id", "in", companies.ids), ("vip_tier_id", "!=", False)]
        last_id = 0
        while True:
            batch = Partner.search(domain + [("id", ">", last_id)], order="id", limit=batch_size)
            if not batch:
                break
            last_id = batch[-1].id
            self.env.add_to_compute(field, batch)
            batch.flush_recordset([field.name])
            # written: what the batch read is dropped (flushed first, nothing is lost)
            batch.invalidate_recordset()


# the occurrence fields the next follow-up of a customer is computed from
OCCURRENCE_FIELDS = frozenset(
    {"state", "date_deadline", "date_done", "occasion_date", "partner_id", "rule_id"}
)


class VipMomentOccurrence(models.Model):
    _inherit = "vip.moment.occurrence"  # pylint: disable=consider-merging-classes-inherited

    @api.model_create_multi
    def create(self, vals_list):
        occurrences = super().create(vals_list)
        occurrences._recompute_next_followup()
        return occurrences

    def write(self, vals):
        if not OCCURRENCE_FIELDS & set(vals):
            return super().write(vals)
        self._recompute_next_followup()
        result = super().write(vals)
        self._recompute_next_followup()
        return result

    def unlink(self):
        self._recompute_next_followup()
        return super().unlink()

    def _recompute_next_followup(self):
        """The customers of these cadence moments get their next follow-up
        computed again (at the next flush, in one query for all of them)."""
        # sudo: the next follow-up is the program's, whoever processed the moment
        partners = self.sudo().filtered(lambda o: o.trigger_type == "cadence").partner_id
        if partners:
            self.env.add_to_compute(partners._fields["vip_next_followup_date"], partners)
