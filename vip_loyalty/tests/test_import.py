import base64
import io

import xlwt
from dateutil.relativedelta import relativedelta
from openpyxl import Workbook

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

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

    def _run_jobs(self, chunk_size=1000):
        """The import cron, as Odoo's runner calls it, until no job is left."""
        Job = self.env["vip.import.job"].with_user(self.env.ref("base.user_root"))
        for _call in range(100):
            if not Job.search_count([("state", "in", ("queued", "running"))]):
                return
            Job._cron_process_jobs(chunk_size=chunk_size)
            self.env.invalidate_all()
        self.fail("the import jobs do not end")

    def _import_and_run(self, wizard, chunk_size=1000):
        wizard.action_import()
        self.assertEqual(wizard.state, "importing")
        self._run_jobs(chunk_size)
        self.assertEqual(wizard.job_id.state, "done", wizard.job_id.error_message)
        self.assertEqual(wizard.state, "done")
        return wizard

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
        self.assertIn("no customer matches the reference C9999", errors[4])
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
        self._import_and_run(wizard)
        self.assertEqual(self.balance(self.customer), 1200)
        self.assertEqual(self.balance(self.other), 300)
        self.assertEqual(wizard.job_id.partner_count, 2, "the job keeps the customers credited")
        self.assertEqual(
            self.env["res.partner"].search([("vip_import_job_id", "=", wizard.job_id.id)]),
            self.customer | self.other,
        )
        opening = self.Move.search([("partner_id", "=", self.customer.id)])
        self.assertEqual((opening.move_type, opening.expiry_date, opening.reason),
                         ("import", expiry, "Legacy card"))
        self.assertTrue(opening.is_earning)
        # the same customers again: refused
        again = self._wizard(rows[:2])
        again.action_check()
        self.assertIn("already has an opening balance", again.line_ids.message)
        self.assertLedger()

    def test_reference_decides_over_name(self):
        """A reference or e-mail that matches nobody is an error, never a match by
        the name beside it; identifiers naming two customers are refused."""
        wizard = self._wizard([
            ["Reference", "Name", "Email", "Points"],
            ["C0404", "Lotus Tea", None, 100],
            [None, "Lotus Tea", "nobody@vip-test.example.com", 100],
            ["C0001", None, "lotus-tea@vip-test.example.com", 100],
            ["C0001", "Golden Dragon Trading", "", 100],
        ])
        wizard.action_check()
        lines = {line.row_number: line for line in wizard.line_ids}
        self.assertEqual((wizard.row_count, wizard.error_count), (4, 3))
        self.assertIn("no customer matches the reference C0404", lines[2].message)
        self.assertFalse(lines[2].partner_id, "an unknown reference is not matched by name")
        # an error row shows what the file says: its identifiers and points
        self.assertEqual((lines[2].name, lines[2].points), ("C0404 / Lotus Tea", 100))
        self.assertEqual(wizard.points_total, 100, "rows in error are not counted")
        self.assertIn("no customer matches the e-mail nobody@vip-test.example.com",
                      lines[3].message)
        self.assertIn("is not Golden Dragon Trading's", lines[4].message)
        self.assertEqual((lines[5].outcome, lines[5].partner_id), ("ok", self.customer))
        # an archived customer is not credited
        self.other.active = False
        archived = self._wizard([["Email", "Points"], ["lotus-tea@vip-test.example.com", 10]])
        archived.action_check()
        self.assertIn("Lotus Tea is archived", archived.line_ids.message)
        with self.assertRaises(UserError):
            wizard.action_import()
        self.assertFalse(self.Move.search([("move_type", "=", "import")]))

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
        self._import_and_run(wizard)
        self.assertEqual(self.balance(self.other), 250)
        with self.assertRaisesRegex(UserError, "notes.txt is not an Excel file"):
            self._wizard(None, name="notes.txt", data=base64.b64encode(b"hello")).action_check()
        with self.assertRaisesRegex(UserError, "broken.xlsx cannot be read"):
            self._wizard(None, name="broken.xlsx", data=base64.b64encode(b"garbage")).action_check()
        with self.assertRaisesRegex(UserError, "The Points column"):
            self._wizard([["Name"], ["Lotus Tea"]]).action_check()

    # ------------------------------------------------------------------
    # Uploaded files are private and not kept (issue 8, item 4)
    # ------------------------------------------------------------------
    def _file_attachments(self, wizard):
        return self.env["ir.attachment"].sudo().search([
            ("res_model", "=", "vip.loyalty.import"), ("res_id", "=", wizard.id),
            ("res_field", "=", "file"),
        ])

    def test_upload_private_to_its_creator_and_company(self):
        company_2 = self.setup_other_company()["company"]
        manager_2 = new_test_user(
            self.env, login="vip_loyalty-manager-2",
            groups="base.group_user,vip_loyalty.group_vip_loyalty_manager",
            company_id=company_2.id, company_ids=[Command.set(company_2.ids)],
        )
        other_manager = new_test_user(
            self.env, login="vip_loyalty-manager-bis",
            groups="base.group_user,vip_loyalty.group_vip_loyalty_manager",
            company_id=self.company.id, company_ids=[Command.set(self.company.ids)],
        )
        wizard = self.env["vip.loyalty.import"].with_user(self.loyalty_manager).create({
            "file": self._xlsx([["编号", "积分"], ["C0001", 10]]), "file_name": "mine.xlsx",
        })
        wizard.action_check()
        line = wizard.line_ids
        self.assertTrue(line)
        for intruder in (manager_2, other_manager):
            Import = self.env["vip.loyalty.import"].with_user(intruder)
            self.assertFalse(Import.search([]), intruder.login)
            with self.assertRaises(AccessError, msg=intruder.login):
                wizard.with_user(intruder).read(["file", "file_name"])
            with self.assertRaises(AccessError, msg=intruder.login):
                line.with_user(intruder).read(["name"])
            self.assertFalse(
                self.env["vip.loyalty.import.line"].with_user(intruder).search([]), intruder.login
            )
            with self.assertRaises(AccessError, msg=intruder.login):
                self._file_attachments(wizard).with_user(intruder).read(["datas"])
        # the creator still sees it
        self.assertEqual(wizard.with_user(self.loyalty_manager).file_name, "mine.xlsx")

    def test_file_deleted_once_imported_or_abandoned(self):
        wizard = self._wizard([["编号", "积分"], ["C0001", 10]])
        self.assertTrue(self._file_attachments(wizard))
        wizard.action_check()
        wizard.action_import()
        self.assertFalse(wizard.file, "the imported file is not kept")
        self.assertFalse(self._file_attachments(wizard))
        job_file = wizard.job_id.sudo().attachment_id
        self.assertTrue(job_file, "the job keeps the rows until it is over")
        self._run_jobs()
        self.assertFalse(job_file.exists(), "and deletes them then")
        self.assertEqual(wizard.line_ids.move_id.points, 10, "the result stays readable")
        # abandoned: a transient model, vacuumed with its file
        self.assertTrue(self.env["vip.loyalty.import"]._transient)
        abandoned = self._wizard([["编号", "积分"], ["C0001", 10]])
        attachment = self._file_attachments(abandoned)
        self.assertTrue(attachment)
        abandoned.unlink()
        self.assertFalse(attachment.exists())

    def test_huge_points_name_the_row(self):
        wizard = self._wizard([["编号", "积分"], ["C0001", 10**15]])
        wizard.action_check()
        self.assertEqual(wizard.error_count, 1)
        self.assertIn("Points", wizard.line_ids.message)
        with self.assertRaisesRegex(UserError, "row 2"):
            wizard.action_import()
        self.assertFalse(self.Move.search([("move_type", "=", "import")]))

    def test_far_expiry_names_the_row(self):
        wizard = self._wizard([["编号", "积分", "到期日"], ["C0001", 10, "2200-01-01"]])
        wizard.action_check()
        self.assertEqual(wizard.error_count, 1)
        self.assertIn("more than 10 years ahead", wizard.line_ids.message)
        with self.assertRaisesRegex(UserError, "row 2"):
            wizard.action_import()
        self.assertFalse(self.Move.search([("move_type", "=", "import")]))

    # ------------------------------------------------------------------
    # Background job (issue 13, item 3)
    # ------------------------------------------------------------------
    def test_background_job_in_chunks(self):
        third = self._partner("Jade Garden", email="jade@vip-test.example.com")
        third.ref = "C0003"
        data = self._xlsx([["Reference", "Email", "Points"], ["C0001", None, 100],
                           [None, "lotus-tea@vip-test.example.com", 200], ["C0003", None, 300]])
        wizard = self._wizard(None, data=data)
        wizard.action_check()
        wizard.action_import()
        job = wizard.job_id
        self.assertRecordValues(job, [{"kind": "loyalty_opening", "state": "queued",
                                       "row_count": 3, "rows_done": 0}])
        self.assertFalse(self.Move.search([("move_type", "=", "import")]), "nothing yet")
        # the same file cannot be queued again meanwhile
        again = self._wizard(None, name="again.xlsx", data=data)
        again.action_check()
        with self.assertRaisesRegex(ValidationError, f"import job #{job.id}"):
            again.action_import()
        Job = self.env["vip.import.job"].with_user(self.env.ref("base.user_root"))
        Job._cron_process_jobs(chunk_size=2)
        self.assertRecordValues(job, [{"state": "running", "rows_done": 2}])
        self.assertAlmostEqual(wizard.job_progress, 66.67, places=2)
        self.assertEqual((self.balance(self.customer), self.balance(self.other),
                          self.balance(third)), (100, 200, 0))
        Job._cron_process_jobs(chunk_size=2)
        self.assertRecordValues(job, [{"state": "done", "rows_done": 3, "create_count": 3}])
        self.assertEqual(self.balance(third), 300)
        self.assertEqual(wizard.state, "done")
        self.assertEqual(sorted(wizard.line_ids.move_id.mapped("points")), [100, 200, 300])
        self.assertIn("Import of balances.xlsx (Opening Points Balances) done: 3 created",
                      job.message_ids[0].body)
        self.assertLedger()

    def test_background_job_stops_at_a_row_invalid_since(self):
        data = self._xlsx([["Reference", "Email", "Points"], ["C0001", None, 100],
                           [None, "lotus-tea@vip-test.example.com", 200]])
        wizard = self._wizard(None, data=data)
        wizard.action_check()
        wizard.action_import()
        Job = self.env["vip.import.job"].with_user(self.env.ref("base.user_root"))
        Job._cron_process_jobs(chunk_size=1)
        # meanwhile Lotus Tea gets an opening balance another way
        self.env["vip.loyalty.engine"]._post_moves([{
            "name": "Opening balance (by hand)", "partner_id": self.other.id,
            "company_id": self.company.id, "move_type": "import", "points": 5,
        }])
        job = wizard.job_id
        self.assertEqual(job.rows_done, 1)
        self._run_jobs(chunk_size=1)
        self.assertEqual(job.state, "failed")
        self.assertIn("The 1 rows before row 3 were imported and stay", job.error_message)
        self.assertIn("Row 3: ", job.error_message)
        self.assertIn("already has an opening balance", job.error_message)
        self.assertEqual((self.balance(self.customer), self.balance(self.other)), (100, 5))

    def test_wizard_job_link_set_by_import_only(self):
        data = self._xlsx([["Reference", "Points"], ["C0001", 100]])
        wizard = self._wizard(None, data=data)
        wizard.action_check()
        wizard.action_import()
        job = wizard.job_id
        company_2 = self.env["res.company"].create({"name": "Loyalty Import Co 2"})
        manager_2 = new_test_user(
            self.env, login="vip-loyalty-import-manager-2",
            groups="base.group_user,vip_loyalty.group_vip_loyalty_manager",
            company_id=company_2.id, company_ids=[Command.set(company_2.ids)],
        )
        Wizard = self.env["vip.loyalty.import"].with_user(manager_2)
        # as RPC calls would
        with self.assertRaisesRegex(AccessError, "set by its Import button only"):
            Wizard.create({"file_name": "x.xlsx", "job_id": job.id})
        spy = Wizard.create({"file_name": "x.xlsx"})
        with self.assertRaisesRegex(AccessError, "set by its Import button only"):
            spy.with_context(vip_import_engine=True).write({"job_id": job.id})
        # even linked by the server: read with the reader's rights, left alone by the engine
        job._link_wizard(spy)
        spy.invalidate_recordset()
        with self.assertRaises(AccessError):
            spy.read(["job_state", "job_error"])
        self._run_jobs()
        self.assertEqual(wizard.state, "done")
        self.assertEqual(wizard.line_ids.move_id.mapped("points"), [100])
        self.assertEqual(spy.sudo().state, "draft")

    def test_check_after_a_cancelled_job_says_so(self):
        data = self._xlsx([["Reference", "Points"], ["C0001", 100]])
        wizard = self._wizard(None, data=data)
        wizard.action_check()
        wizard.action_import()
        job = wizard.job_id
        self.assertIs(job.action_cancel(), True)
        with self.assertRaisesRegex(
            UserError, rf"handed to import job #{job.id} \(balances.xlsx\), now Cancelled"
        ):
            wizard.action_check()
