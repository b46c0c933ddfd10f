"""A large opening-balance file is checked and validated by the import job
(issue 13, item 3): the same result as the immediate check, a customer
repeated across slices found, nothing recorded while a row is invalid."""

from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.vip_customer.models.vip_import_job import BACKGROUND_ROWS_PARAM
from odoo.addons.vip_customer.tests.common import xlsx_file

from .common import VipLoyaltyCommon

HEADERS = ("Reference", "Name", "Points")


@tagged("post_install", "-at_install")
class TestImportCheckJob(VipLoyaltyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customers = [
            cls._partner(f"Opening Customer {i}", ref=f"OPN-{i:02d}") for i in range(10)
        ]
        cls.rows = [[f"OPN-{i:02d}", None, 100 + i] for i in range(10)]

    def _set_threshold(self, rows):
        self.env["ir.config_parameter"].sudo().set_param(BACKGROUND_ROWS_PARAM, str(rows))

    def _wizard(self, rows, name="opening.xlsx"):
        return self.env["vip.loyalty.import"].create(
            {"file": xlsx_file(rows, HEADERS), "file_name": name}
        )

    def _run_jobs(self, chunk_size):
        Job = self.env["vip.import.job"].with_user(self.env.ref("base.user_root"))
        calls = 0
        while Job.search_count([("state", "in", ("queued", "checking", "running"))]):
            self.assertLess(calls, 100, "the import jobs do not end")
            with patch.object(type(self.env["ir.cron"]), "_notify_progress",
                              lambda *args, **kwargs: None):
                Job._cron_process_jobs(chunk_size=chunk_size)
            self.env.invalidate_all()
            calls += 1
        return calls

    @staticmethod
    def _errors(wizard):
        return {line.row_number: line.message for line in wizard.line_ids if line.is_error}

    def test_large_check_in_job_gives_the_immediate_result(self):
        rows = [list(row) for row in self.rows]
        rows[8][0] = "OPN-01"  # row 10 repeats row 3's customer, three slices later
        rows[5][2] = "many"  # row 7: not a number
        immediate = self._wizard(rows)
        immediate.action_check()
        self.assertEqual(immediate.state, "checked")
        expected = self._errors(immediate)
        self.assertEqual(sorted(expected), [7, 10])
        self.assertIn("is already on row 3", expected[10])

        self._set_threshold(4)
        wizard = self._wizard(rows)
        with patch.object(type(wizard), "_validate_rows") as validate:
            wizard.action_check()
        validate.assert_not_called()
        self.assertEqual((wizard.state, wizard.job_id.mode), ("checking", "check"))
        self.assertEqual(self._run_jobs(chunk_size=3), 4)
        self.assertEqual(wizard.state, "checked")
        self.assertEqual(
            (wizard.row_count, wizard.error_count, wizard.points_total),
            (immediate.row_count, immediate.error_count, immediate.points_total),
        )
        self.assertEqual(self._errors(wizard), expected)
        self.assertFalse(self.Move.search_count([("move_type", "=", "import")]))

    def test_large_import_validates_in_the_job_then_records_once(self):
        self._set_threshold(4)
        wizard = self._wizard(self.rows)
        wizard.action_check()
        self._run_jobs(chunk_size=3)
        self.assertEqual((wizard.state, wizard.error_count, wizard.points_total),
                         ("checked", 0, sum(100 + i for i in range(10))))
        with patch.object(type(wizard), "_validate_rows") as validate:
            wizard.action_import()
        validate.assert_not_called()
        job = wizard.job_id
        self.assertEqual((job.mode, job.rows_checked), ("import", 0))
        self._run_jobs(chunk_size=3)
        self.assertEqual(job.state, "done", job.error_message)
        self.assertEqual(wizard.state, "done")
        moves = self.Move.search([("move_type", "=", "import")])
        self.assertEqual(len(moves), 10, "every row once")
        self.assertEqual(sorted(moves.mapped("points")), [100 + i for i in range(10)])

    def test_large_import_row_invalid_since_records_nothing(self):
        self._set_threshold(4)
        wizard = self._wizard(self.rows)
        wizard.action_check()
        self._run_jobs(chunk_size=3)
        wizard.action_import()
        # row 11 (the last slice): its customer received an opening balance since
        self.Engine._post_moves([{
            "name": "Opening", "partner_id": self.customers[9].id,
            "company_id": self.company.id, "move_type": "import", "points": 5,
        }])
        self._run_jobs(chunk_size=3)
        job = wizard.job_id
        self.assertEqual(job.state, "failed")
        self.assertIn("Row 11:", job.error_message)
        self.assertIn("Nothing was imported", job.error_message)
        self.assertEqual(self.Move.search_count([("move_type", "=", "import")]), 1)

    def test_large_file_total_over_the_limit_fails_the_check(self):
        self._set_threshold(4)
        for i in range(25):
            self._partner(f"Large Balance {i}", ref=f"OPX-{i:02d}")
        # 100,000,000 a row is allowed; 25 of them are more than one import holds
        rows = [[f"OPX-{i:02d}", None, 100_000_000] for i in range(25)]
        wizard = self._wizard(rows)
        wizard.action_check()
        self._run_jobs(chunk_size=10)
        self.assertEqual(wizard.job_id.state, "failed")
        self.assertIn("more than one import can hold", wizard.job_id.error_message)
        with self.assertRaises(UserError):
            wizard.action_import()
