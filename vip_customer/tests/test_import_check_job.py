"""Large import files checked and validated by the import job (issue 13, item
3): Check and Import of a file above the background threshold read no row
within the request; the job validates in committed slices, across cron calls,
with the same result as the immediate check."""

from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from odoo.addons.vip_customer.models.vip_import_job import BACKGROUND_ROWS_PARAM, VipImportJob

from .common import VipCustomerCommon, xlsx_file

HEADERS = ("Name", "Reference", "Email", "Phone", "Tier", "Account Manager")


@tagged("post_install", "-at_install")
class TestVipImportCheckJob(VipCustomerCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Partner = cls.env["res.partner"]
        cls.root = cls.env.ref("base.user_root")
        cls.existing = cls.Partner.create(
            {"name": "Check Existing", "ref": "CHK-EXIST", "email": "exist@example.com"}
        )
        cls.other_manager = new_test_user(
            cls.env, login="vip_customer-manager-chk",
            groups="base.group_user,vip_customer.group_vip_manager",
            company_id=cls.company.id, company_ids=[Command.set(cls.company.ids)],
        )
        rows = [
            [f"Check Customer {i}", f"CHK-{i:03d}", f"chk{i}@example.com", None, "ABC"[i % 3],
             "vip_customer-user" if i % 2 else None]
            for i in range(14)
        ]
        # row 4 (index 2): a reference the file repeats at row 13 (another slice)
        rows[11][1] = "CHK-002"
        # rows 6 and 15: the same existing customer, by reference then by e-mail
        rows[4][1] = "CHK-EXIST"
        rows[13][1] = None
        rows[13][2] = "exist@example.com"
        # row 9: an unknown tier; row 10: an unknown login
        rows[7][4] = "Z"
        rows[8][5] = "nobody-at-all"
        # row 12: the same e-mail as row 3 (duplicate of an earlier slice)
        rows[10][2] = "chk1@example.com"
        cls.rows = rows
        cls.good_rows = [
            [f"Good Customer {i}", f"GOOD-{i:03d}", f"good{i}@example.com", None, "ABC"[i % 3],
             None]
            for i in range(11)
        ]
        cls.good_rows[5][1] = "CHK-EXIST"
        cls.good_rows[10][5] = "vip_customer-user"

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def _set_threshold(self, rows):
        self.env["ir.config_parameter"].sudo().set_param(BACKGROUND_ROWS_PARAM, str(rows))

    def _wizard(self, rows, user=None, name="large.xlsx", content=None):
        return self.env["vip.customer.import"].with_user(user or self.vip_manager).create(
            {"file": content or xlsx_file(rows, HEADERS), "file_name": name}
        )

    def _run_jobs(self, chunk_size):
        """Call the job cron as Odoo's runner does: again as long as the call
        reports rows remaining; then no job may be left active (a count that
        says 0 too early leaves the job to the cron's next interval)."""
        Job = self.env["vip.import.job"].with_user(self.root)
        reports = []

        def notify(_cron, *, done, remaining, deactivate=False):
            reports.append(remaining)

        calls = 0
        with patch.object(type(self.env["ir.cron"]), "_notify_progress", notify):
            while True:
                self.assertLess(calls, 100, "the import jobs do not end")
                Job._cron_process_jobs(chunk_size=chunk_size)
                self.env.invalidate_all()
                calls += 1
                if not reports or not reports[-1]:
                    break
        self.assertFalse(
            Job.search_count([("state", "in", ("queued", "checking", "running"))]),
            "the cron said nothing remained while a job was still active",
        )
        return calls

    @staticmethod
    def _errors(wizard):
        return {line.row_number: line.message for line in wizard.line_ids if line.is_error}

    @staticmethod
    def _counts(wizard):
        return (wizard.row_count, wizard.create_count, wizard.update_count, wizard.error_count)

    # ------------------------------------------------------------------
    # Check
    # ------------------------------------------------------------------
    def test_large_check_in_job_gives_the_immediate_result(self):
        immediate = self._wizard(self.rows)
        immediate.action_check()
        self.assertEqual(immediate.state, "checked")
        self.assertFalse(immediate.job_id, "a small file is checked in the request")
        expected_errors = self._errors(immediate)
        self.assertEqual(self._counts(immediate), (14, 8, 1, 5))
        self.assertIn("Duplicate of row 4", expected_errors[13])
        self.assertIn("Duplicate of row 3", expected_errors[12])
        self.assertIn("Same existing customer as row 6", expected_errors[15])

        self._set_threshold(5)
        wizard = self._wizard(self.rows)
        with patch.object(type(wizard), "_parse_row") as parse_row:
            wizard.action_check()
        parse_row.assert_not_called()
        self.assertEqual(wizard.state, "checking", "the request validates no row")
        job = wizard.job_id
        self.assertEqual((job.mode, job.state, job.row_count), ("check", "queued", 14))
        self.assertFalse(wizard.line_ids)
        with self.assertRaisesRegex(UserError, "being checked by import job"):
            wizard.action_check()

        calls = self._run_jobs(chunk_size=4)
        self.assertEqual(calls, 4, "14 rows, 4 a call: the duplicates are in other slices")
        self.assertEqual(job.state, "done")
        self.assertEqual(job.progress, 100.0)
        self.assertEqual(wizard.state, "checked")
        self.assertEqual(self._counts(wizard), self._counts(immediate))
        self.assertEqual(self._errors(wizard), expected_errors)
        self.assertEqual(len(wizard.line_ids), 5, "only the rows in error are kept as lines")
        self.assertFalse(self.env["vip.import.job.key"].sudo().search_count([]),
                         "the job's keys go with its end")
        self.assertFalse(self.Partner.search_count([("ref", "=like", "CHK-0%")]))
        with self.assertRaisesRegex(UserError, "5 rows of large.xlsx are in error"):
            wizard.action_import()

    def test_check_progress_on_the_job_and_the_wizard(self):
        self._set_threshold(5)
        wizard = self._wizard(self.rows)
        wizard.action_check()
        Job = self.env["vip.import.job"].with_user(self.root)
        Job._cron_process_jobs(chunk_size=10)
        self.env.invalidate_all()
        self.assertEqual(wizard.job_id.state, "checking")
        self.assertEqual((wizard.job_rows_checked, round(wizard.job_progress)), (10, 71))
        self.assertEqual(wizard.job_id.error_count, 2, "rows 9 and 10 so far")
        self.assertEqual(wizard.state, "checking")
        Job._cron_process_jobs(chunk_size=10)
        self.env.invalidate_all()
        self.assertEqual((wizard.state, wizard.error_count, wizard.job_progress),
                         ("checked", 5, 100.0))

    def test_cancelled_check_can_be_checked_again(self):
        self._set_threshold(5)
        wizard = self._wizard(self.rows)
        wizard.action_check()
        first = wizard.job_id
        self.env["vip.import.job"].with_user(self.root)._cron_process_jobs(chunk_size=4)
        self.assertTrue(first.with_user(self.vip_manager).action_cancel())
        self.assertEqual((first.state, wizard.state), ("cancelled", "checking"))
        self.assertFalse(first.sudo().attachment_id, "a cancelled check keeps no rows")
        wizard.action_check()
        self.assertNotEqual(wizard.job_id, first)
        self._run_jobs(chunk_size=4)
        self.assertEqual((wizard.state, wizard.error_count), ("checked", 5))

    # ------------------------------------------------------------------
    # Import
    # ------------------------------------------------------------------
    def _checked_large(self, rows, content=None):
        self._set_threshold(5)
        wizard = self._wizard(rows, content=content)
        wizard.action_check()
        self._run_jobs(chunk_size=4)
        self.assertEqual((wizard.state, wizard.error_count), ("checked", 0))
        return wizard

    def test_large_import_validates_in_the_job_then_writes_once(self):
        wizard = self._checked_large(self.good_rows)
        self.assertEqual((wizard.create_count, wizard.update_count), (10, 1))
        with patch.object(type(wizard), "_parse_row") as parse_row:
            wizard.action_import()
        parse_row.assert_not_called()
        job = wizard.job_id
        self.assertEqual((job.mode, job.state, job.rows_checked), ("import", "queued", 0))
        Job = self.env["vip.import.job"].with_user(self.root)
        self.assertEqual(Job._remaining_rows(), 22, "11 rows to validate, then to write")
        self.assertEqual(wizard.state, "importing")
        self.assertFalse(wizard.file, "the rows are the job's")
        Job._cron_process_jobs(chunk_size=4)
        self.env.invalidate_all()
        self.assertEqual((job.state, job.rows_checked, job.rows_done), ("checking", 4, 0))
        self.assertEqual(Job._remaining_rows(), 18)
        self.assertFalse(self.Partner.search_count([("ref", "=like", "GOOD-%")]),
                         "nothing written before every row is valid")
        self._run_jobs(chunk_size=4)
        self.assertEqual(job.state, "done", job.error_message)
        self.assertEqual((job.rows_checked, job.rows_done, job.create_count, job.update_count),
                         (11, 11, 10, 1))
        self.assertEqual(self.Partner.search_count([("ref", "=like", "GOOD-%")]), 10)
        self.assertEqual(self.existing.name, "Good Customer 5")
        self.assertEqual(wizard.state, "done")

    def test_checked_rows_taken_by_the_import_or_deleted(self):
        wizard = self._checked_large(self.good_rows)
        check_job = wizard.job_id.sudo()
        rows_file = check_job.attachment_id
        self.assertTrue(rows_file, "a check done keeps its rows for the Import")
        with patch.object(type(wizard), "_vip_spool_rows") as spool:
            wizard.action_import()
        spool.assert_not_called()
        self.assertFalse(check_job.attachment_id)
        import_job = wizard.job_id.sudo()
        self.assertEqual(import_job.attachment_id, rows_file)
        self._run_jobs(chunk_size=4)
        self.assertEqual(import_job.state, "done", import_job.error_message)
        self.assertFalse(rows_file.exists(), "deleted with the import's end")
        self.assertEqual(self.Partner.search_count([("ref", "=like", "GOOD-%")]), 10)

        # a check nobody imports: its rows are deleted a while after
        other = self._checked_large(self.good_rows)
        other_job = other.job_id.sudo()
        self.assertTrue(other_job.attachment_id)
        other_job._engine().write({"date_done": "2000-01-01 00:00:00"})
        self.env["vip.import.job"].with_user(self.root)._cron_process_jobs()
        self.assertFalse(other_job.attachment_id)
        self.assertFalse(self.env["ir.attachment"].sudo().search_count(
            [("res_model", "=", "vip.import.job"), ("res_id", "=", other_job.id)]
        ))
        # its Import reads the file again
        other.action_import()
        self._run_jobs(chunk_size=4)
        self.assertEqual(other.job_id.state, "done", other.job_id.error_message)
        self.assertEqual(other.job_id.update_count, 11)
        self.assertEqual(self.Partner.search_count([("ref", "=like", "GOOD-%")]), 10)

    def test_large_import_with_a_row_invalid_since_writes_nothing(self):
        wizard = self._checked_large(self.good_rows)
        wizard.action_import()
        # row 12 (the last slice) becomes invalid: its account manager is archived
        self.vip_user.active = False
        self._run_jobs(chunk_size=4)
        job = wizard.job_id
        self.assertEqual(job.state, "failed")
        self.assertEqual(job.rows_checked, 11, "the earlier slices were valid")
        self.assertIn("Row 12:", job.error_message)
        self.assertIn("Nothing was imported", job.error_message)
        self.assertEqual(job.rows_done, 0)
        self.assertFalse(self.Partner.search_count([("ref", "=like", "GOOD-%")]))
        self.assertEqual(self.existing.name, "Check Existing")

    def test_same_large_file_not_imported_twice(self):
        content = xlsx_file(self.good_rows, HEADERS)
        wizard = self._checked_large(self.good_rows, content=content)
        again = self._checked_large(self.good_rows, content=content)
        wizard.action_import()
        with self.assertRaisesRegex(ValidationError, "already being imported"):
            again.action_import()

    def test_budgeted_call_runs_several_slices(self):
        self._set_threshold(5)
        wizard = self._wizard(self.good_rows)
        wizard.action_check()
        sizes = []
        check_slice = VipImportJob._check_slice

        def counted(job, size):
            sizes.append(size)
            return check_slice(job, size)

        cron = type(self.env["ir.cron"])
        with patch.object(cron, "_vip_call_seconds", lambda self: 600.0), \
                patch.object(cron, "_notify_progress", lambda *args, **kwargs: None), \
                patch.object(VipImportJob, "_check_slice", counted):
            self.env["vip.import.job"].with_user(self.root).with_context(
                ir_cron_progress_id=1
            )._cron_process_jobs(chunk_size=4)
        self.env.invalidate_all()
        self.assertGreater(len(sizes), 2, "one call, several sub-slices")
        self.assertEqual(sizes[0], 1, "a small first sub-slice")
        self.assertLessEqual(max(sizes), 4)
        self.assertEqual((wizard.job_id.state, wizard.state), ("done", "checked"))

    def test_killed_budgeted_call_resumes_without_doubling(self):
        immediate = self._wizard(self.rows)
        immediate.action_check()
        self._set_threshold(5)
        wizard = self._wizard(self.rows)
        wizard.action_check()
        job = wizard.job_id
        Job = self.env["vip.import.job"].with_user(self.root)
        cron = type(self.env["ir.cron"])
        wizard_class = type(wizard)
        original = wizard_class._vip_validate_chunk
        seen = []

        def killed_third(self_, job_, meta, chunk):
            seen.append(chunk[0][0])
            result = original(self_, job_, meta, chunk)
            if len(seen) == 3:
                raise RuntimeError("worker killed (limit_time_real_cron)")
            return result

        # one budgeted call: two sub-slices done, killed in the third; the runner
        # rolls the whole call back (rows checked, keys, error lines together)
        with (
            patch.object(cron, "_vip_call_seconds", lambda self: 600.0),
            patch.object(cron, "_notify_progress", lambda *args, **kwargs: None),
            patch.object(wizard_class, "_vip_validate_chunk", killed_third),
            self.assertRaises(RuntimeError),
            self.env.cr.savepoint(),
        ):
            Job._cron_process_jobs(chunk_size=4)
        self.env.invalidate_all()
        self.assertEqual(seen, [2, 3, 7], "sub-slices of 1, 4, then 4 rows")
        self.assertEqual((job.state, job.rows_checked, job.error_count), ("queued", 0, 0))
        self.assertFalse(wizard.line_ids)
        self._run_jobs(chunk_size=4)
        self.assertEqual(wizard.state, "checked")
        self.assertEqual(self._counts(wizard), self._counts(immediate))
        self.assertEqual(self._errors(wizard), self._errors(immediate))

    # ------------------------------------------------------------------
    # Security
    # ------------------------------------------------------------------
    def test_check_job_private_and_driven_by_the_engine_only(self):
        self._set_threshold(5)
        wizard = self._wizard(self.rows)
        wizard.action_check()
        job = wizard.job_id
        with self.assertRaises(AccessError):
            job.with_user(self.vip_user).read(["state", "error_count"])
        for vals in ({"state": "done"}, {"rows_checked": 14}, {"mode": "import"},
                     {"error_count": 0}, {"check_stats": {"create_count": 1}}):
            with self.assertRaises(AccessError):
                job.with_user(self.other_manager).write(vals)
            with self.assertRaises(AccessError):
                job.with_user(self.vip_manager).write(vals)
        with self.assertRaises(AccessError):
            self.env["vip.import.job"].with_user(self.vip_manager).create(
                {"name": "x.xlsx", "kind": "customer", "mode": "check",
                 "company_id": self.company.id, "user_id": self.vip_manager.id}
            )
        # the job's counters through the wizard's related fields: not written
        wizard.write({"job_rows_checked": 14, "job_state": "done"})
        self.env.invalidate_all()
        self.assertEqual((job.state, job.rows_checked), ("queued", 0))
        with self.assertRaises(AccessError):
            wizard.with_user(self.other_manager).action_check()
        with self.assertRaises(AccessError):
            self.env["vip.import.job.key"].with_user(self.vip_manager).search([])
        # another manager's wizard linked to the job gets nothing
        theirs = self._wizard(self.rows, user=self.other_manager)
        with self.assertRaises(AccessError):
            theirs.write({"job_id": job.id})
        self._run_jobs(chunk_size=10)
        self.assertEqual(wizard.state, "checked")
        self.assertEqual(theirs.state, "draft")
        self.assertFalse(theirs.line_ids)

    def test_starter_demoted_stops_the_check(self):
        self._set_threshold(5)
        wizard = self._wizard(self.rows)
        wizard.action_check()
        self.vip_manager.groups_id = [
            Command.unlink(self.env.ref("vip_customer.group_vip_manager").id)
        ]
        self._run_jobs(chunk_size=4)
        job = wizard.sudo().job_id
        self.assertEqual(job.state, "failed")
        self.assertIn("no longer a VIP manager", job.error_message)
        self.assertEqual(job.rows_checked, 0)
        self.assertEqual(wizard.sudo().state, "checking")
