import base64
import hashlib
import io
import logging
import tempfile

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from ..models.vip_import_job import MAX_ERROR_LINES, MAX_ERRORS_NAMED
from ..tools import import_rows, import_spool

_logger = logging.getLogger(__name__)

try:
    from openpyxl import load_workbook
except ImportError:  # declared in external_dependencies
    load_workbook = None
try:
    import xlrd
except ImportError:  # declared in external_dependencies
    xlrd = None


class VipExcelImportMixin(models.AbstractModel):
    """Reading an uploaded Excel file, shared by the VIP import wizards.

    The inheriting wizard has the fields ``file`` (Binary) and ``file_name``.
    .xlsx goes through openpyxl in read-only mode, .xls through xlrd; a damaged
    or foreign file is a UserError naming it.
    """

    _name = "vip.excel.import.mixin"
    _description = "VIP Excel Import (mixin)"
    # kind of vip.import.job the wizard hands its files to
    _vip_job_kind = None

    error_lines_hidden = fields.Integer(
        string="Rows in Error Not Listed", compute="_compute_error_lines_hidden",
        help="A file checked in the background lists its first 1,000 rows in error only.",
    )

    # no depends: the wizard's counts and lines are the inheriting model's
    def _compute_error_lines_hidden(self):
        for wizard in self:
            listed = len(wizard.line_ids.filtered("is_error")) if wizard.error_count else 0
            wizard.error_lines_hidden = max(0, wizard.error_count - listed)

    # The wizards that import in the background (field ``job_id``, a vip.import.job)
    def action_refresh(self):
        """Show the import job's progress again."""
        self.ensure_one()
        return self._reopen()

    def action_open_job(self):
        """The background job importing the file."""
        self.ensure_one()
        self.job_id.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Import Job"),
            "res_model": "vip.import.job",
            "res_id": self.job_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

    # ------------------------------------------------------------------
    # Large files: checked and imported by a job
    # ------------------------------------------------------------------
    # The inheriting wizard has ``state`` (draft, checking, checked,
    # importing, done), ``row_count``, ``error_count``, ``line_ids`` (lines
    # with ``row_number``, ``outcome`` and ``message``) and implements
    # ``_map_columns(header)``, ``_vip_no_rows_error()``,
    # ``_vip_check_count_fields()``, ``_vip_job_check_rights(job, done)`` and
    # ``_vip_validate_chunk(job, meta, chunk)``.
    @api.model_create_multi
    def create(self, vals_list):
        self.env["vip.import.job"]._check_wizard_vals(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        self.env["vip.import.job"]._check_wizard_vals([vals])
        return super().write(self._vip_write_new_file(vals))

    def _vip_new_file_vals(self):
        """What a new file resets: it must be checked again."""
        return dict.fromkeys(["row_count", "error_count", *self._vip_check_count_fields()], 0) | {
            "state": "draft"
        }

    def _vip_onchange_new_file(self):
        """The form shows at once what a new file resets (the inheriting
        wizard's onchange on ``file``)."""
        self.update(self._vip_new_file_vals())
        self.line_ids = [Command.clear()]

    def _vip_write_new_file(self, vals):
        """``vals`` of a ``write()`` that may bring a new file: then the lines
        go and the wizard is reset (RPC callers and imports reach write()
        without the onchange). A wizard's ``job_id`` is set by its own buttons
        only (``vip.import.job._check_wizard_vals``, in create and write)."""
        if "file" in vals and "state" not in vals:
            self.line_ids.unlink()
            vals = dict(vals, **self._vip_new_file_vals())
        return vals

    def _vip_is_large(self, row_count):
        """Whether a file of ``row_count`` rows is validated by a job."""
        return row_count > self.env["vip.import.job"]._get_background_rows()

    def _vip_spool_rows(self, rows_file):
        """One pass over the Excel file: its non-empty data rows into
        ``rows_file`` (a rows file of ``tools.import_spool``, with the column
        labels), nothing validated yet but the headers. The cheapest read of the
        file, in the request: the job reads the rows file.

        :return: the number of rows
        """
        labels, data_rows = self._vip_data_rows()
        writer = import_spool.RowsWriter(rows_file, {"labels": labels})
        try:
            for row_number, values in data_rows:
                writer.add(row_number, values)
        finally:
            writer.close()
        if not writer.count:
            raise self._vip_no_rows_error()
        return writer.count

    def _vip_data_rows(self):
        """The file's headers, mapped by the wizard's ``_map_columns`` (which
        refuses unknown or missing columns), and its non-empty data rows.

        :return: ``(labels, rows)``: column key -> header as written, and an
            iterator of ``(row number, {column key: value})``
        """
        rows = self._read_sheet()
        header = next(rows, None)
        if header is None:
            raise UserError(self.env._("%(file)s is empty.", file=self.file_name))
        columns = self._map_columns(header)
        labels = {key: str(header[index]).strip() for index, key in columns.items()}

        def data_rows():
            for row_number, row in enumerate(rows, start=2):
                values = import_rows.row_values(row, columns)
                if values:
                    yield row_number, values

        return labels, data_rows()

    def _vip_check_in_job(self):
        """Check a large file in the background: its rows go to a job of mode
        check that validates them in committed slices; the wizard waits in
        state checking and gets the counts and the rows in error from the job.

        :return: False (the file is small: check it here), else True
        """
        with tempfile.TemporaryFile() as rows_file:
            row_count = self._vip_spool_rows(rows_file)
            if not self._vip_is_large(row_count):
                return False
            rows_file.seek(0)
            job = self.env["vip.import.job"]._create_job(
                self._vip_job_kind, self.file_name, self.company_id, rows_file, row_count,
                hashlib.sha256(self._file_data()).hexdigest(), mode="check",
            )
        self.line_ids.unlink()
        self.write(dict.fromkeys(self._vip_check_count_fields(), 0) | {
            "state": "checking", "row_count": row_count, "error_count": 0,
        })
        job._link_wizard(self)
        return True

    def _vip_import_in_job(self, file_hash):
        """Import a large checked file without validating it here: a job of mode
        import validates the whole file first (nothing is written when a row is
        in error), then writes it in chunks.

        :return: False (the file is small: validate it here), else True
        """
        if not self._vip_is_large(self.row_count):
            return False
        if self.error_count:
            raise UserError(self.env._(
                "%(count)s rows of %(file)s are in error: fix them and check the file "
                "again. Nothing has been imported.",
                count=self.error_count, file=self.file_name,
            ))
        Job = self.env["vip.import.job"]
        checked = Job._get_checked_rows_job(self, self._vip_job_kind, file_hash)
        if checked:
            # the rows the check job read from this very file: not read again
            row_count = checked.row_count
            job = Job._create_job(
                self._vip_job_kind, self.file_name, self.company_id, None, row_count,
                file_hash, mode="import", validated=False, checked_job=checked,
            )
        else:
            with tempfile.TemporaryFile() as rows_file:
                row_count = self._vip_spool_rows(rows_file)
                rows_file.seek(0)
                job = Job._create_job(
                    self._vip_job_kind, self.file_name, self.company_id, rows_file, row_count,
                    file_hash, mode="import", validated=False,
                )
        # the rows are the job's now: the uploaded file is not kept
        self.write({"state": "importing", "file": False, "row_count": row_count})
        job._link_wizard(self)
        return True

    @api.model
    def _vip_job_check_rows(self, job, start, limit):
        """Validate the rows ``start`` to ``start + limit - 1`` of a job's file,
        as its user. The checks across rows see the rows of the earlier slices
        (``job._get_first_rows``). A job of mode check lists the rows in error
        on its wizard (the first ``MAX_ERROR_LINES``; their count is exact).

        :return: ``{"rows", "error_count", "errors": [(row, message)], "stats"}``
        """
        meta, chunk = job._read_rows(start, limit)
        if not chunk:
            return {"rows": 0}
        self._vip_job_check_rights(job, job.rows_done)
        wizard = self.new({"company_id": job.company_id.id, "file_name": job.name})
        lines, stats = wizard._vip_validate_chunk(job, meta, chunk)
        errors = [line for line in lines if line["outcome"] == "error"]
        room = MAX_ERROR_LINES - job.error_count
        if errors and job.mode == "check" and room > 0:
            # the job's own wizard (its starter's), whoever runs the engine
            target = job._get_wizards(self._name)
            if target.state == "checking":
                Line = self.env[self._fields["line_ids"].comodel_name]
                Line.sudo().create([dict(line, wizard_id=target.id) for line in errors[:room]])
        result = {
            "rows": len(chunk),
            "error_count": len(errors),
            "errors": [(line["row_number"], line["message"]) for line in errors[:MAX_ERRORS_NAMED]],
            "stats": stats,
        }
        # keep the cache (and memory) bounded on large files
        self.env.invalidate_all()
        return result

    @api.model
    def _vip_job_finished(self, job):
        """The wizard of a job done shows its result: the imported rows, or
        (a check) the counts and the rows in error."""
        wizard = job._get_wizards(self._name)
        if not wizard or job.state != "done":
            return
        if job.mode == "import":
            wizard.write({"state": "done"})
            return
        if wizard.state != "checking":
            return  # another file was uploaded meanwhile
        counts = {fname: (job.check_stats or {}).get(fname, 0)
                  for fname in wizard._vip_check_count_fields()}
        wizard.write(counts | {
            "state": "checked", "row_count": job.row_count, "error_count": job.error_count,
        })

    def _vip_job_rows_invalid(self, job, start, errors, first_row):
        """A chunk's rows no longer valid (the database changed since the file
        was checked): the UserError that fails the job, naming the rows (at most
        10) and what stays of the earlier chunks.

        :param start: rows of the file written before this chunk
        :param errors: ``[(row number, message)]``
        :param first_row: the chunk's first row number
        """
        details = "\n".join(
            self.env._("Row %(row)s: %(message)s", row=row, message=message)
            for row, message in errors[:10]
        )
        if not start:
            raise UserError(self.env._(
                "%(file)s: rows valid when the file was imported are not any more (the "
                "database changed since):\n%(errors)s\nNothing was imported.",
                file=job.name, errors=details,
            ))
        raise UserError(self.env._(
            "%(file)s: rows valid when the file was imported are not any more (the "
            "database changed since):\n%(errors)s\nThe %(done)s rows before row %(row)s "
            "were imported and stay; nothing from row %(row)s on was imported.",
            file=job.name,
            errors=details,
            done=start,
            row=first_row,
        ))

    def _reopen(self):
        """Keep the wizard open on its next step, under its own title (in the
        reader's language; without one the dialog says "Odoo")."""
        return {
            "type": "ir.actions.act_window",
            # sudo: the wizard's model description, not a record the user reads
            "name": self.env["ir.model"].sudo()._get(self._name).name,
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": self.env.context,
        }

    def _file_extension(self):
        name = (self.file_name or "").lower()
        return name.rsplit(".", 1)[-1] if "." in name else ""

    def _read_sheet(self):
        """Rows of the file's first sheet as tuples of plain values, header first.

        A generator: the .xlsx is read row by row (openpyxl read-only mode),
        no cell object is kept.
        """
        if not self.file:
            raise UserError(self.env._("Upload an Excel file first."))
        extension = self._file_extension()
        if extension not in ("xlsx", "xls"):
            raise UserError(
                self.env._(
                    "%(file)s is not an Excel file: upload an .xlsx or .xls file.",
                    file=self.file_name or self.env._("The file"),
                )
            )
        data = self._file_data()
        if extension == "xlsx":
            return self._read_xlsx(data)
        return self._read_xls(data)

    def _file_data(self):
        """The uploaded file's bytes."""
        if not self.file:
            raise UserError(self.env._("Upload an Excel file first."))
        return base64.b64decode(self.with_context(bin_size=False).file)

    def _unreadable(self, error):
        _logger.info("Unreadable VIP import file %s: %s", self.file_name, error)
        return UserError(
            self.env._(
                "%(file)s cannot be read: it is damaged, protected, or not really an Excel "
                "file (%(error)s).",
                file=self.file_name,
                error=error,
            )
        )

    def _read_xlsx(self, data):
        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            sheet = book.worksheets[0]
        except Exception as e:  # openpyxl raises many kinds on a damaged file
            raise self._unreadable(e) from e
        try:
            rows = sheet.iter_rows(values_only=True)
            while True:
                try:
                    row = next(rows)
                except StopIteration:
                    break
                except Exception as e:  # same: a damaged sheet fails while streaming
                    raise self._unreadable(e) from e
                yield row
        finally:
            book.close()

    def _read_xls(self, data):
        try:
            book = xlrd.open_workbook(file_contents=data)
            sheet = book.sheet_by_index(0)
        except Exception as e:  # xlrd raises XLRDError, but also struct/index errors
            raise self._unreadable(e) from e
        for index in range(sheet.nrows):
            yield tuple(self._xls_value(cell, book.datemode) for cell in sheet.row(index))

    @api.model
    def _xls_value(self, cell, datemode):
        if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
            return None
        if cell.ctype == xlrd.XL_CELL_BOOLEAN:
            return bool(cell.value)
        if cell.ctype == xlrd.XL_CELL_DATE:
            try:
                return import_rows.excel_serial_to_date(cell.value, datemode)
            except ValueError:
                return cell.value
        return cell.value
