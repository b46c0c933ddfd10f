import base64
import io
import logging

from odoo import api, models
from odoo.exceptions import UserError

from ..tools import import_rows

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
