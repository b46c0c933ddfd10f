import math

from odoo import api, models
from odoo.exceptions import ValidationError

# PostgreSQL int4: every Integer column
INT_MAX = 2**31 - 1


class VipBoundsMixin(models.AbstractModel):
    """Numbers typed by people checked before they reach the database.

    Without it a very large number over RPC, in a form or in a file surfaces as
    psycopg2's "integer out of range". Every Integer field written through
    ``create``/``write`` must fit an int4; the bounds of ``_get_vip_bounds``
    (``{field: (minimum, maximum)}``) narrow it, and bound other numbers, to
    what the business allows. The error names the field (its label, in the
    user's language).
    """

    _name = "vip.bounds.mixin"
    _description = "VIP: bounded numbers"

    @api.model
    def _get_vip_bounds(self):
        """``{field name: (minimum, maximum)}`` of the numbers people may type; a hook."""
        return {}

    @api.model
    def _check_vip_bounds(self, vals):
        bounds = self._get_vip_bounds()
        for fname, value in vals.items():
            field = self._fields.get(fname)
            if field is None or field.type not in ("integer", "float", "monetary"):
                continue
            if fname not in bounds and field.type != "integer":
                continue
            if value is False or value is None:
                continue
            label = field._description_string(self.env)
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ValidationError(
                    self.env._("%(field)s: %(value)s is not a number.", field=label, value=value)
                ) from None
            low, high = bounds.get(fname, (-INT_MAX, INT_MAX))
            if field.type == "integer":
                low, high = max(low, -INT_MAX), min(high, INT_MAX)
            if math.isnan(number) or not low <= number <= high:
                raise ValidationError(
                    self.env._(
                        "%(field)s: %(value)s is out of range (from %(low)s to %(high)s).",
                        field=label,
                        value=value,
                        low=format(low, ","),
                        high=format(high, ","),
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_vip_bounds(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_vip_bounds(vals)
        return super().write(vals)
