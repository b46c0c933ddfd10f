from odoo import Command
from odoo.tests import new_test_user

from odoo.addons.vip_customer.tests.common import VipCustomerCommon


class VipLoyaltyCommon(VipCustomerCommon):
    """A points program on the test company (1 point per unit, 12 months of
    validity), multipliers 1.0 / 1.5 / 2.0 on tiers C / B / A, a loyalty user
    and manager, and ``assertLedger`` to prove totals equal the ledger."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.groups_id = [
            Command.link(cls.env.ref("vip_loyalty.group_vip_loyalty_manager").id)
        ]
        cls.program = cls.env["vip.loyalty.program"].create({
            "name": "Test Points",
            "company_id": cls.company.id,
            "points_per_unit": 1.0,
            "validity_months": 12,
            "warning_days": 30,
            "referrer_points": 100,
            "referee_points": 50,
        })
        cls.tier_c.loyalty_multiplier = 1.0
        cls.tier_b.loyalty_multiplier = 1.5
        cls.tier_a.loyalty_multiplier = 2.0
        cls.loyalty_user = new_test_user(
            cls.env, login="vip_loyalty-user",
            groups="base.group_user,vip_loyalty.group_vip_loyalty_user",
            company_id=cls.company.id, company_ids=[Command.set(cls.company.ids)],
        )
        cls.loyalty_manager = new_test_user(
            cls.env, login="vip_loyalty-manager",
            groups="base.group_user,vip_loyalty.group_vip_loyalty_manager",
            company_id=cls.company.id, company_ids=[Command.set(cls.company.ids)],
        )
        cls.Engine = cls.env["vip.loyalty.engine"]
        cls.Move = cls.env["vip.loyalty.move"]
        cls.customer.vip_tier_id = cls.tier_c

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    @classmethod
    def _partner(cls, name, tier=None, **vals):
        partner = cls.env["res.partner"].create(dict({"name": name, "is_company": True}, **vals))
        if tier:
            partner.vip_tier_id = tier
        return partner

    @classmethod
    def _give(cls, partner, points, expiry_date=None, company=None, date=None):
        """Points added by an adjustment (a lot), optionally with its expiry date."""
        vals = {
            "name": "Test points",
            "partner_id": partner.id,
            "company_id": (company or cls.company).id,
            "move_type": "adjust",
            "points": points,
        }
        if expiry_date is not None:
            vals["expiry_date"] = expiry_date
        if date:
            vals["date"] = date
        return cls.env["vip.loyalty.engine"]._post_moves([vals])

    def balance(self, partner, company=None):
        return partner.with_company(company or self.company).vip_loyalty_balance

    def _redemption(self, partner, reward, **vals):
        return self.env["vip.loyalty.redemption"].create(
            dict({"partner_id": partner.id, "reward_id": reward.id}, **vals)
        )

    def assertLedger(self, partners=None):
        """Each account's totals equal the sum of its ledger; each lot's remaining
        points equal its points minus its allocations; open lots minus owed points
        equal the balance."""
        self.env.flush_all()
        self.env.invalidate_all()
        domain = [("partner_id", "in", partners.ids)] if partners else []
        Move = self.env["vip.loyalty.move"].sudo()
        for account in self.env["vip.loyalty.account"].sudo().search(domain):
            moves = Move.search([("account_id", "=", account.id)])
            self.assertEqual(account.balance, sum(moves.mapped("points")),
                             f"{account.partner_id.name}: balance != ledger")
            self.assertEqual(
                account.lifetime_earned,
                sum(moves.filtered("is_earning").mapped("points")),
                f"{account.partner_id.name}: lifetime earned != ledger",
            )
            for lot in moves.filtered("is_lot"):
                allocated = sum(lot.lot_allocation_ids.mapped("points"))
                self.assertEqual(lot.remaining_points, lot.points - allocated,
                                 f"lot {lot.name}: remaining != points - allocations")
            for move in moves.filtered(lambda m: m.points < 0):
                allocated = sum(move.allocation_ids.mapped("points"))
                undone = Move.search([("reversed_move_id", "=", move.id), ("points", ">", 0)])
                if not undone:
                    self.assertEqual(-move.points, allocated + move.uncovered_points,
                                     f"move {move.name}: points != allocated + uncovered")
            self.assertEqual(
                sum(moves.mapped("remaining_points")) - sum(moves.mapped("uncovered_points")),
                account.balance,
                f"{account.partner_id.name}: open lots - owed != balance",
            )
