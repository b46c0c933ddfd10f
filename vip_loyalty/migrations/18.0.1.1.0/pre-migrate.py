"""The expiry-warning e-mail becomes the template of a key moment, which is a
template for contacts: its record (``noupdate``) is let through this update
once, so that the new model and body replace the account-based ones (the old
body reads fields that are gone)."""

from odoo.tools import SQL


def migrate(cr, version):
    if not version:
        return
    # ir_model_data is the loader's own bookkeeping, not a table of a business model
    cr.execute(
        SQL(
            "UPDATE ir_model_data SET noupdate = false WHERE module = %s AND name = %s",
            "vip_loyalty",
            "mail_template_points_expiry_warning",
        )
    )
