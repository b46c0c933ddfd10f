"""Demo data that needs dates relative to today and posted invoices, which XML
alone cannot express. Called from demo/vip_loyalty_demo.xml; lives here, in demo/,
with the XML that calls it, not among the production models."""

from odoo import Command, api, fields, models


class VipLoyaltyProgram(models.Model):
    _inherit = "vip.loyalty.program"

    @api.model
    def _vip_loyalty_load_demo(self):
        """Demo customers with two years of points history (dates relative to today):
        earnings from invoices, a referral, redemptions, a cancelled one, expired
        points and points about to expire. Runs once (guarded by an xml id).

        After an uninstall the demo customers stay, with their invoices (see
        ``uninstall_hook``): a reinstall finds them again instead of creating twins,
        and their invoices earn through the demo award for past invoices."""
        if self.env.ref("vip_loyalty.res_partner_demo_jade", raise_if_not_found=False):
            return
        company = self.env.ref("base.main_company")
        if not self.env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
        ):
            return  # no chart of accounts: no invoices to earn from
        env = self.env(context=dict(self.env.context, tracking_disable=True,
                                    mail_create_nolog=True, mail_notrack=True))
        Partner = env["res.partner"].with_company(company)
        tier_a = env.ref("vip_customer.vip_tier_demo_a")
        tier_b = env.ref("vip_customer.vip_tier_demo_b")
        tier_c = env.ref("vip_customer.vip_tier_demo_c")
        customers = {}
        demo = (
            ("res_partner_demo_jade", "Jade Emperor Holdings", tier_a, "jade@example.com"),
            ("res_partner_demo_lotus", "Lotus Garden Tea House", tier_b, "lotus@example.com"),
            ("res_partner_demo_pearl", "Pearl River Outfitters", tier_c, "pearl@example.com"),
        )
        kept = {
            (p.name, p.email): p
            for p in Partner.with_context(active_test=False).search([
                ("parent_id", "=", False), ("email", "in", [row[3] for row in demo]),
                ("name", "in", [row[1] for row in demo]),
            ])
        }
        reinstall = len(kept) == len(demo)
        for xml_id, name, tier, email in demo:
            partner = kept.get((name, email)) if reinstall else None
            if partner and partner.vip_tier_id != tier:
                # the tier may have moved while the add-on was away (tier engine, a
                # manager): the demo's rewards and benefit quotas expect this one
                partner.write({"vip_tier_id": tier.id})
            partner = partner or Partner.create({
                "name": name, "is_company": True, "email": email, "vip_tier_id": tier.id,
                "vip_company_id": company.id, "company_id": False,
            })
            env["ir.model.data"].create({
                "module": "vip_loyalty", "name": xml_id, "model": "res.partner",
                "res_id": partner.id, "noupdate": True,
            })
            customers[xml_id] = partner
        jade = customers["res_partner_demo_jade"]
        lotus = customers["res_partner_demo_lotus"]
        pearl = customers["res_partner_demo_pearl"]
        pearl.vip_referred_by_id = lotus
        today = fields.Date.context_today(self)

        def invoice(partner, amount, days_ago):
            date = fields.Date.subtract(today, days=days_ago)
            return env["account.move"].with_company(company).create({
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": date,
                "date": date,
                "invoice_line_ids": [Command.create({
                    "name": "VIP goods", "quantity": 1, "price_unit": amount,
                    "tax_ids": [Command.clear()],
                })],
            })

        if not reinstall:
            self._vip_loyalty_demo_invoices(jade, lotus, pearl, invoice)
        # customers invoiced before the program (vip_customer's demo, or a reinstall): their
        # past invoices earn once, as an admin would award them after installing the add-on
        backfill = env["vip.loyalty.backfill"].with_company(company).create({
            "company_id": company.id,
            "date_from": fields.Date.subtract(today, years=3),
            "expiry_from": "invoice",
        })
        env["ir.model.data"].create({
            "module": "vip_loyalty", "name": "vip_loyalty_backfill_demo",
            "model": "vip.loyalty.backfill", "res_id": backfill.id, "noupdate": True,
        })
        backfill.action_start()
        backfill._run_to_end()
        env["vip.loyalty.engine"]._expire_lots(today=today)

        Redemption = env["vip.loyalty.redemption"].with_company(company)
        tea = env.ref("vip_loyalty.vip_loyalty_reward_demo_tea")
        cash = env.ref("vip_loyalty.vip_loyalty_reward_demo_cash")
        service = env.ref("vip_loyalty.vip_loyalty_reward_demo_service")
        done = Redemption.create({"partner_id": jade.id, "reward_id": tea.id,
                                  "date": fields.Date.subtract(today, days=30)})
        done.action_confirm()
        done.action_done()
        confirmed = Redemption.create({"partner_id": jade.id, "reward_id": cash.id,
                                       "points": 5000})
        confirmed.action_confirm()
        cancelled_redemption = Redemption.create({"partner_id": lotus.id, "reward_id": tea.id})
        cancelled_redemption.action_confirm()
        cancelled_redemption.action_cancel()
        Redemption.create({"partner_id": jade.id, "reward_id": service.id})
        parking = env.ref("vip_loyalty.vip_benefit_demo_parking")
        env["vip.benefit.usage"].with_company(company).create([
            {"partner_id": jade.id, "benefit_id": parking.id, "quantity": 6, "date": today},
            {"partner_id": lotus.id, "benefit_id": parking.id, "quantity": 3, "date": today},
        ])

    @api.model
    def _vip_loyalty_demo_invoices(self, jade, lotus, pearl, invoice):
        """The demo customers' invoices, earning as they are posted (first install)."""
        invoices = (
            invoice(jade, 3200, 800)  # expired: earned more than 24 months ago
            | invoice(jade, 4800, 715)  # expires within the warning delay
            | invoice(jade, 12500, 200)
            | invoice(jade, 8600, 40)
            | invoice(lotus, 2600, 760)
            | invoice(lotus, 5400, 90)
            | invoice(pearl, 1800, 30)  # first invoice of a referred customer
        )
        invoices.action_post()
        # a cancelled invoice: its points were earned, then taken back
        cancelled = invoice(lotus, 1200, 20)
        cancelled.action_post()
        cancelled.button_draft()
        cancelled.button_cancel()
