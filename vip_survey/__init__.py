from . import models
from . import report
from . import wizard
from . import demo


def uninstall_hook(env):
    """Remove the activities of this add-on's activity types before the types go.

    Activities point at their type with ``ondelete='restrict'``: left in place, the
    follow-ups of passive customers (on contacts, which outlive the add-on) would
    block the deletion of the "NPS Follow-up" type, log an ERROR and leave it behind.
    """
    type_ids = (
        env["ir.model.data"]
        .search([("module", "=", "vip_survey"), ("model", "=", "mail.activity.type")])
        .mapped("res_id")
    )
    if type_ids:
        env["mail.activity"].with_context(active_test=False).search(
            [("activity_type_id", "in", type_ids)]
        ).unlink()
