from odoo import api, models
from odoo.exceptions import AccessError


class VipCompanyGuardMixin(models.AbstractModel):
    """Company-bound records stay inside the writer's companies.

    Record rules let a user see and edit the records of their companies; nothing
    in them stops the user from writing ``company_id`` = another company, which
    moves the record out of their own reach into a company they do not belong
    to (or creating it there). Creating or writing a record whose company
    (``_vip_company_guard_field``) is not one of the user's companies
    (``self.env.user.company_ids``) raises an AccessError naming the field and
    the company. A record without a company (shared) is allowed; the superuser
    (crons, the engine in sudo, install) is not checked.

    Usage: ``_inherit = [..., "vip.company.guard.mixin"]``.
    """

    _name = "vip.company.guard.mixin"
    _description = "VIP: records kept in the user's companies"

    _vip_company_guard_field = "company_id"

    def _check_vip_company_guard(self, companies=None):
        """Raise unless ``companies`` (default: the records' companies) are the user's."""
        if self.env.su:
            return
        fname = self._vip_company_guard_field
        field = self._fields.get(fname)
        if field is None:
            return
        if companies is None:
            companies = self.mapped(fname)
        allowed = self.env.user.company_ids
        for company in companies:
            if company not in allowed:
                raise AccessError(
                    self.env._(
                        "%(field)s: you are not a member of the company %(company)s; "
                        "a %(model)s cannot be created in or moved to it.",
                        field=field._description_string(self.env),
                        company=company.sudo().display_name,
                        model=self._description,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        fname = self._vip_company_guard_field
        if fname in self._fields:
            company_ids = {vals[fname] for vals in vals_list if vals.get(fname)}
            self._check_vip_company_guard(self.env["res.company"].browse(company_ids).exists())
        # defaults and computed companies are checked once known
        records = super().create(vals_list)
        records._check_vip_company_guard()
        return records

    def write(self, vals):
        fname = self._vip_company_guard_field
        if vals.get(fname) and fname in self._fields:
            # refused before anything is written
            self._check_vip_company_guard(self.env["res.company"].browse(vals[fname]).exists())
        return super().write(vals)
