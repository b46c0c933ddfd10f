import base64
import io

import xlwt
from dateutil.relativedelta import relativedelta
from openpyxl import Workbook

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import VipLoyaltyCommon


@tagged("post_install", "-at_install")
class TestImport(VipLoyaltyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.ref = "C0001"
        cls.other = cls._partner("Lotus Tea", email="lotus-tea@vip-test.example.com")

    def _xlsx(self, rows):
        book = Workbook()
        for row in rows:
            book.active.append(row)
        output = io.BytesIO()
        book.save(output)
        return base64.b64encode(output.getvalue())

    def _wizard(self, rows, name="balances.xlsx", data=None):
        return self.env["vip.loyalty.import"].create(
            {"file": data or self._xlsx(rows), "file_name": name}
        )

    def test_dry_run_reports_row_errors_then_imports(self):
        expiry = self.today + relativedelta(months=6)
        rows = [
            ["编号", "邮箱", "积分", "到期日", "Reason"],
            ["C0001", None, 1200, expiry, "Legacy card"],
            [None, "LOTUS-TEA@vip-test.example.com", "300", None, None],
            ["C9999", None, 100, None, None],
            ["C0001", None, 50, None, None],
            [None, "lotus-tea@vip-test.example.com", -5, None, None],
            [None, "nobody", 10, "yesterday", None],
        ]
        wizard = self._wizard(rows)
        wizard.action_check()
        self.assertEqual(wizard.state, "checked")
        self.assertEqual((wizard.row_count, wizard.error_count), (6, 4))
        errors = {line.row_number: line.message for line in wizard.line_ids if line.is_error}
        self.assertIn("no customer matches C9999", errors[4])
        self.assertIn("Golden Dragon Trading is already on row 2", errors[5])
        self.assertIn("Lotus Tea is already on row 3", errors[6])
        self.assertIn("not an e-mail address", errors[7])
        self.assertFalse(
            self.Move.search([("move_type", "=", "import")]), "a dry run writes nothing"
        )
        with self.assertRaises(UserError):
            wizard.action_import()
        wizard.write({"file": self._xlsx(rows[:3]), "file_name": "balances.xlsx"})
        self.assertEqual(wizard.state, "draft")
        wizard.action_check()
        self.assertEqual(wizard.error_count, 0)
        self.assertEqual(wizard.points_total, 1500)
        wizard.action_import()
        self.assertEqual(wizard.state, "done")
        self.assertEqual(self.balance(self.customer), 1200)
        self.assertEqual(self.balance(self.other), 300)
        opening = self.Move.search([("partner_id", "=", self.customer.id)])
        self.assertEqual((opening.move_type, opening.expiry_date, opening.reason),
                         ("import", expiry, "Legacy card"))
        self.assertTrue(opening.is_earning)
        # the same customers again: refused
        again = self._wizard(rows[:2])
        again.action_check()
        self.assertIn("already has an opening balance", again.line_ids.message)
        self.assertLedger()

    def test_xls_and_bad_files(self):
        book = xlwt.Workbook()
        sheet = book.add_sheet("Balances")
        for r, row in enumerate([["Name", "Points"], ["Lotus Tea", 250]]):
            for c, value in enumerate(row):
                sheet.write(r, c, value)
        output = io.BytesIO()
        book.save(output)
        wizard = self._wizard(None, name="balances.xls", data=base64.b64encode(output.getvalue()))
        wizard.action_check()
        self.assertEqual(wizard.error_count, 0)
        wizard.action_import()
        self.assertEqual(self.balance(self.other), 250)
        with self.assertRaisesRegex(UserError, "notes.txt is not an Excel file"):
            self._wizard(None, name="notes.txt", data=base64.b64encode(b"hello")).action_check()
        with self.assertRaisesRegex(UserError, "broken.xlsx cannot be read"):
            self._wizard(None, name="broken.xlsx", data=base64.b64encode(b"garbage")).action_check()
        with self.assertRaisesRegex(UserError, "The Points column"):
            self._wizard([["Name"], ["Lotus Tea"]]).action_check()
