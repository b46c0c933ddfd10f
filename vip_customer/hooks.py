from odoo.tools import SQL


def uninstall_hook(env):
    """Leave nothing that blocks the removal of the add-on's records or a reinstall.

    - The tier history is the add-on's own audit table, dropped right after:
      emptied first, its rows point to the tiers Odoo deletes.
    - Customers point to their tier (a restricting reference, a column dropped
      right after): cleared first, through the ORM.
    - The add-on's activities (follow-ups, retention calls, gifts) point to the
      activity types Odoo deletes: removed.
    - Demo customers keep their invoices: they stay as ordinary contacts (their
      xml ids go), and the demo loader finds them again on a reinstall instead
      of creating twins.
    - The purchase index the add-on added to ``account_move`` is dropped, and
      the customer value refresh's work tables.
    """
    env = env(su=True)  # sudo: the uninstall clears what the add-on wrote, whoever asked
    # raw SQL on the add-on's own table only, which the uninstall drops next
    env.cr.execute(SQL("DELETE FROM vip_tier_history"))
    env.invalidate_all()
    Partner = env["res.partner"].with_context(active_test=False, tracking_disable=True)
    tiered = Partner.search(
        ["|", ("vip_tier_id", "!=", False), ("vip_pending_tier_id", "!=", False)]
    )
    tiered.with_context(vip_engine=True).write({"vip_tier_id": False, "vip_pending_tier_id": False})
    data = env["ir.model.data"].search([("module", "=", "vip_customer")])
    activity_types = data.filtered(lambda d: d.model == "mail.activity.type").mapped("res_id")
    env["mail.activity"].with_context(active_test=False).search(
        [("activity_type_id", "in", activity_types)]
    ).unlink()
    data.filtered(lambda d: d.model == "res.partner").unlink()
    env.cr.execute(
        SQL(
            "DROP INDEX IF EXISTS account_move_vip_purchase_index, "
            "account_move_vip_purchase_cover_index"
        )
    )
    env.cr.execute(
        SQL(
            "DROP TABLE IF EXISTS vip_customer_value_stage, vip_customer_value_run, "
            "vip_customer_value_dirty"
        )
    )
