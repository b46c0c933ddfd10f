import base64
import io
from unittest.mock import patch

from dateutil.relativedelta import relativedelta
from lxml import etree

from odoo import Command, fields
from odoo.tests import new_test_user

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

try:
    from openpyxl import Workbook
except ImportError:  # declared in external_dependencies
    Workbook = None


def xlsx_file(rows, headers):
    """An uploaded .xlsx (base64, as a Binary field holds it): ``headers`` then ``rows``."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return base64.b64encode(output.getvalue())


class VipCustomerCommon(AccountTestInvoicingCommon):
    """Fixtures: A/B/C tiers on the main company, a VIP user, a VIP manager,
    a plain salesperson and helpers to post invoices and refunds."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        # the accounting test user configures the program in these tests
        cls.env.user.groups_id = [Command.link(cls.env.ref("vip_customer.group_vip_manager").id)]
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.today = fields.Date.context_today(cls.env["res.partner"])
        cls.Tier = cls.env["vip.tier"]
        cls.Engine = cls.env["vip.tier.engine"]
        cls.tier_c = cls.Tier.create(
            {
                "name": "C",
                "code": "C",
                "level": 1,
                "company_id": cls.company.id,
                "min_spend": 0,
                "min_purchase_count": 1,
                "grace_days": 30,
            }
        )
        cls.tier_b = cls.Tier.create(
            {
                "name": "B",
                "code": "B",
                "level": 2,
                "company_id": cls.company.id,
                "min_spend": 50000,
                "min_purchase_count": 1,
                "retention_spend": 40000,
                "grace_days": 30,
            }
        )
        cls.tier_a = cls.Tier.create(
            {
                "name": "A",
                "code": "A",
                "level": 3,
                "company_id": cls.company.id,
                "min_spend": 100000,
                "min_purchase_count": 2,
                "retention_spend": 80000,
                "retention_purchase_count": 1,
                "grace_days": 30,
                "account_manager_required": True,
            }
        )
        group_user = "base.group_user,vip_customer.group_vip_user"
        cls.vip_user = new_test_user(
            cls.env,
            login="vip_customer-user",
            groups=group_user,
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.vip_manager = new_test_user(
            cls.env,
            login="vip_customer-manager",
            groups="base.group_user,vip_customer.group_vip_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.salesman = new_test_user(
            cls.env,
            login="vip_customer-salesman",
            groups="base.group_user,base.group_partner_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Golden Dragon Trading",
                "is_company": True,
                "email": "gd@example.com",
                "user_id": cls.vip_user.id,
            }
        )

    @classmethod
    def _invoice(
        cls,
        partner,
        amount,
        days_ago=0,
        move_type="out_invoice",
        company=None,
        currency=None,
        post=True,
    ):
        """A posted customer invoice (or refund) of ``amount`` untaxed."""
        company = company or cls.company
        date = cls.today - relativedelta(days=days_ago)
        move = (
            cls.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": move_type,
                    "partner_id": partner.id,
                    "invoice_date": date,
                    "date": date,
                    "currency_id": (currency or company.currency_id).id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "VIP goods",
                                "quantity": 1,
                                "price_unit": amount,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )
        if post:
            move.action_post()
        return move

    @classmethod
    def _create_cadences(cls):
        """The follow-up cadences of the A/B/C tiers (key-moment rules): A a
        visit every 90 days, B a phone call every 180, C an e-mail every 365."""
        followup = cls.env.ref("vip_customer.mail_activity_type_vip_followup")
        return cls.env["vip.moment.rule"].create(
            [
                {
                    "name": name,
                    "company_id": cls.company.id,
                    "trigger_type": "cadence",
                    "interval_days": days,
                    "lead_days": 7,
                    "tier_ids": [Command.set(tier.ids)],
                    "activity_type_id": followup.id,
                    "activity_summary": summary,
                }
                for name, days, tier, summary in (
                    ("Visit A", 90, cls.tier_a, "Follow-up visit"),
                    ("Call B", 180, cls.tier_b, "Follow-up by phone"),
                    ("E-mail C", 365, cls.tier_c, "Follow-up by email"),
                )
            ]
        )

    def recompute(self, partners=None, **kwargs):
        if partners is None:
            return self.Engine._recompute(self.company, **kwargs)
        return self.Engine._recompute_partners(partners)

    def run_cron(self, method, max_calls=50, **kwargs):
        """Call the cron method ``method`` as Odoo's cron runner does: again
        while the previous call reported work remaining. Returns the
        ``(done, remaining)`` each call reported."""
        progress = []

        def notify(cron, *, done, remaining, deactivate=False):
            progress.append((done, remaining))

        with patch.object(type(self.env["ir.cron"]), "_notify_progress", notify):
            for _call in range(max_calls):
                method(**kwargs)
                if not progress or not progress[-1][1] or not progress[-1][0]:
                    break
        return progress

    def assert_figures_shown_with_data_only(self, model):
        """Every figure of ``model``'s ``_FIGURE_PRESENCE`` in its list and form
        views is hidden when its ``has_<figure>`` flag is off (the cell is left
        empty, the form says why), instead of showing the NULL read as 0."""
        Model = self.env[model]
        for view_type in ("list", "form"):
            views = Model.get_views([(False, view_type)])["views"]
            arch = etree.fromstring(views[view_type]["arch"])
            for flag, column in Model._FIGURE_PRESENCE.items():
                nodes = arch.xpath(f"//field[@name='{column}']")
                self.assertTrue(nodes, (model, view_type, column))
                for node in nodes:
                    self.assertIn(f"not {flag}", node.get("invisible", ""), (view_type, column))
