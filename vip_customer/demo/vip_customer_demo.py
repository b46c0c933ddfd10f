"""Demo data that needs dates relative to today and posted invoices, which
XML alone cannot express. Called from demo/res_partner_demo.xml; lives here, in
demo/, with the XML that calls it, not among the production models.

A reinstall finds the demo customers the uninstall kept (with their invoices,
see ``hooks.uninstall_hook``) instead of creating twins."""

from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import Command, api, fields, models

from ..models.res_partner import TierChangeOrigin


class VipTierEngine(models.AbstractModel):
    _inherit = "vip.tier.engine"

    @api.model
    def _load_demo_data(self):
        if self.env.ref("vip_customer.res_partner_vip_golden_dragon", raise_if_not_found=False):
            return  # already loaded: module updates re-run demo functions
        company = self.env.ref("base.main_company")
        env = self.env(context=dict(self.env.context, tracking_disable=True, mail_notrack=True))
        journal = env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
        )
        if not journal:  # no chart of accounts: tiers and profiles only
            return
        today = fields.Date.context_today(self)
        ref = self.env.ref
        admin = ref("base.user_admin")
        demo_user = ref("base.user_demo", raise_if_not_found=False) or admin
        Tag = env["vip.interest.tag"]
        tags = {
            name: Tag.search([("name", "=", name)], limit=1) or Tag.create({"name": name})
            for name in ("Golf", "Tea", "Wine", "Travel", "Art")
        }

        def partner(xml_name, vals):
            # kept by an uninstall: found again, its VIP profile set again
            record = (
                env["res.partner"]
                .with_context(active_test=False)
                .search(
                    [
                        ("name", "=", vals["name"]),
                        ("email", "=", vals.get("email", False)),
                        ("parent_id", "=", vals.get("parent_id", False)),
                    ],
                    limit=1,
                )
            )
            if record:
                record.write({key: value for key, value in vals.items() if key.startswith("vip_")})
            else:
                record = env["res.partner"].create(vals)
            env["ir.model.data"].create(
                {
                    "module": "vip_customer",
                    "name": xml_name,
                    "model": "res.partner",
                    "res_id": record.id,
                    "noupdate": True,
                }
            )
            return record

        def invoices(customer, plan):
            if env["account.move"].search_count([("partner_id", "=", customer.id)], limit=1):
                return  # kept with the customer by an uninstall
            moves = env["account.move"].create(
                [
                    {
                        "move_type": move_type,
                        "partner_id": customer.id,
                        "journal_id": journal.id,
                        "invoice_date": today - timedelta(days=days),
                        "date": today - timedelta(days=days),
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "name": "VIP order" if move_type == "out_invoice" else "Return",
                                    "quantity": 1,
                                    "price_unit": amount,
                                    "tax_ids": [Command.clear()],
                                }
                            )
                        ],
                    }
                    for days, amount, move_type in plan
                ]
            )
            moves.action_post()

        def buy(days_amounts, refund=()):
            return [(d, a, "out_invoice") for d, a in days_amounts] + [
                (d, a, "out_refund") for d, a in refund
            ]

        platinum = partner(
            "res_partner_vip_golden_dragon",
            {
                "name": "Golden Dragon Trading Co.",
                "is_company": True,
                "email": "info@golden-dragon.example.com",
                "phone": "+86 21 5555 0101",
                "city": "Shanghai",
                "country_id": ref("base.cn").id,
                "user_id": admin.id,
                "vip_preferred_channel": "visit",
                "vip_preferred_contact_time": "morning",
                "vip_interest_tag_ids": [Command.set([tags["Golf"].id, tags["Wine"].id])],
                "vip_gift_preference": "Premium tea sets",
                "vip_anniversary_date": today - timedelta(days=3 * 365),
            },
        )
        invoices(
            platinum, buy([(330, 42000), (250, 38000), (160, 35000), (70, 41000), (12, 28000)])
        )
        partner(
            "res_partner_vip_golden_dragon_ceo",
            {
                "name": "Chen Wei",
                "parent_id": platinum.id,
                "email": "chen.wei@golden-dragon.example.com",
                "function": "CEO",
                "vip_birthday": today.replace(year=1976) + timedelta(days=5),
            },
        )

        gold = partner(
            "res_partner_vip_jade_garden",
            {
                "name": "Jade Garden Restaurants",
                "is_company": True,
                "email": "contact@jade-garden.example.com",
                "city": "Hangzhou",
                "country_id": ref("base.cn").id,
                "user_id": demo_user.id,
                "vip_preferred_channel": "phone",
                "vip_interest_tag_ids": [Command.set([tags["Tea"].id])],
                "vip_diet_preference": "Vegetarian",
            },
        )
        invoices(gold, buy([(300, 22000), (180, 19000), (40, 21000)], refund=[(20, 3000)]))

        silver = partner(
            "res_partner_vip_lin_mei",
            {
                "name": "Lin Mei",
                "email": "lin.mei@example.com",
                "user_id": demo_user.id,
                "vip_birthday": today.replace(year=1988, day=1),
                "vip_preferred_channel": "wechat",
                "vip_interest_tag_ids": [Command.set([tags["Travel"].id, tags["Art"].id])],
            },
        )
        invoices(silver, buy([(200, 4200), (90, 3100), (15, 2600)]))

        partner_c = partner(
            "res_partner_vip_zhang_studio",
            {
                "name": "Zhang Design Studio",
                "is_company": True,
                "email": "hello@zhang-studio.example.com",
                "user_id": admin.id,
                "vip_care_opt_out": True,
            },
        )
        invoices(partner_c, buy([(120, 8800)]))

        # Was Platinum, has stopped buying: a downgrade pending in its grace period.
        fading = partner(
            "res_partner_vip_silk_road",
            {
                "name": "Silk Road Imports",
                "is_company": True,
                "email": "orders@silk-road.example.com",
                "user_id": admin.id,
                "vip_preferred_channel": "email",
            },
        )
        invoices(fading, buy([(420, 70000), (400, 65000), (200, 52000)]))

        # Bought every month last year, once since: churn risk is high.
        drifting = partner(
            "res_partner_vip_east_wind",
            {
                "name": "East Wind Logistics",
                "is_company": True,
                "email": "ops@east-wind.example.com",
                "user_id": demo_user.id,
            },
        )
        invoices(drifting, buy([(m * 30 - 10, 9000) for m in range(13, 25)] + [(300, 6000)]))

        # A strategic partner kept in Gold by hand whatever the rules say.
        locked = partner(
            "res_partner_vip_phoenix_hotel",
            {
                "name": "Phoenix Hotel Group",
                "is_company": True,
                "email": "vip@phoenix-hotel.example.com",
                "user_id": admin.id,
                "vip_sensitive_note": "Owner is a board member of our main supplier.",
            },
        )
        invoices(locked, buy([(60, 12000)]))

        # The nightly rules as they ran over the past year, month by month: the
        # tier history, "Tier since" and pending downgrades tell one story.
        for months in range(12, 0, -1):
            self._recompute(company, today=today - relativedelta(months=months))
        self._recompute(company)
        # the nightly run's last step: RFM scores, segments and lifetime value
        env["res.partner"]._vip_refresh_customer_value(company)
        # Retention calls of risk episodes that ended before today are not due.
        retention = ref("vip_customer.mail_activity_type_vip_retention")
        for activity in env["mail.activity"].search([("activity_type_id", "=", retention.id)]):
            if not env["res.partner"].browse(activity.res_id).vip_at_risk:
                activity.unlink()
        origin = TierChangeOrigin("manual", "Strategic partner")
        locked.with_context(vip_tier_origin=origin).write(
            {
                "vip_tier_id": ref("vip_customer.vip_tier_demo_b").id,
                "vip_locked": True,
                "vip_lock_reason": "Strategic partner",
                "vip_lock_until": today + timedelta(days=365),
            }
        )
        # Followed up a while ago: the next follow-ups come due.
        platinum.write({"vip_last_followup_date": today - timedelta(days=88)})
        gold.write({"vip_last_followup_date": today - timedelta(days=185)})
        fading.write({"vip_last_followup_date": today - timedelta(days=95)})
        # the nightly key-moment run of the follow-up cadences: their tasks come due
        cadences = env["vip.moment.rule"].search([("trigger_type", "=", "cadence")])
        env["vip.moment.engine"]._run(today, rules=cadences)
