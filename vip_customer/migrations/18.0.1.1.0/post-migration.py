"""Done VIP follow-ups stay (archived, with their done date) from now on.

A fresh install gets ``keep_done`` from the activity type's data, which is
``noupdate``: a database installed before the account-manager scorecard gets
it here, once, so an admin who turns it off later keeps that choice.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    followup_type = env.ref(
        "vip_customer.mail_activity_type_vip_followup", raise_if_not_found=False
    )
    if followup_type:
        followup_type.keep_done = True
