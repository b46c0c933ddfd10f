"""Demo follow-ups of the last months (done on time, done late, missed) and the
program KPIs computed for them, so the account-manager scorecards and the KPI
pages show figures on a fresh demo database."""

from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models

# per customer, cycling: done on time, done 4 days late, never done
DEMO_FOLLOWUP_OUTCOMES = (-1, 4, None)


class VipTierEngine(models.AbstractModel):
    _inherit = "vip.tier.engine"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _load_demo_data(self):
        loaded = self.env.ref(
            "vip_customer.res_partner_vip_golden_dragon", raise_if_not_found=False
        )
        result = super()._load_demo_data()
        if loaded or not self.env.ref(
            "vip_customer.res_partner_vip_golden_dragon", raise_if_not_found=False
        ):
            return result  # a module update, or no chart of accounts: nothing new
        company = self.env.ref("base.main_company")
        today = fields.Date.context_today(self)
        self._load_demo_followup_history(company, today)
        self.env["vip.kpi.engine"]._load_demo_kpis(company)
        return result

    @api.model
    def _load_demo_followup_history(self, company, today):
        """Follow-ups of the two previous months for the account managers'
        VIP customers, done on time, done late or missed. Archived the way a
        done follow-up is kept (``keep_done``), without the "done" side effect
        on the customer's follow-up plan, which the demo set on purpose."""
        followup_type = self.env.ref("vip_customer.mail_activity_type_vip_followup")
        customers = self.env["res.partner"].search(
            [
                ("vip_company_id", "=", company.id),
                ("vip_tier_id", "!=", False),
                ("vip_account_manager_id", "!=", False),
                ("is_company", "=", True),
            ],
            order="id",
        )
        vals_list, outcomes = [], []
        for months_ago in (2, 1):
            first = (today - relativedelta(months=months_ago)).replace(day=1)
            for index, customer in enumerate(customers):
                vals_list.append(
                    {
                        "activity_type_id": followup_type.id,
                        "res_model_id": self.env["ir.model"]._get_id("res.partner"),
                        "res_id": customer.id,
                        "user_id": customer.vip_account_manager_id.id,
                        "date_deadline": first + timedelta(days=3 + 5 * index % 25),
                        "summary": "Follow-up",
                        "automated": True,
                    }
                )
                outcomes.append(
                    DEMO_FOLLOWUP_OUTCOMES[(index + months_ago) % len(DEMO_FOLLOWUP_OUTCOMES)]
                )
        activities = (
            self.env["mail.activity"]
            .with_context(mail_activity_quick_update=True)
            .create(vals_list)
        )
        for activity, delay in zip(activities, outcomes, strict=True):
            if delay is not None:
                activity.active = False
                activity.date_done = activity.date_deadline + timedelta(days=delay)


class VipKpiEngine(models.AbstractModel):
    _inherit = "vip.kpi.engine"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _load_demo_kpis(self, company):
        """The KPIs of the last twelve months, quarters and year of ``company``.
        The add-ons feeding the hooks (tickets, answers) call it again once their
        own demo data exists, so a fresh demo database shows every figure."""
        today = fields.Date.context_today(self)
        self._compute_range(company, "month", today - relativedelta(months=12), today)
        self._compute_range(company, "quarter", today - relativedelta(months=12), today)
        self._compute_range(company, "year", today - relativedelta(years=1), today)
        return True
