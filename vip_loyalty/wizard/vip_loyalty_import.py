import base64
import contextlib
import hashlib
import io
import tempfile

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from odoo.addons.vip_customer.models.vip_bounds_mixin import INT_MAX
from odoo.addons.vip_customer.tools import import_rows, import_spool

from ..models.vip_loyalty_program import MAX_EXPIRY_YEARS, MAX_POINTS

try:
    from openpyxl import Workbook
except ImportError:  # declared in external_dependencies
    Workbook = None

# column key -> accepted headers (compared like the customer import: case, spaces,
# underscores and full-width forms ignored)
COLUMNS = {
    "ref": ("Reference", "Customer Reference", "Ref", "编号", "客户编号"),
    "name": ("Name", "Customer", "Customer Name", "名称", "客户", "客户名称"),
    "email": ("Email", "E-mail", "邮箱", "电子邮件"),
    "points": ("Points", "Balance", "Opening Balance", "积分", "积分余额", "期初积分"),
    "expiry_date": ("Expiry Date", "Expires On", "到期日", "过期日期"),
    "reason": ("Reason", "Note", "原因", "备注"),
}
_ALIASES = {
    import_rows.header_key(alias): key for key, aliases in COLUMNS.items() for alias in aliases
}


class VipLoyaltyImport(models.TransientModel):
    """Import opening points balances from an Excel file.

    Like the customer import: *Check* is a dry run listing what each row
    would do or why it cannot; *Import* validates the whole file again and,
    only when no row is in error, hands the rows to a background import job
    (``vip.import.job``) that records one opening-balance lot per row, in
    committed chunks (``_vip_job_process_chunk``). A large file is checked
    and validated by the job too (``vip.excel.import.mixin._vip_check_in_job``).

    The uploaded file holds customer data: a wizard (and its lines) is seen by its
    creator only, in the creator's companies (record rules), the file is cleared
    once imported and an abandoned wizard goes with its file at the transient
    vacuum.
    """

    _name = "vip.loyalty.import"
    _inherit = ["vip.excel.import.mixin", "vip.bounds.mixin"]
    _description = "Import Opening Balances"
    _vip_job_kind = "loyalty_opening"

    file = fields.Binary(
        string="Excel File", help="An .xlsx or .xls file; its first row holds the column headers."
    )
    file_name = fields.Char()
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, default=lambda self: self.env.company
    )
    state = fields.Selection(
        [("draft", "Upload"), ("checking", "Checking"), ("checked", "Checked"),
         ("importing", "Importing"), ("done", "Imported")],
        default="draft", required=True, readonly=True,
    )
    row_count = fields.Integer(string="Rows", readonly=True)
    error_count = fields.Integer(string="Errors", readonly=True)
    points_total = fields.Integer(string="Points", readonly=True)
    line_ids = fields.One2many(
        "vip.loyalty.import.line", "wizard_id", string="Lines", readonly=True
    )
    # set by action_import only (vip.import.job._check_wizard_vals); read with the
    # user's rights: a job is shown to those who may read it
    job_id = fields.Many2one("vip.import.job", string="Import Job", readonly=True)
    job_state = fields.Selection(
        related="job_id.state", string="Import Status", compute_sudo=False
    )
    job_progress = fields.Float(
        related="job_id.progress", string="Progress (%)", compute_sudo=False
    )
    job_rows_checked = fields.Integer(
        related="job_id.rows_checked", string="Rows Checked", compute_sudo=False
    )
    job_rows_done = fields.Integer(
        related="job_id.rows_done", string="Rows Imported", compute_sudo=False
    )
    job_error = fields.Text(related="job_id.error_message", string="Import Error",
                            compute_sudo=False)

    @api.onchange("file")
    def _onchange_file(self):
        # a new file must be checked again (write() does the same for RPC callers)
        self._vip_onchange_new_file()

    def _check_manager(self):
        if not self.env.user.has_group("vip_loyalty.group_vip_loyalty_manager"):
            raise AccessError(self.env._("Only loyalty managers can import points."))

    def action_check(self):
        """Dry run: one line per row with what would be imported, or the row's error.
        A large file is checked by a job in the background (only the rows in
        error are listed then)."""
        self.ensure_one()
        self.env["vip.import.job"]._check_wizard_checkable(self)
        self._check_manager()
        if self._vip_check_in_job():
            return self._reopen()
        rows = self._validate()
        self.line_ids.unlink()
        self.write(self._stats(rows) | {
            "state": "checked",
            "line_ids": [Command.create(row) for row in rows],
        })
        return self._reopen()

    def action_import(self):
        """Queue the opening balances of a checked file without errors.

        The whole file is validated again first: a row in error stops here and
        nothing is recorded. Then a background job records the balances in
        committed chunks (``vip.import.job``); the wizard follows its progress.
        """
        self.ensure_one()
        self._check_manager()
        if self.state in ("importing", "done"):
            raise UserError(self.env._("This file has already been imported."))
        if self.state != "checked":
            raise UserError(self.env._("Check the file before importing it."))
        Job = self.env["vip.import.job"]
        file_hash = hashlib.sha256(self._file_data()).hexdigest()
        Job._check_not_running("loyalty_opening", self.company_id, file_hash)
        if self._vip_import_in_job(file_hash):
            return self._reopen()
        parsed = self._parse_file()
        rows = self._validate_rows(parsed)
        errors = [row for row in rows if row["outcome"] == "error"]
        if errors:
            self.line_ids.unlink()
            self.write(self._stats(rows) | {"line_ids": [Command.create(row) for row in rows]})
            raise UserError(self.env._(
                "%(count)s rows of %(file)s are in error (first: row %(row)s, %(message)s). "
                "Nothing has been imported.",
                count=len(errors), file=self.file_name, row=errors[0]["row_number"],
                message=errors[0]["message"],
            ))
        stats = self._stats(rows)
        with tempfile.TemporaryFile() as rows_file:
            writer = import_spool.RowsWriter(rows_file, {})
            for row_number, values in parsed:
                writer.add(row_number, values)
            writer.close()
            rows_file.seek(0)
            job = Job._create_job(
                "loyalty_opening", self.file_name, self.company_id, rows_file, len(parsed),
                file_hash,
            )
        self.line_ids.unlink()
        self.write(stats | {
            "state": "importing",
            "line_ids": [Command.create(row) for row in rows],
            "file": False,  # the rows are the job's now: the uploaded file is not kept
        })
        job._link_wizard(self)
        return self._reopen()

    # ------------------------------------------------------------------
    # Background job (vip.import.job)
    # ------------------------------------------------------------------
    @api.model
    def _vip_job_process_chunk(self, job, start, limit):
        """Record the opening balances of the rows ``start`` to ``start + limit
        - 1`` of an import job, working as its user.

        The rows are validated again (the database may have changed since the
        file was imported): a row in error stops the job with a message naming
        it; the earlier chunks' balances stay (they are committed).

        :return: ``{"rows", "create_count", "partner_ids"}``
        """
        _meta, chunk = job._read_rows(start, limit)
        if not chunk:
            return {"rows": 0}
        self._vip_job_check_rights(job, start)
        wizard = self.new({"company_id": job.company_id.id, "file_name": job.name})
        rows = wizard._validate_rows(chunk)
        errors = [row for row in rows if row["outcome"] == "error"]
        if errors:
            self._vip_job_rows_invalid(
                job,
                start,
                [(row["row_number"], row["message"]) for row in errors],
                rows[0]["row_number"],
            )
        moves = self.env["vip.loyalty.engine"]._post_moves([
            {
                "name": self.env._("Opening balance (%(file)s, row %(row)s)",
                                   file=job.name, row=row["row_number"]),
                "partner_id": row["partner_id"],
                "company_id": job.company_id.id,
                "move_type": "import",
                "points": row["points"],
                "reason": row["reason"],
                **({"expiry_date": row["expiry_date"]} if row["expiry_date"] else {}),
            }
            for row in rows
        ])
        self._vip_job_update_lines(job, rows, moves)
        self.env.invalidate_all()
        return {"rows": len(rows), "create_count": len(moves),
                "partner_ids": [row["partner_id"] for row in rows]}

    @api.model
    def _vip_job_update_lines(self, job, rows, moves):
        """The wizard still open on the job links each row to its opening move."""
        # the job's own wizard (its starter's), whoever runs the engine
        wizard = job._get_wizards(self._name)
        if not wizard or not rows:
            return
        Line = self.env["vip.loyalty.import.line"]
        Line.flush_model()
        values = SQL(", ").join(
            SQL("(%s, %s)", row["row_number"], move.id)
            for row, move in zip(rows, moves, strict=True)
        )
        self.env.cr.execute(SQL(
            """UPDATE vip_loyalty_import_line l SET move_id = v.move_id
                 FROM (VALUES %s) AS v(row_number, move_id)
                WHERE l.wizard_id = %s AND l.row_number = v.row_number""",
            values, wizard.id,
        ))
        Line.invalidate_model(["move_id"])

    @api.model
    def _vip_job_check_rights(self, job, done):
        """The right to import, for each slice of the job."""
        self._check_manager()

    def _vip_no_rows_error(self):
        return UserError(self.env._("%(file)s has no data rows.", file=self.file_name))

    @api.model
    def _vip_check_count_fields(self):
        """The wizard's counts a check job adds up (besides rows and errors)."""
        return ["points_total"]

    def _vip_validate_chunk(self, job, meta, chunk):
        """Validate a slice of a job's file (see ``_vip_job_check_rows``): a
        customer on an earlier slice's row is found from the job; the points
        of the file so far must fit in one import.

        :return: ``(line values of every row, {"points_total"})``
        """
        rows = self._validate_rows(chunk, job=job)
        total = sum(row["points"] or 0 for row in rows if row["outcome"] != "error")
        self._stats([{"outcome": "ok", "points": (job.check_stats or {}).get("points_total", 0)
                      + total}])
        return rows, {"points_total": total}

    def action_download_template(self):
        """An .xlsx with the accepted headers and an example row."""
        self.ensure_one()
        chinese = (self.env.lang or "").startswith("zh")
        workbook = Workbook()
        sheet = workbook.active
        headers = [
            next((a for a in aliases if not a.isascii()), aliases[0]) if chinese else aliases[0]
            for aliases in COLUMNS.values()
        ]
        sheet.append(headers)
        sheet.append(["C0001", "Golden Dragon Trading", "contact@example.com", 1200,
                      fields.Date.add(fields.Date.context_today(self), years=1), "Legacy card"])
        output = io.BytesIO()
        workbook.save(output)
        attachment = self.env["ir.attachment"].create({
            "name": "vip_points_opening_balances.xlsx",
            "datas": base64.b64encode(output.getvalue()),
            "res_model": self._name,
            "res_id": self.id,
        })
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "download",
        }

    @api.model
    def _stats(self, rows):
        total = sum(row["points"] or 0 for row in rows if row["outcome"] != "error")
        if total > INT_MAX:
            raise UserError(self.env._(
                "%(file)s totals %(points)s points, more than one import can hold "
                "(%(max)s): split the file.",
                file=self.file_name, points=format(total, ","), max=format(INT_MAX, ","),
            ))
        return {
            "row_count": len(rows),
            "error_count": sum(1 for row in rows if row["outcome"] == "error"),
            "points_total": total,
        }

    # ------------------------------------------------------------------
    # Reading and validating
    # ------------------------------------------------------------------
    def _map_columns(self, header):
        columns, unknown = {}, []
        for index, text in enumerate(header):
            canonical = import_rows.header_key(text)
            if not canonical:
                continue
            key = _ALIASES.get(canonical)
            if key is None:
                unknown.append(str(text).strip())
            elif key not in columns.values():
                columns[index] = key
        keys = set(columns.values())
        problems = []
        if unknown:
            problems.append(self.env._("Unknown columns: %(columns)s.", columns=", ".join(unknown)))
        if "points" not in keys:
            problems.append(self.env._("The Points column (积分) is missing."))
        if not keys & {"ref", "name", "email"}:
            problems.append(self.env._(
                "A Reference (编号), Name (名称) or Email (邮箱) column is needed to find the "
                "customers."
            ))
        if problems:
            raise UserError(self.env._(
                "%(file)s: %(problems)s", file=self.file_name, problems="\n".join(problems)
            ))
        return columns

    def _validate(self):
        """Every data row as the values of an import line (outcome ``ok`` or ``error``)."""
        return self._validate_rows(self._parse_file())

    def _parse_file(self):
        """``[(row number, {column key: value})]`` of the file's non-empty data rows."""
        parsed = list(self._vip_data_rows()[1])
        if not parsed:
            raise UserError(self.env._("%(file)s has no data rows.", file=self.file_name))
        return parsed

    def _validate_rows(self, parsed, job=None):
        """The rows ``[(row number, values)]`` as the values of import lines
        (outcome ``ok`` or ``error``), against the database as it is now.

        :param job: the import job validating its file in slices: the customers
            of the earlier slices' rows are read from it and this slice's added
        """
        lookup = self._customer_lookup(parsed)
        today = fields.Date.context_today(self)
        tracker = import_rows.DuplicateTracker(job and job._get_first_rows(
            [("partner", partner_id) for partner_id in lookup["candidates"]]
        ))
        result = []
        for row_number, values in parsed:
            line = {
                "row_number": row_number,
                # what the file says, until a customer is matched (an error row
                # shows the file's identifiers, not a customer it did not match)
                "name": " / ".join(
                    import_rows.cell_text(values[key]) for key in ("ref", "email", "name")
                    if import_rows.cell_text(values.get(key))
                ) or False,
                "outcome": "ok",
                "partner_id": False,
                "points": 0,
                "expiry_date": False,
                "reason": import_rows.cell_text(values.get("reason")) or False,
                "message": False,
            }
            try:
                partner = self._find_customer(values, lookup)
                line["partner_id"] = partner.id
                line["name"] = partner.display_name
                if not partner.active:
                    raise ValueError(self.env._(
                        "%(customer)s is archived: restore the customer first.",
                        customer=partner.display_name,
                    ))
                first = tracker.check(row_number, [("partner", partner.id)])
                if first:
                    raise ValueError(self.env._(
                        "%(customer)s is already on row %(row)s.",
                        customer=partner.display_name, row=first,
                    ))
                if partner.id in lookup["imported"]:
                    raise ValueError(self.env._(
                        "%(customer)s already has an opening balance.",
                        customer=partner.display_name,
                    ))
                line["points"] = self._parse_points(values.get("points"))
                if values.get("expiry_date") is not None:
                    try:
                        expiry = import_rows.parse_date(values["expiry_date"])
                    except ValueError:
                        raise ValueError(self.env._(
                            "%(value)s is not a date.",
                            value=import_rows.cell_text(values["expiry_date"]),
                        )) from None
                    if expiry <= today:
                        raise ValueError(self.env._(
                            "the expiry date %(date)s is not in the future.", date=expiry
                        ))
                    if expiry > fields.Date.add(today, years=MAX_EXPIRY_YEARS):
                        raise ValueError(self.env._(
                            "the expiry date %(date)s is more than %(years)s years ahead.",
                            date=expiry, years=MAX_EXPIRY_YEARS,
                        ))
                    line["expiry_date"] = expiry
            except ValueError as error:
                line["outcome"] = "error"
                line["message"] = str(error)
                if not line["points"]:
                    # shown as in the file (not counted in the total); unreadable: 0
                    with contextlib.suppress(ValueError):
                        line["points"] = self._parse_points(values.get("points"))
            result.append(line)
        if job:
            job._add_first_rows(tracker.new_keys())
        return result

    def _parse_points(self, value):
        if value is None:
            raise ValueError(self.env._("the points are missing."))
        try:
            number = float(import_rows.cell_text(value).replace(",", ""))
        except ValueError:
            raise ValueError(self.env._(
                "%(value)s is not a number of points.", value=import_rows.cell_text(value)
            )) from None
        if not number.is_integer() or number <= 0:
            raise ValueError(self.env._(
                "%(value)s: the points must be a positive whole number.",
                value=import_rows.cell_text(value),
            ))
        if number > MAX_POINTS:
            raise ValueError(self.env._(
                "Points: %(value)s is more than %(max)s.",
                value=import_rows.cell_text(value), max=format(MAX_POINTS, ","),
            ))
        return int(number)

    def _customer_lookup(self, parsed):
        """Candidate customers of the whole file, in three queries."""
        Partner = self.env["res.partner"].with_context(active_test=False)
        refs = {import_rows.cell_text(v["ref"]) for _n, v in parsed if v.get("ref")}
        names = {import_rows.cell_text(v["name"]) for _n, v in parsed if v.get("name")}
        emails = set()
        for _n, values in parsed:
            try:
                email = import_rows.normalize_email(values.get("email"))
            except ValueError:
                email = None
            if email:
                emails.add(email)
        base = [("parent_id", "=", False), ("company_id", "in", [self.company_id.id, False])]
        found = Partner.search(
            base + ["|", "|", ("ref", "in", list(refs)), ("name", "in", list(names)),
                    ("email", "in", list(emails))]
        ) if refs or names or emails else Partner
        lookup = {"ref": {}, "name": {}, "email": {}}
        for partner in found:
            for key, value in (("ref", partner.ref), ("name", partner.name),
                               ("email", (partner.email or "").strip().lower())):
                if value:
                    lookup[key].setdefault(value, Partner)
                    lookup[key][value] |= partner
        # sudo: only whether an opening balance was already imported, for the dry run
        imported = self.env["vip.loyalty.move"].sudo()._read_group(
            [("move_type", "=", "import"), ("company_id", "=", self.company_id.id),
             ("partner_id", "in", found.ids)],
            ["partner_id"],
        )
        lookup["imported"] = {partner.id for (partner,) in imported}
        lookup["candidates"] = found.ids
        return lookup

    def _find_customer(self, values, lookup):
        """The customer a row names. The most specific identifier the row gives
        decides (reference, then e-mail, then name): a reference or an e-mail that
        matches nobody is an error, never a match by the name beside it, and a row
        whose identifiers name two different customers is refused."""
        labels = {
            "ref": self.env._("reference"), "email": self.env._("e-mail"),
            "name": self.env._("name"),
        }
        found = None
        for key in ("ref", "email", "name"):
            raw = values.get(key)
            if raw is None or import_rows.cell_text(raw) == "":
                continue
            if key == "email":
                try:
                    value = import_rows.normalize_email(raw)
                except ValueError:
                    raise ValueError(self.env._(
                        "%(value)s is not an e-mail address.", value=import_rows.cell_text(raw)
                    )) from None
            else:
                value = import_rows.cell_text(raw)
            partners = lookup[key].get(value)
            if found is None:
                if not partners:
                    raise ValueError(self.env._(
                        "no customer matches the %(field)s %(value)s.",
                        field=labels[key], value=value,
                    ))
                if len(partners) > 1:
                    raise ValueError(self.env._(
                        "%(count)s customers match %(value)s: give their reference.",
                        count=len(partners), value=value,
                    ))
                found = partners
            elif partners and found not in partners:
                raise ValueError(self.env._(
                    "the %(field)s %(value)s is not %(customer)s's.",
                    field=labels[key], value=value, customer=found.display_name,
                ))
        if found is None:
            raise ValueError(self.env._("the row names no customer."))
        return found


class VipLoyaltyImportLine(models.TransientModel):
    _name = "vip.loyalty.import.line"
    _inherit = ["vip.bounds.mixin"]
    _description = "Opening Points Balance Import Row"
    _order = "is_error desc, row_number"

    wizard_id = fields.Many2one("vip.loyalty.import", required=True, index=True, ondelete="cascade")
    row_number = fields.Integer(
        string="Row", help="Row number in the Excel sheet (headers are row 1)."
    )
    name = fields.Char(string="Customer")
    partner_id = fields.Many2one("res.partner", string="Matched Customer", ondelete="set null")
    points = fields.Integer()
    expiry_date = fields.Date(string="Expires On")
    reason = fields.Char()
    outcome = fields.Selection([("ok", "OK"), ("error", "Error")], required=True)
    is_error = fields.Boolean(compute="_compute_is_error", store=True)
    move_id = fields.Many2one("vip.loyalty.move", string="Opening Move", ondelete="set null")
    message = fields.Char()

    @api.depends("outcome")
    def _compute_is_error(self):
        for line in self:
            line.is_error = line.outcome == "error"
