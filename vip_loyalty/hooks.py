from odoo.tools import SQL


def post_init_hook(env):
    """Give every existing customer a referral code (new ones get it on creation)."""
    env["res.partner"]._vip_assign_referral_codes()


def uninstall_hook(env):
    """Leave nothing that blocks the removal of the add-on's records or a reinstall.

    The ledger, redemptions, benefit uses and award runs are the add-on's own
    tables, dropped right after: emptied first (in one statement each, moves
    referencing each other), so that the rewards, benefits and demo award they
    point to can be deleted without a foreign-key error. Demo customers keep
    their invoices: they stay as ordinary contacts (the demo loader finds them
    again on a reinstall instead of creating twins). The draft credit notes of
    cash redemptions go too: the points paying them are erased with the ledger,
    nothing would be left to justify posting them (posted ones stay).
    """
    env.cr.execute(SQL(
        "SELECT credit_note_id FROM vip_loyalty_redemption WHERE credit_note_id IS NOT NULL"
    ))
    credit_notes = env["account.move"].browse(row[0] for row in env.cr.fetchall())
    credit_notes.filtered(lambda move: move.state == "draft").unlink()
    # raw SQL on the add-on's own tables only, which the uninstall drops next
    for table in ("vip_loyalty_move_allocation", "vip_loyalty_move", "vip_loyalty_account",
                  "vip_benefit_usage", "vip_loyalty_redemption", "vip_loyalty_backfill"):
        env.cr.execute(SQL("DELETE FROM %s", SQL.identifier(table)))
    env.invalidate_all()
    env["ir.model.data"].search(
        [("module", "=", "vip_loyalty"), ("model", "=", "res.partner")]
    ).unlink()
