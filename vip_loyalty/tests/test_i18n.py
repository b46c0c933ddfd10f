from unittest.mock import patch

from dateutil.relativedelta import relativedelta
from lxml import html

from odoo.tests import tagged
from odoo.tools.misc import format_date
from odoo.tools.translate import code_translations

from .common import VipLoyaltyCommon

ZH = {
    "Redemption %(name)s: %(reward)s": "兑换 %(name)s：%(reward)s",
    "Expired: %(lot)s": "已过期：%(lot)s",
    "Invoice %(name)s": "发票 %(name)s",
    "Adjustment: %(reason)s": "调整：%(reason)s",
}


@tagged("post_install", "-at_install")
class TestReaderLanguage(VipLoyaltyCommon):
    """Ledger descriptions are built in the reader's language from the move's
    references, whoever recorded the move (issue 10, item 9)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("zh_CN")
        cls.env["ir.module.module"]._load_module_terms(["vip_loyalty"], ["zh_CN"])
        cls.cash = cls.env["vip.loyalty.reward"].create(
            {"name": "Cash Deduction", "reward_type": "cash", "cash_points_rate": 100}
        )
        cls.cash.with_context(lang="zh_CN").name = "现金抵扣"

    def _zh(self):
        merged = dict(code_translations.get_python_translations("vip_loyalty", "zh_CN"), **ZH)
        return patch.dict(code_translations.python_translations,
                          {("vip_loyalty", "zh_CN"): merged})

    def test_redemption_and_expiry_descriptions_follow_the_reader(self):
        invoice = self._invoice(self.customer, 5000, days_ago=500)
        redemption = self._redemption(self.customer, self.cash, points=1000)
        redemption.with_context(lang="en_US").action_confirm()
        self.Engine._expire_lots()
        move = redemption.move_id
        expired = self.Move.search([("move_type", "=", "expire")])
        self.assertEqual(move.name, f"Redemption {redemption.name}: Cash Deduction",
                         "recorded in the creator's language")
        with self._zh():
            self.env.invalidate_all()
            zh_move = move.with_context(lang="zh_CN")
            self.assertEqual(zh_move.description, f"兑换 {redemption.name}：现金抵扣")
            self.assertEqual(zh_move.display_name, zh_move.description)
            self.assertEqual(expired.with_context(lang="zh_CN").description,
                             f"已过期：发票 {invoice.name}")
            self.assertEqual(move.with_context(lang="en_US").description,
                             f"Redemption {redemption.name}: Cash Deduction")
            self.assertEqual(expired.with_context(lang="en_US").description,
                             f"Expired: Invoice {invoice.name}")

    def test_free_text_stays_as_typed(self):
        self.env["vip.loyalty.adjust"].create(
            {"partner_id": self.customer.id, "points": 10, "reason": "Goodwill 礼品"}
        ).action_apply()
        move = self.Move.search([("move_type", "=", "adjust")])
        with self._zh():
            self.assertEqual(move.with_context(lang="zh_CN").description, "调整：Goodwill 礼品")
        self.assertEqual(move.with_context(lang="en_US").description, "Adjustment: Goodwill 礼品")

    def test_statement_in_the_language_asked(self):
        """The language passed with the data (the portal reader's) wins over the
        customer's: a Chinese contact of an English-speaking company reads Chinese."""
        self.customer.lang = "en_US"
        with self._zh():
            content, _report_type = self.env["ir.actions.report"]._render_qweb_html(
                "vip_loyalty.action_report_points_statement", self.customer.ids,
                data={"company_id": self.company.id, "lang": "zh_CN"},
            )
            english, _report_type = self.env["ir.actions.report"]._render_qweb_html(
                "vip_loyalty.action_report_points_statement", self.customer.ids,
                data={"company_id": self.company.id},
            )
        self.assertIn("积分对账单", content.decode())
        self.assertNotIn("积分对账单", english.decode())

    def test_statement_in_chinese(self):
        """The statement renders in the customer's language: dates and amounts never
        wrap, descriptions do not split two-character words."""
        self.customer.lang = "zh_CN"
        self._invoice(self.customer, 12345, days_ago=10)
        with self._zh():
            content, report_type = self.env["ir.actions.report"]._render_qweb_html(
                "vip_loyalty.action_report_points_statement", self.customer.ids,
                data={"company_id": self.company.id},
            )
        self.assertEqual(report_type, "html")
        doc = html.fromstring(content)
        self.assertIn("积分对账单", content.decode())
        rows = doc.xpath("//table[contains(@class, 'vip_points_statement_table')]/tbody/tr")
        self.assertEqual(len(rows), 3, "opening, the invoice, closing")
        line = rows[1]
        date_cell, description_cell = line.xpath("./td")[:2]
        self.assertIn("text-nowrap", date_cell.get("class"))
        invoice_date = self.today - relativedelta(days=10)
        self.assertEqual(date_cell.text_content().strip(),
                         format_date(self.env(context={"lang": "zh_CN"}), invoice_date))
        self.assertIn("发票", description_cell.text_content())
        self.assertIn("keep-all", description_cell.get("style"))
        for cell in line.xpath("./td")[2:]:
            self.assertIn("text-nowrap", cell.get("class"))
        self.assertIn("12,345", rows[2].text_content())
        for header in doc.xpath("//table[contains(@class, 'vip_points_statement_table')]//th"):
            self.assertIn("text-nowrap", header.get("class"))
