"""Demo key moments: the demo rules run by the engine on the demo customers a
week ago and today, so the board shows every status on a fresh demo database
(processed with an outcome, due, not yet due, cancelled). Called from
demo/vip_moment_demo.xml."""

from datetime import timedelta

from odoo import Command, api, fields, models

DEMO_RULES = (
    "vip_customer.vip_moment_rule_demo_spend_drop",
    "vip_customer.vip_moment_rule_demo_silence",
    "vip_customer.vip_moment_rule_demo_tier_up",
    "vip_customer.vip_moment_rule_demo_churn",
)


class VipMomentEngine(models.AbstractModel):
    _inherit = "vip.moment.engine"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _load_demo_moments(self):
        ref = self.env.ref
        rules = self.env["vip.moment.rule"].browse(
            [rule.id for rule in (ref(x, raise_if_not_found=False) for x in DEMO_RULES) if rule]
        )
        Occurrence = self.env["vip.moment.occurrence"]
        if not rules or Occurrence.search_count([("rule_id", "in", rules.ids)], limit=1):
            return True  # a module update re-runs demo functions
        if not ref("vip_customer.res_partner_vip_golden_dragon", raise_if_not_found=False):
            return True  # no chart of accounts: no purchases, no moments
        today = fields.Date.context_today(self)
        self._load_demo_moment_customers(today)
        # a week ago: its tasks are due by now
        past = self._run(today - timedelta(days=7), rules=rules)
        self._run(today, rules=rules)
        Occurrence._refresh_board_states(today)
        # one contact recorded by its account manager, one task deleted (cancelled)
        with_task = past.filtered("activity_id").sorted("id")
        silence = with_task.filtered(lambda o: o.trigger_type == "silence")[:1] or with_task[:1]
        if silence:
            silence.with_user(silence.user_id)._record_visit(
                {
                    "outcome": "reached",
                    "feedback": "Busy with a new warehouse; will order again next month.",
                    "needs": "A quote for the spring catalogue.",
                    "next_step": "Send the quote by Friday.",
                }
            )
        drop = (with_task - silence).filtered(lambda o: o.trigger_type == "spend_drop")[:1]
        if drop and len(with_task - silence - drop) >= 1:
            drop.activity_id.unlink()
        return True

    @api.model
    def _load_demo_moment_customers(self, today):
        """Two customers of the anomalies: a Platinum customer whose spend fell,
        a regular customer gone quiet."""
        env = self.env(context=dict(self.env.context, tracking_disable=True, mail_notrack=True))
        company = env.ref("base.main_company")
        journal = env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
        )
        demo_user = env.ref("base.user_demo", raise_if_not_found=False) or env.ref(
            "base.user_admin"
        )
        Partner = env["res.partner"]
        plans = {
            "Red Lantern Tea House": [(150, 60000), (110, 55000), (30, 12000)],
            "Blue Harbour Trading": [(days, 4000) for days in range(240, 100, -20)],
        }
        customers = Partner
        for name, plan in plans.items():
            customer = Partner.search([("name", "=", name)], limit=1) or Partner.create(
                {
                    "name": name,
                    "is_company": True,
                    "email": f"contact@{name.lower().replace(' ', '-')}.example.com",
                    "user_id": demo_user.id,
                }
            )
            customers |= customer
            if env["account.move"].search_count([("partner_id", "=", customer.id)], limit=1):
                continue  # kept by an uninstall
            moves = env["account.move"].create(
                [
                    {
                        "move_type": "out_invoice",
                        "partner_id": customer.id,
                        "journal_id": journal.id,
                        "invoice_date": today - timedelta(days=days),
                        "date": today - timedelta(days=days),
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "name": "VIP order",
                                    "quantity": 1,
                                    "price_unit": amount,
                                    "tax_ids": [Command.clear()],
                                }
                            )
                        ],
                    }
                    for days, amount in plan
                ]
            )
            moves.action_post()
        env["vip.tier.engine"]._recompute(company, partner_ids=customers.ids)
        customers.write({"vip_account_manager_id": demo_user.id})
        return customers
