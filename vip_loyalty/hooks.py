def post_init_hook(env):
    """Give every existing customer a referral code (new ones get it on creation)."""
    env["res.partner"]._vip_assign_referral_codes()
