"""Background import jobs (issue 13, item 3): the customer import validated
whole, then written by the job cron in committed chunks."""

import io
import random
import string
from unittest.mock import patch

import psycopg2

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger
from odoo.tools.translate import code_translations

from odoo.addons.vip_customer.models.vip_import_job import VipImportJob
from odoo.addons.vip_customer.tools import import_spool
from odoo.addons.vip_customer.wizard import vip_customer_import_rows
from odoo.addons.vip_customer.wizard.vip_customer_import import VipCustomerImport

from .common import VipCustomerCommon, xlsx_file

HEADERS = ("Name", "Reference", "Email", "Tier", "Account Manager", "Interests")
DONE_EN = "Import of %(file)s (%(kind)s) done: %(created)s created, %(updated)s updated."
DONE_ZH = "%(file)s（%(kind)s）导入完成：新建 %(created)s 个，更新 %(updated)s 个。"


def _xlsx(rows, headers=HEADERS):
    return xlsx_file(rows, headers)


@tagged("post_install", "-at_install")
class TestVipImportJob(VipCustomerCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Partner = cls.env["res.partner"]
        cls.root = cls.env.ref("base.user_root")
        cls.existing = cls.Partner.create(
            {"name": "Job Existing", "ref": "JOB-003", "email": "old3@example.com"}
        )
        cls.rows = [
            [f"Job Customer {i}", f"JOB-{i:03d}", f"job{i}@example.com",
             "ABC"[i % 3], "vip_customer-user" if i % 2 else None,
             "Golf" if i % 4 == 0 else None]
            for i in range(25)
        ]
        cls.other_manager = new_test_user(
            cls.env, login="vip_customer-manager-bis",
            groups="base.group_user,vip_customer.group_vip_manager",
            company_id=cls.company.id, company_ids=[Command.set(cls.company.ids)],
        )

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def _wizard(self, rows=None, user=None, file_name="customers.xlsx", content=None):
        content = content or _xlsx(self.rows if rows is None else rows)
        wizard = self.env["vip.customer.import"].with_user(user or self.vip_manager).create(
            {"file": content, "file_name": file_name}
        )
        wizard.action_check()
        self.assertFalse(wizard.error_count, wizard.line_ids.filtered("is_error").mapped("message"))
        return wizard

    def _cron(self, chunk_size):
        """One cron call as Odoo's runner makes it; the progress it notified."""
        notified = []

        def notify(cron, *, done, remaining, deactivate=False):
            notified.append((done, remaining))

        with patch.object(type(self.env["ir.cron"]), "_notify_progress", notify):
            self.env["vip.import.job"].with_user(self.root)._cron_process_jobs(
                chunk_size=chunk_size
            )
        self.env.invalidate_all()
        return notified

    def _run_jobs(self, chunk_size=1000):
        calls = 0
        Job = self.env["vip.import.job"].sudo()
        while Job.search_count([("state", "in", ("queued", "running"))]):
            self.assertLess(calls, 100, "the import jobs do not end")
            self._cron(chunk_size)
            calls += 1
        return calls

    def _snapshot(self):
        """What a user sees of the imported customers, by reference."""
        partners = self.Partner.search([("ref", "=like", "JOB-%")], order="ref")
        history = self.env["vip.tier.history"].search_count(
            [("partner_id", "in", partners.ids), ("reason", "=", "import")]
        )
        return history, [
            (p.ref, p.name, p.email, p.vip_tier_id.code, p.vip_account_manager_id.login,
             tuple(p.vip_interest_tag_ids.mapped("name")))
            for p in partners
        ]

    # ------------------------------------------------------------------
    # chunks
    # ------------------------------------------------------------------
    def test_chunks_give_the_same_result_as_one(self):
        savepoint = self.env.cr.savepoint()
        wizard = self._wizard()
        wizard.action_import()
        self.assertEqual(self._run_jobs(chunk_size=7), 4, "25 rows, 7 a call")
        self.assertEqual((wizard.job_id.create_count, wizard.job_id.update_count), (24, 1))
        chunked = self._snapshot()
        lines = sorted((line.row_number, line.partner_id.ref) for line in wizard.line_ids)
        savepoint.close(rollback=True)
        self.env.invalidate_all()
        self.assertFalse(self.Partner.search([("name", "=", "Job Customer 0")]))

        wizard = self._wizard()
        wizard.action_import()
        self.assertEqual(self._run_jobs(chunk_size=1000), 1)
        self.assertEqual(self._snapshot(), chunked)
        self.assertEqual(len(chunked[1]), 25)
        self.assertEqual(chunked[0], 25, "every imported tier in the history")
        self.assertEqual(self.existing.name, "Job Customer 3")
        self.assertEqual(
            sorted((line.row_number, line.partner_id.ref) for line in wizard.line_ids), lines
        )
        self.assertEqual(lines[0], (2, "JOB-000"), "each row shows its customer")

    def test_progress_on_the_job_the_wizard_and_the_cron(self):
        wizard = self._wizard()
        wizard.action_import()
        job = wizard.job_id
        self.assertRecordValues(job, [{
            "state": "queued", "row_count": 25, "rows_done": 0, "progress": 0.0,
            "user_id": self.vip_manager.id, "name": "customers.xlsx", "kind": "customer",
        }])
        self.assertEqual(self._cron(chunk_size=10), [(10, 15)])
        self.assertRecordValues(job, [{"state": "running", "rows_done": 10, "progress": 40.0}])
        self.assertTrue(job.date_start)
        self.assertEqual((wizard.state, wizard.job_progress, wizard.job_rows_done),
                         ("importing", 40.0, 10))
        self.assertEqual(self._cron(chunk_size=10), [(10, 5)])
        self.assertEqual(self._cron(chunk_size=10), [(5, 0)])
        self.assertRecordValues(job, [{"state": "done", "rows_done": 25, "progress": 100.0}])
        self.assertTrue(job.date_done)
        self.assertEqual(wizard.state, "done")
        self.assertEqual(self._cron(chunk_size=10), [], "nothing left: nothing notified")

    def test_job_keeps_the_customers_it_wrote(self):
        """After a background import the wizard opens the customers the job
        created or updated (all 25 rows, whatever the chunks), the job form counts
        them, and the customers' list filters by job among the jobs a user may
        read only."""
        other = self._wizard(self.rows[20:], file_name="other.xlsx")
        other.action_import()
        self._run_jobs(chunk_size=1000)
        wizard = self._wizard()
        with self.assertRaisesRegex(UserError, "Nothing has been imported"):
            wizard.action_open_partners()
        wizard.action_import()
        self._run_jobs(chunk_size=7)
        job = wizard.job_id
        self.assertEqual(job.state, "done")
        expected = self.Partner.search([("ref", "=like", "JOB-%")])
        self.assertEqual(len(expected), 25)
        self.assertEqual(job.partner_count, 25, "created and updated, each once")
        self.assertEqual(other.job_id.partner_count, 5)
        action = wizard.with_user(self.vip_manager).action_open_partners()
        self.assertEqual(action["res_model"], "res.partner")
        self.assertEqual(action["display_name"], "Imported Customers", "the breadcrumb's title")
        Partner = self.Partner.with_user(self.vip_manager)
        self.assertEqual(Partner.search(action["domain"]), expected)
        self.assertEqual(Partner.search(job.action_open_partners()["domain"]), expected)
        # the last job that wrote a customer, and the filter's other forms
        self.assertEqual(Partner.browse(self.existing.id).vip_import_job_id, job)
        self.assertEqual(Partner.search([("vip_import_job_id", "=", other.job_id.id)]),
                         expected.filtered(lambda p: p.ref >= "JOB-020"))
        self.assertEqual(Partner.search([("vip_import_job_id", "ilike", "other.xl")]),
                         expected.filtered(lambda p: p.ref >= "JOB-020"))
        self.assertFalse(Partner.search([("vip_import_job_id", "=", False)]) & expected)
        self.assertEqual(
            Partner.search([("vip_import_job_id", "!=", job.id), ("ref", "=like", "JOB-%")]),
            self.Partner, "every customer of the file was written by this job",
        )
        # a colleague who may not read the jobs: no job shown, the filter finds nobody
        colleague = new_test_user(
            self.env, login="vip_customer-user-ter",
            groups="base.group_user,vip_customer.group_vip_user",
            company_id=self.company.id, company_ids=[Command.set(self.company.ids)],
        )
        self.assertFalse(self.existing.with_user(colleague).vip_import_job_id)
        self.assertFalse(
            self.Partner.with_user(colleague).search([("vip_import_job_id", "=", job.id)])
        )
        with self.assertRaises(AccessError):
            job.with_user(colleague).action_open_partners()
        # the filter's other forms, and values no job has: no database error
        other_job = other.job_id
        written = expected.filtered(lambda p: p.ref >= "JOB-020")
        for domain, found in [
            ([("vip_import_job_id", "in", [other_job.id, 2**40, -1])], written),
            ([("vip_import_job_id", "in", ["other.xlsx"])], written),
            ([("vip_import_job_id", "in", [False, other_job.id])], written),
            ([("vip_import_job_id", "=", None)], self.Partner),
            ([("vip_import_job_id", "!=", None)], expected),
            ([("vip_import_job_id", "not in", [job.id])], self.Partner),
        ]:
            self.assertEqual(Partner.search(domain + [("ref", "=like", "JOB-%")]), found, domain)
        for value in (True, 1.5, [[1]], {"id": 1}):
            with self.assertRaisesRegex(UserError, "Last Import Job"):
                Partner.search([("vip_import_job_id", "=", value)])
        with self.assertRaisesRegex(UserError, "operator child_of"):
            Partner.search([("vip_import_job_id", "child_of", job.id)])
        # the count is what the reader's list shows: a customer moved to another company
        company_2 = self.env["res.company"].create({"name": "Import Co 3"})
        expected[0].company_id = company_2
        job.invalidate_recordset(["partner_count"])
        self.assertEqual(job.with_user(self.vip_manager).partner_count, 24)
        # employees outside VIP do not meet the field at all
        with self.assertRaises(AccessError):
            self.Partner.with_user(self.salesman).search([("vip_import_job_id", "=", job.id)])
        # the relation is the engine's
        with self.assertRaises(AccessError):
            job.with_user(self.vip_manager).write({"partner_ids": [Command.clear()]})
        self.env.cr.execute(
            "SELECT COUNT(*) FROM vip_import_job_partner_rel WHERE job_id = %s", [job.id]
        )
        self.assertEqual(self.env.cr.fetchone()[0], 25)

    def test_killed_call_resumes_without_duplicates(self):
        wizard = self._wizard()
        wizard.action_import()
        job = wizard.job_id
        self._cron(chunk_size=10)
        original = VipCustomerImport._import_batch

        def killed(self, rows, lookups):
            original(self, rows, lookups)
            raise RuntimeError("worker killed (limit_time_real_cron)")

        # the runner rolls the killed call back whole: the customers of the
        # chunk and the job's rows_done together
        with (
            patch.object(VipCustomerImport, "_import_batch", killed),
            self.assertRaises(RuntimeError),
            self.env.cr.savepoint(),
        ):
            self._cron(chunk_size=10)
        self.env.invalidate_all()
        self.assertEqual((job.state, job.rows_done), ("running", 10))
        self.assertFalse(self.Partner.search([("ref", "=", "JOB-015")]))
        self._run_jobs(chunk_size=10)
        self.assertEqual(job.state, "done")
        self.assertEqual(self.Partner.search_count([("ref", "=like", "JOB-%")]), 25)
        for i in range(25):
            self.assertEqual(self.Partner.search_count([("ref", "=", f"JOB-{i:03d}")]), 1)
        self.assertEqual((job.create_count, job.update_count), (24, 1))

    def test_row_invalid_since_fails_the_job_naming_it(self):
        wizard = self._wizard()
        wizard.action_import()
        job = wizard.job_id
        attachment = job.sudo().attachment_id
        self._cron(chunk_size=10)
        # the account manager of row 13 (Job Customer 11) leaves before the second chunk
        self.vip_user.login = "vip_customer-user-gone"
        self._cron(chunk_size=10)
        self.assertEqual(job.state, "failed")
        self.assertIn("Row 13: ", job.error_message)
        self.assertIn("vip_customer-user", job.error_message)
        self.assertIn("The 10 rows before row 12 were imported and stay", job.error_message)
        self.assertEqual(job.rows_done, 10)
        self.assertEqual(self.Partner.search_count([("ref", "=like", "JOB-%")]), 10,
                         "the first chunk's 9 new customers stay, and its update")
        self.assertFalse(self.Partner.search([("ref", "=", "JOB-010")]), "no half chunk")
        self.assertFalse(attachment.exists(), "the rows are not kept")
        self.assertIn("failed after 10 of 25 rows", job.message_ids[0].body)
        # one line a row in the chatter (#13 L-1)
        self.assertRegex(job.message_ids[0].body, r"changed since\):<br/?>\s*Row 13: ")
        self.assertEqual(wizard.job_state, "failed")
        self._cron(chunk_size=10)
        self.assertEqual(job.rows_done, 10, "a failed job is not resumed")
        # the wizard says where its file went (#13 L-2)
        with self.assertRaisesRegex(
            UserError, rf"handed to import job #{job.id} \(customers.xlsx\), now Failed"
        ):
            wizard.action_check()
        # a file uploaded again is checked again
        wizard.write({"file": _xlsx(self.rows[:2])})
        wizard.action_check()
        self.assertEqual(wizard.state, "checked")

    def test_row_invalid_in_the_first_chunk_imports_nothing(self):
        wizard = self._wizard(rows=self.rows[:4])
        wizard.action_import()
        self.vip_user.login = "vip_customer-user-gone"
        self._run_jobs()
        job = wizard.job_id
        self.assertEqual(job.state, "failed")
        self.assertIn("Row 3: ", job.error_message)
        self.assertIn("Nothing was imported.", job.error_message)
        self.assertFalse(self.Partner.search([("ref", "in", ["JOB-000", "JOB-001"])]))

    # ------------------------------------------------------------------
    # the same file twice
    # ------------------------------------------------------------------
    def test_same_file_not_queued_twice(self):
        content = _xlsx(self.rows)
        first = self._wizard(content=content)
        first.action_import()
        job = first.job_id
        # the same bytes, uploaded again by a colleague under another name
        second = self._wizard(user=self.other_manager, file_name="copy.xlsx", content=content)
        with self.assertRaisesRegex(
            ValidationError,
            rf"already being imported: import job #{job.id} \(customers.xlsx\), started by",
        ):
            second.action_import()
        self.assertEqual(second.state, "checked")
        # another file goes
        other = self._wizard(rows=self.rows[:2], file_name="other.xlsx")
        other.action_import()
        self.assertEqual(other.job_id.state, "queued")
        # and the same file again once the first is over
        self._run_jobs()
        second.action_import()
        self.assertEqual(second.job_id.state, "queued")
        self._run_jobs()
        self.assertEqual((second.job_id.create_count, second.job_id.update_count), (0, 25))

    def test_same_file_twice_refused_by_the_index_too(self):
        wizard = self._wizard()
        wizard.action_import()
        job = wizard.job_id.sudo()
        with (
            patch.object(VipImportJob, "_check_not_running", lambda *args, **kwargs: None),
            mute_logger("odoo.sql_db"),
            self.assertRaises(psycopg2.errors.UniqueViolation),
            self.env.cr.savepoint(),
        ):
            self.env["vip.import.job"]._engine().create({
                "name": "twin.xlsx", "kind": "customer", "company_id": job.company_id.id,
                "user_id": self.vip_manager.id, "file_hash": job.file_hash, "row_count": 1,
            })

    # ------------------------------------------------------------------
    # notifications
    # ------------------------------------------------------------------
    def test_starter_notified_in_their_language(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.vip_manager.lang = "zh_CN"
        wizard = self._wizard(rows=self.rows[:4])
        wizard.action_import()
        job = wizard.job_id
        merged = dict(code_translations.get_python_translations("vip_customer", "zh_CN"),
                      **{DONE_EN: DONE_ZH})
        with patch.dict(code_translations.python_translations,
                        {("vip_customer", "zh_CN"): merged}):
            self._run_jobs()
        message = job.message_ids.filtered(lambda m: "导入完成" in (m.body or ""))
        self.assertEqual(len(message), 1, job.message_ids.mapped("body"))
        self.assertIn("customers.xlsx", message.body)
        self.assertIn("新建 3 个，更新 1 个", message.body)
        self.assertIn(self.vip_manager.partner_id, message.partner_ids)
        self.assertIn(self.vip_manager.partner_id,
                      message.notification_ids.res_partner_id, "the starter is notified")
        # an English starter reads English
        self.vip_manager.lang = "en_US"
        wizard = self._wizard(rows=self.rows[4:6], file_name="more.xlsx")
        wizard.action_import()
        self._run_jobs()
        self.assertIn("Import of more.xlsx (Customers) done: 2 created, 0 updated.",
                      wizard.job_id.message_ids[0].body)

    # ------------------------------------------------------------------
    # cancel
    # ------------------------------------------------------------------
    def test_cancel_stops_before_the_next_chunk(self):
        wizard = self._wizard()
        wizard.action_import()
        job = wizard.job_id
        attachment = job.sudo().attachment_id
        self._cron(chunk_size=10)
        self.assertIs(job.with_user(self.vip_manager).action_cancel(), True)
        self.assertEqual(job.state, "cancelled")
        self.assertFalse(attachment.exists())
        self._cron(chunk_size=10)
        self.assertEqual(job.rows_done, 10)
        self.assertEqual(self.Partner.search_count([("ref", "=like", "JOB-%")]), 10)
        self.assertIn("cancelled after 10 of 25 rows", job.message_ids[0].body)

    # ------------------------------------------------------------------
    # access
    # ------------------------------------------------------------------
    def _job_of(self, user, name="mine.xlsx"):
        """A job started by ``user`` (as a wizard would queue it)."""
        rows_file = io.BytesIO()
        writer = import_spool.RowsWriter(rows_file, {"labels": {"name": "Name"}})
        writer.add(2, {"name": "Secret Customer"})
        writer.close()
        rows_file.seek(0)
        return self.env["vip.import.job"].with_user(user)._create_job(
            "customer", name, self.company, rows_file, 1, name
        )

    def test_jobs_private_to_their_starter_and_vip_managers(self):
        mine = self._job_of(self.vip_user)
        managers = self._job_of(self.vip_manager, "managers.xlsx")
        Job = self.env["vip.import.job"]
        # a VIP user sees and cancels their own jobs only
        self.assertEqual(Job.with_user(self.vip_user).search([]), mine)
        with self.assertRaises(AccessError):
            managers.with_user(self.vip_user).read(["name", "progress"])
        with self.assertRaises(AccessError):
            managers.with_user(self.vip_user).action_cancel()
        self.assertEqual(managers.state, "queued")
        # the rows file: not even its starter reads it (the engine does, in sudo)
        for user in (self.vip_user, self.vip_manager):
            with self.assertRaises(AccessError):
                managers.sudo().attachment_id.with_user(user).read(["datas"])
        self.assertFalse(
            self.env["ir.attachment"].with_user(self.vip_manager).search(
                [("res_model", "=", "vip.import.job"), ("res_id", "=", managers.id)]
            ),
            "not in the job's chatter",
        )
        colleague = new_test_user(
            self.env, login="vip_customer-user-bis",
            groups="base.group_user,vip_customer.group_vip_user",
            company_id=self.company.id, company_ids=[Command.set(self.company.ids)],
        )
        self.assertFalse(Job.with_user(colleague).search([]))
        with self.assertRaises(AccessError):
            mine.with_user(colleague).action_cancel()
        # VIP managers see every job of their companies, and may cancel them
        self.assertEqual(Job.with_user(self.other_manager).search([]) & (mine | managers),
                         mine | managers)
        self.assertIs(mine.with_user(self.vip_user).action_cancel(), True)
        self.assertEqual(mine.state, "cancelled")
        self.assertIs(managers.with_user(self.other_manager).action_cancel(), True)
        # another company's manager sees none
        company_2 = self.env["res.company"].create({"name": "Import Co 2"})
        manager_2 = new_test_user(
            self.env, login="vip_customer-manager-2",
            groups="base.group_user,vip_customer.group_vip_manager",
            company_id=company_2.id, company_ids=[Command.set(company_2.ids)],
        )
        self.assertFalse(Job.with_user(manager_2).search([]))
        with self.assertRaises(AccessError):
            mine.with_user(manager_2).read(["name"])
        # an employee outside VIP has no access at all
        with self.assertRaises(AccessError):
            Job.with_user(self.salesman).search([])

    def test_nobody_writes_progress_or_state(self):
        job = self._job_of(self.vip_user)
        attempts = {
            "rows_done": 1, "progress": 100.0, "state": "done", "create_count": 5,
            "row_count": 0, "user_id": self.vip_manager.id, "file_hash": "x",
        }
        for user in (self.vip_user, self.vip_manager, self.env.ref("base.user_admin")):
            for fname, value in attempts.items():
                with self.subTest(user=user.login, field=fname), self.assertRaises(AccessError):
                    # as an RPC call would: the model, the record id, the values
                    self.env["vip.import.job"].with_user(user).browse(job.id).write(
                        {fname: value}
                    )
        # not even in sudo, without the engine
        for fname, value in attempts.items():
            with self.subTest(sudo=fname), self.assertRaises(AccessError):
                job.sudo().write({fname: value})
        with self.assertRaises(AccessError):
            job.with_user(self.vip_manager).with_context(vip_import_engine=True).write(
                {"state": "done"}
            )
        with self.assertRaises(AccessError):
            self.env["vip.import.job"].sudo().create({
                "name": "forged.xlsx", "kind": "customer", "company_id": self.company.id,
                "user_id": self.vip_user.id, "row_count": 1,
            })
        with self.assertRaises(AccessError):
            self.env["vip.import.job"].with_user(self.vip_manager).with_context(
                vip_import_engine=True
            ).create({"name": "forged.xlsx", "kind": "customer", "company_id": self.company.id,
                      "user_id": self.vip_user.id, "row_count": 1})
        self.assertRecordValues(job, [{"state": "queued", "rows_done": 0, "progress": 0.0}])
        # a queued job is not deleted; a finished one by a VIP manager only
        with self.assertRaisesRegex(Exception, "cancel it before deleting it"):
            job.with_user(self.vip_manager).unlink()
        job.with_user(self.vip_user).action_cancel()
        with self.assertRaises(AccessError):
            job.with_user(self.vip_user).unlink()
        job.with_user(self.vip_manager).unlink()
        self.assertFalse(job.exists())

    # ------------------------------------------------------------------
    # hostile findings (#13 H-1...)
    # ------------------------------------------------------------------
    def _huge(self, length=30000, seed=13):
        # random, so that PostgreSQL cannot compress it into an index entry
        rng = random.Random(seed)
        return "R" + "".join(rng.choices(string.ascii_letters + string.digits, k=length))

    def test_huge_cell_refused_at_check_naming_row_and_column(self):
        rows = [["Ok Row 1", "HBIG1", None], ["Huge Ref Row", self._huge(), None],
                ["Ok Row 3", "HBIG3", None], [self._huge(1500), "HBIG4", None],
                ["Long Notes Row", "HBIG5", "x" * 5000]]
        wizard = self.env["vip.customer.import"].with_user(self.vip_manager).create({
            "file": _xlsx(rows, headers=("Name", "Reference", "Notes")),
            "file_name": "bigref.xlsx",
        })
        wizard.action_check()
        errors = wizard.line_ids.filtered("is_error").sorted("row_number")
        self.assertEqual(errors.mapped("row_number"), [3, 5], "long notes are fine")
        self.assertIn("Reference: the cell holds 30001 characters, at most 1000 are allowed.",
                      errors[0].message)
        self.assertIn("Name: the cell holds 1501 characters", errors[1].message)
        with self.assertRaisesRegex(UserError, "2 rows of bigref.xlsx are in error"):
            wizard.action_import()
        self.assertFalse(wizard.job_id)

    def test_database_error_fails_the_job_and_the_queue_goes_on(self):
        # a value the check let through (a limit raised by an extension, a file
        # checked by an older version) and PostgreSQL refuses on every call
        rows = [[f"Big {i}", f"HBIG{i}", None, None, None, None] for i in range(4)]
        rows[2][1] = self._huge()
        after = self._wizard(rows=self.rows[:3], file_name="after.xlsx")
        with (
            patch.object(vip_customer_import_rows, "MAX_CELL_LENGTH", 10**6),
            mute_logger("odoo.sql_db", "odoo.addons.vip_customer.models.vip_import_job"),
        ):
            big = self._wizard(rows=rows, file_name="bigref.xlsx")
            big.action_import()
            after.action_import()
            self._cron(chunk_size=2)
            self._cron(chunk_size=2)
        job = big.job_id
        self.assertEqual(job.state, "failed")
        self.assertEqual(job.rows_done, 2)
        self.assertIn("Rows 4 to 5 could not be saved by the database", job.error_message)
        self.assertIn("The 2 rows before row 4 were imported and stay", job.error_message)
        self.assertIn("failed after 2 of 4 rows", job.message_ids[0].body)
        self.assertFalse(self.Partner.search([("ref", "=", "HBIG3")]), "the chunk is undone")
        self.assertEqual(self.Partner.search_count([("ref", "in", ["HBIG0", "HBIG1"])]), 2)
        self._run_jobs()
        self.assertEqual(after.job_id.state, "done", "the job behind is not blocked")

    def test_lock_errors_are_retried_not_failed(self):
        wizard = self._wizard(rows=self.rows[:4])
        wizard.action_import()
        job = wizard.job_id

        def locked(*args, **kwargs):
            raise psycopg2.errors.LockNotAvailable("could not obtain lock")

        with (
            patch.object(VipCustomerImport, "_vip_job_process_chunk", locked),
            self.assertRaises(psycopg2.errors.LockNotAvailable),
        ):
            self._cron(chunk_size=2)
        self.assertIn(job.state, ("queued", "running"))
        self._run_jobs()
        self.assertEqual(job.state, "done")

    def test_wizard_job_link_set_by_import_only(self):
        wizard = self._wizard(rows=self.rows[:4])
        wizard.action_import()
        job = wizard.job_id
        company_2 = self.env["res.company"].create({"name": "Import Co 2"})
        manager_2 = new_test_user(
            self.env, login="vip_customer-manager-2",
            groups="base.group_user,vip_customer.group_vip_manager",
            company_id=company_2.id, company_ids=[Command.set(company_2.ids)],
        )
        Wizard = self.env["vip.customer.import"]
        for user, context in ((manager_2, {}), (self.other_manager, {}),
                              (manager_2, {"vip_import_engine": True})):
            spy = Wizard.with_user(user).with_context(**context)
            with self.subTest(user=user.login, context=context):
                # as RPC calls would: create, then write
                with self.assertRaisesRegex(AccessError, "set by its Import button only"):
                    spy.create({"file_name": "x.xlsx", "job_id": job.id})
                mine = spy.create({"file_name": "x.xlsx"})
                with self.assertRaisesRegex(AccessError, "set by its Import button only"):
                    mine.write({"job_id": job.id})
                self.assertFalse(mine.job_id)
        # even linked (by the server), the job is read with the reader's rights
        # and the engine fills its starter's wizard only
        spy = Wizard.with_user(manager_2).create({
            "file_name": "x.xlsx",
            "line_ids": [Command.create({"row_number": r, "name": "?", "outcome": "create"})
                         for r in range(2, 6)],
        })
        job._link_wizard(spy)
        spy.invalidate_recordset()
        with self.assertRaises(AccessError):
            spy.read(["job_state", "job_error", "job_rows_done", "job_progress"])
        self._run_jobs()
        self.assertEqual(job.state, "done")
        self.assertEqual(wizard.state, "done")
        self.assertEqual(len(wizard.line_ids.partner_id), 4)
        self.assertEqual(spy.sudo().state, "draft")
        self.assertFalse(spy.sudo().line_ids.partner_id, "another's wizard gets no customer")

    def test_starter_demoted_or_archived_stops_the_job(self):
        wizard = self._wizard(user=self.other_manager, file_name="demoted.xlsx")
        wizard.action_import()
        job = wizard.job_id.sudo()
        self._cron(chunk_size=10)
        self.other_manager.groups_id -= self.env.ref("vip_customer.group_vip_manager")
        self.other_manager.groups_id |= self.env.ref("vip_customer.group_vip_user")
        self._run_jobs(chunk_size=10)
        self.assertEqual(job.state, "failed")
        self.assertEqual(job.rows_done, 10)
        self.assertIn("is no longer a VIP manager: the import stopped after 10 of 25 rows",
                      job.error_message)
        self.assertFalse(self.Partner.search([("ref", "=", "JOB-010")]))
        # archived
        rows = [[f"Arc {i}", f"ARC-{i}", None, None, None, None] for i in range(4)]
        wizard = self._wizard(rows=rows, file_name="archived.xlsx")
        wizard.action_import()
        job = wizard.job_id.sudo()
        self.vip_manager.active = False
        self._run_jobs()
        self.assertEqual(job.state, "failed")
        self.assertIn("is archived: the import stopped after 0 of 4 rows", job.error_message)
        self.assertFalse(self.Partner.search([("ref", "=like", "ARC-%")]))

    def test_same_file_at_the_same_moment_clear_message(self):
        job = self._job_of(self.vip_manager, "race.xlsx")
        real = VipImportJob._check_not_running
        calls = []

        def check_passes_once(self_, *args, **kwargs):
            # the other request's check ran before this job was there
            calls.append(args)
            if len(calls) > 1:
                return real(self_, *args, **kwargs)
            return None

        with (
            patch.object(VipImportJob, "_check_not_running", check_passes_once),
            mute_logger("odoo.sql_db"),
            self.assertRaisesRegex(
                ValidationError,
                rf"already being imported: import job #{job.id} \(race.xlsx\), started by",
            ),
        ):
            self._job_of(self.other_manager, "race.xlsx")
        self.assertEqual(len(calls), 2)
        # not even visible yet (another transaction): still no database error
        with (
            patch.object(VipImportJob, "_check_not_running", lambda *args, **kwargs: None),
            mute_logger("odoo.sql_db"),
            self.assertRaisesRegex(ValidationError, "another import of it was started"),
        ):
            self._job_of(self.other_manager, "race.xlsx")
        self.assertEqual(
            self.env["vip.import.job"].sudo().search_count([("name", "=", "race.xlsx")]), 1
        )
