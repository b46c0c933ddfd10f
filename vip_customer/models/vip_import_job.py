"""Background import jobs: a validated import file written in committed chunks.

An import wizard validates the whole file (nothing is written unless every
row is valid), then hands its rows to a job (``_create_job``) and triggers the
job cron. Each cron call takes the oldest active job and writes ONE chunk of
rows after ``rows_done``: the rows and the job's new ``rows_done`` are
committed together, so a call killed half-way (time limit, worker restart) is
rolled back whole and the next call starts again from the committed
``rows_done`` - nothing is written twice.

The rows are kept in an attachment of the job (see ``tools/import_spool``),
deleted once the job is over: they hold personal data. State, progress and
counts are written by this engine only (``sudo`` + the context key
``vip_import_engine``); the starter and VIP managers may cancel a job.

Each kind of import has its handler, a method of its wizard model (see
``_get_handlers``): ``_vip_job_process_chunk(job, start, limit)`` writes the
rows ``start`` to ``start + limit - 1`` and returns the counts;
``_vip_job_finished(job)`` (optional) follows up on the wizard.

A file too large to be validated within a request (more rows than the system
parameter ``vip_customer.import_background_rows``) is validated by the job
too, in committed slices (state *checking*, ``rows_checked``): a job of mode
*check* (the wizard's Check) only validates and hands the counts and the rows
in error to the wizard; a job of mode *import* validates the whole file first
(phase 1: a row in error fails the job, nothing is written) and then writes
its chunks (phase 2). The checks across rows (a key seen on an earlier row,
an existing customer updated by an earlier row) see the whole file: each
slice reads and adds the first row of each key in ``vip.import.job.key``.
The handler's ``_vip_job_check_rows(job, start, limit)`` validates a slice
(see ``vip.excel.import.mixin``).

A cron call works by time (``ir.cron._vip_call_budget``): sub-slices, each
with its rows and the job's counters in the same transaction, until its share
of the cron limit is spent.
"""

import hashlib
import io
import logging

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, plaintext2html

from ..tools import import_spool

_logger = logging.getLogger(__name__)

# context key of the engine's own writes
ENGINE_CONTEXT_KEY = "vip_import_engine"
ACTIVE_STATES = ("queued", "checking", "running")
DEFAULT_CHUNK_SIZE = 1000
# files with more rows are validated by a job (system parameter, else this)
BACKGROUND_ROWS_PARAM = "vip_customer.import_background_rows"
DEFAULT_BACKGROUND_ROWS = 1000
# rows in error of a file checked by a job kept as wizard lines (the count is exact)
MAX_ERROR_LINES = 1000
# rows in error named in a message
MAX_ERRORS_NAMED = 10
# the rows of a file checked by a job wait this long for its Import (the
# uploaded file itself goes with its wizard within the hour)
CHECKED_ROWS_HOURS = 2
# the relation of a job and the customers its chunks wrote
JOB_PARTNER_TABLE = "vip_import_job_partner_rel"
# database errors of a moment (another transaction's lock): the chunk is tried again
TRANSIENT_DB_ERRORS = (
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.DeadlockDetected,
    psycopg2.errors.LockNotAvailable,
)


class VipImportJob(models.Model):
    _name = "vip.import.job"
    _inherit = ["mail.thread"]
    _description = "VIP Import Job"
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(string="File", required=True, readonly=True)
    kind = fields.Selection(
        [("customer", "Customers")], string="Import", required=True, readonly=True,
        ondelete={"customer": "cascade"},
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, ondelete="cascade"
    )
    user_id = fields.Many2one(
        "res.users", string="Started By", required=True, readonly=True, index=True,
        ondelete="cascade",
    )
    # the validated rows (personal data): readable through the job, kept until it is over
    attachment_id = fields.Many2one(
        "ir.attachment", string="Rows File", readonly=True, ondelete="set null",
        groups="base.group_system",
    )
    file_hash = fields.Char(
        string="File Fingerprint", readonly=True, help="SHA-256 of the uploaded file."
    )
    mode = fields.Selection(
        [("check", "Check"), ("import", "Import")],
        default="import",
        required=True,
        readonly=True,
        help="Check: the file is validated only, the result goes to the import wizard. "
        "Import: the file is written (validated first when it is too large to be "
        "validated by the wizard).",
    )
    state = fields.Selection(
        [
            ("queued", "Queued"),
            ("checking", "Checking"),
            ("running", "Running"),
            ("done", "Done"),
            ("failed", "Failed"),
            ("cancelled", "Cancelled"),
        ],
        string="Status",
        default="queued",
        required=True,
        readonly=True,
        index=True,
    )
    row_count = fields.Integer(string="Rows", readonly=True)
    rows_checked = fields.Integer(readonly=True)
    rows_done = fields.Integer(readonly=True)
    progress = fields.Float(
        string="Progress (%)", compute="_compute_progress", store=True, aggregator="avg"
    )
    create_count = fields.Integer(string="Created", readonly=True)
    update_count = fields.Integer(string="Updated", readonly=True)
    error_count = fields.Integer(string="Rows in Error", readonly=True)
    # the wizard's own counts of the rows checked so far ({field: number})
    check_stats = fields.Json(readonly=True)
    error_message = fields.Text(string="Error", readonly=True)
    date_start = fields.Datetime(string="Started On", readonly=True)
    date_done = fields.Datetime(string="Finished On", readonly=True)
    # the customers the job's chunks wrote (created, updated, credited): our own
    # relation table, filled by the engine with each chunk (_link_partners); opened
    # with the res.partner filter vip_import_job_id, never read whole here
    partner_ids = fields.Many2many(
        "res.partner", JOB_PARTNER_TABLE, "job_id", "partner_id", string="Customers",
        readonly=True, copy=False,
    )
    partner_count = fields.Integer(string="Customers Written", compute="_compute_partner_count")

    @api.depends("rows_done", "rows_checked", "row_count", "mode", "state")
    def _compute_progress(self):
        """The progress of the current phase: the validation while checking
        (and for a job that only checks), the writing after."""
        for job in self:
            done = job.rows_checked if (
                job.mode == "check" or job.state == "checking"
            ) else job.rows_done
            job.progress = min(100.0, 100.0 * done / job.row_count) if job.row_count else 0.0

    def _compute_partner_count(self):
        # the customers its Customers button lists to the reader (their rules)
        Partner = self.env["res.partner"]
        for job in self:
            job.partner_count = job.id and Partner.search_count(
                [("vip_import_job_id", "=", job.id)]
            )

    def init(self):
        # backstop of _check_single_active: two requests importing the same file
        # at the same moment both pass the check; the second insert fails here
        self.env.cr.execute("DROP INDEX IF EXISTS vip_import_job_active_file_uniq")
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS vip_import_job_active_import_uniq
                ON vip_import_job (company_id, kind, file_hash)
             WHERE state IN ('queued', 'checking', 'running') AND mode = 'import'
            """
        )

    @api.constrains("state", "file_hash", "company_id", "kind", "mode")
    def _check_single_active(self):
        for job in self.filtered(
            lambda j: j.state in ACTIVE_STATES and j.file_hash and j.mode == "import"
        ):
            job._check_not_running(job.kind, job.company_id, job.file_hash, exclude=job)

    # ------------------------------------------------------------------
    # Guard: the engine writes
    # ------------------------------------------------------------------
    def _is_engine(self):
        return self.env.su and self.env.context.get(ENGINE_CONTEXT_KEY)

    def _engine(self):
        return self.sudo().with_context(**{ENGINE_CONTEXT_KEY: True})

    @api.model_create_multi
    def create(self, vals_list):
        if not self._is_engine():
            raise AccessError(
                self.env._("Import jobs are created by the import wizards only.")
            )
        return super().create(vals_list)

    def write(self, vals):
        if not self._is_engine() and set(vals) & set(self._get_engine_fields()):
            raise AccessError(
                self.env._(
                    "Import jobs are kept by the import engine: their file, state, progress "
                    "and counts cannot be changed by hand."
                )
            )
        return super().write(vals)

    @api.model
    def _check_wizard_vals(self, vals_list):
        """An import wizard's ``job_id`` is set by its own Check or Import (through
        ``_link_wizard``), never by hand: it would show another job's progress
        and errors on the wizard and receive its rows."""
        if not self._is_engine() and any("job_id" in vals for vals in vals_list):
            raise AccessError(
                self.env._("An import's job is set by its Import button only.")
            )

    def _link_wizard(self, wizard):
        """Link the job just created to the wizard that started it."""
        self.ensure_one()
        # sudo + engine key: the only way to set a wizard's job_id (_check_wizard_vals)
        wizard.sudo().with_context(**{ENGINE_CONTEXT_KEY: True}).write({"job_id": self.id})

    @api.model
    def _check_wizard_checkable(self, wizard):
        """A wizard whose file was handed to a job has no file left to check:
        say where it went and how that job ended. A file being checked by a
        job is not checked a second time meanwhile."""
        if wizard.state not in ("checking", "importing", "done") or not wizard.job_id:
            return
        # sudo: the wizard's own job (job_id is set by its Check / Import only)
        job = wizard.job_id.sudo()
        state = dict(job._fields["state"]._description_selection(self.env))[job.state]
        if wizard.state == "checking":
            if job.state in ACTIVE_STATES:
                raise UserError(self.env._(
                    "%(file)s is being checked by import job #%(id)s (%(state)s, %(done)s of "
                    "%(total)s rows): wait until it is done, or cancel the job.",
                    file=job.name, id=job.id, state=state, done=job.rows_checked,
                    total=job.row_count,
                ))
            return
        raise UserError(self.env._(
            "This file was handed to import job #%(id)s (%(file)s), now %(state)s: upload "
            "a file to check it again.",
            id=job.id, file=job.name, state=state,
        ))

    def _get_wizards(self, model):
        """The wizard of ``model`` that started the job (its starter's), as superuser."""
        self.ensure_one()
        return self.env[model].sudo().search(
            [("job_id", "=", self.id), ("create_uid", "=", self.user_id.id)], limit=1
        )

    @api.model
    def _get_engine_fields(self):
        """Fields nobody but the engine writes: every field of the job itself
        (the chatter's fields stay writable by its usual rules)."""
        mail_thread = self.env["mail.thread"]._fields
        return [fname for fname in self._fields if fname not in mail_thread
                and fname not in models.MAGIC_COLUMNS and fname != "display_name"]

    @api.ondelete(at_uninstall=False)
    def _unlink_except_active(self):
        active = self.filtered(lambda j: j.state in ACTIVE_STATES)
        if active:
            raise UserError(
                self.env._(
                    "Import job %(job)s is still %(state)s: cancel it before deleting it.",
                    job=active[0].display_name,
                    state=dict(
                        self._fields["state"]._description_selection(self.env)
                    )[active[0].state],
                )
            )

    def unlink(self):
        # sudo: the rows file goes with its job (an orphan attachment would lose its rule)
        attachments = self.sudo().attachment_id
        result = super().unlink()
        attachments.unlink()
        return result

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_open_partners(self):
        """The customers the job wrote so far, in the VIP customers' list."""
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_customer.res_partner_vip_action"
        )
        name = self.env._("Customers of %(file)s", file=self.name)
        action.update({
            # the web client titles the view (and its breadcrumb) with display_name
            "name": name,
            "display_name": name,
            "domain": [("vip_import_job_id", "=", self.id)],
            "context": {"create": False},
            "view_mode": "list,kanban,form",
            "views": [(False, "list"), (False, "kanban"), (False, "form")],
            "target": "current",
        })
        return action

    def action_cancel(self):
        """Stop queued or running jobs: a running job stops before its next chunk;
        the rows already imported stay. For the starter and VIP managers."""
        self.check_access("read")
        if not self.env.user.has_group("vip_customer.group_vip_manager"):
            others = self.filtered(lambda j: j.user_id != self.env.user)
            if others:
                raise AccessError(
                    self.env._(
                        "Import job %(job)s was started by %(user)s: only they or a VIP "
                        "manager can cancel it.",
                        job=others[0].display_name,
                        user=others[0].user_id.name,
                    )
                )
        for job in self.filtered(lambda j: j.state in ACTIVE_STATES):
            job._engine()._finish("cancelled")
        return True

    # ------------------------------------------------------------------
    # Creating a job (called by the wizards)
    # ------------------------------------------------------------------
    @api.model
    def _check_not_running(self, kind, company, file_hash, exclude=None):
        """Refuse a second import of the same file (same company, kind and
        fingerprint) while one is queued or running, naming that one."""
        # sudo: another user's job of the same file is named, not opened
        domain = [
            ("kind", "=", kind),
            ("company_id", "=", company.id),
            ("file_hash", "=", file_hash),
            ("state", "in", ACTIVE_STATES),
            ("mode", "=", "import"),
        ]
        if exclude:
            domain.append(("id", "not in", exclude.ids))
        running = self.sudo().search(domain, limit=1)
        if running:
            raise ValidationError(
                self.env._(
                    "This file is already being imported: import job #%(id)s (%(job)s), "
                    "started by %(user)s, %(done)s of %(total)s rows done. Wait until it is "
                    "done or cancel it.",
                    id=running.id,
                    job=running.name,
                    user=running.user_id.name,
                    done=running.rows_done,
                    total=running.row_count,
                )
            )

    @api.model
    def _get_background_rows(self):
        """Files with more rows than this are validated by a job, not in the
        request (system parameter ``vip_customer.import_background_rows``)."""
        # sudo: a setting read by the import wizards of any user
        value = self.env["ir.config_parameter"].sudo().get_param(BACKGROUND_ROWS_PARAM)
        try:
            rows = int(str(value).strip())
        except ValueError:
            return DEFAULT_BACKGROUND_ROWS
        return rows if rows >= 0 else DEFAULT_BACKGROUND_ROWS

    @api.model
    def _create_job(self, kind, name, company, rows_file, row_count, file_hash, mode="import",
                    validated=True, checked_job=None):
        """Queue the import (or the check, ``mode`` "check") of ``rows_file`` (a
        rows file of ``tools.import_spool``, binary, positioned at its start)
        for the current user and wake the cron up. The caller has checked the
        user's rights; ``validated``: the caller has validated every row too,
        else the job does it first.

        :param checked_job: instead of ``rows_file``, a check job of the same
            file (``_get_checked_rows_job``) whose rows file the new job takes
        :return: the job (in the caller's environment)
        """
        if mode == "import":
            self._check_not_running(kind, company, file_hash)
        Engine = self._engine()
        try:
            with self.env.cr.savepoint():
                job = Engine.create({
                    "name": name,
                    "kind": kind,
                    "mode": mode,
                    "company_id": company.id,
                    "user_id": self.env.uid,
                    "file_hash": file_hash,
                    "row_count": row_count,
                    "rows_checked": row_count if validated and mode == "import" else 0,
                })
        except psycopg2.errors.UniqueViolation as error:
            if error.diag.constraint_name != "vip_import_job_active_import_uniq":
                raise
            # the same file queued by another request at the same moment (the index's
            # backstop): named if this transaction sees it, else said plainly
            self._check_not_running(kind, company, file_hash)
            raise ValidationError(self.env._(
                "This file is already being imported: another import of it was started "
                "at the same moment. Wait until it is done or cancel it."
            )) from None
        if checked_job:
            attachment = checked_job.attachment_id
            checked_job.attachment_id = False
            attachment.write({"res_id": job.id})
            job.attachment_id = attachment
            self.env.ref("vip_customer.ir_cron_vip_import_jobs")._trigger()
            return self.browse(job.id)
        # res_field: the file stays out of the chatter's attachments, and only the
        # engine (sudo) and administrators read it, like the field holding it
        attachment = self.env["ir.attachment"].sudo().create({
            "name": f"{name}.rows.jsonl.gz",
            "raw": rows_file.read(),
            "mimetype": "application/gzip",
            "res_model": self._name,
            "res_field": "attachment_id",
            "res_id": job.id,
        })
        job.attachment_id = attachment
        self.env.ref("vip_customer.ir_cron_vip_import_jobs")._trigger()
        return self.browse(job.id)

    @api.model
    def _get_checked_rows_job(self, wizard, kind, file_hash):
        """The job that checked the wizard's file, done, whose rows file an
        Import may take instead of reading the Excel file again (an engine
        record), or an empty recordset."""
        # sudo + engine: the wizard's own job (job_id is set by its Check only)
        job = wizard.job_id._engine()
        if (
            job.mode == "check" and job.state == "done" and job.kind == kind
            and job.file_hash == file_hash and job.company_id == wizard.company_id
            and job.user_id == self.env.user and job.attachment_id
        ):
            return job
        return self._engine().browse()

    @api.model
    def _gc_checked_rows(self):
        """Delete the rows files of the checks done more than
        ``CHECKED_ROWS_HOURS`` ago that no Import took (personal data)."""
        jobs = self._engine().search([
            ("mode", "=", "check"),
            ("state", "=", "done"),
            ("attachment_id", "!=", False),
            ("date_done", "<", fields.Datetime.subtract(
                fields.Datetime.now(), hours=CHECKED_ROWS_HOURS)),
        ])
        attachments = jobs.attachment_id
        jobs.attachment_id = False
        attachments.unlink()

    # ------------------------------------------------------------------
    # Reading the rows (called by the handlers)
    # ------------------------------------------------------------------
    def _read_rows(self, start, limit):
        """``(meta, [(row number, values)])``: the rows ``start`` to
        ``start + limit - 1`` of the job's file, streamed from the attachment."""
        self.ensure_one()
        # sudo: the rows file is the engine's; the handler works for the job's user
        attachment = self.sudo().attachment_id
        if not attachment:
            raise UserError(
                self.env._("The rows of %(file)s are no longer stored.", file=self.name)
            )
        if attachment.store_fname:
            path = attachment._full_path(attachment.store_fname)
            with open(path, "rb") as stream:
                return import_spool.read_rows(stream, start, limit)
        return import_spool.read_rows(io.BytesIO(attachment.raw), start, limit)

    # ------------------------------------------------------------------
    # Checks across rows (called by the handlers while validating)
    # ------------------------------------------------------------------
    @api.model
    def _key_digest(self, key):
        """The stored form of a key ``(kind, value)``: a fixed-length digest
        (a 1,000-character cell would not fit in the index)."""
        kind, value = key
        return hashlib.sha256(f"{kind}\x1f{value}".encode()).hexdigest()

    def _get_first_rows(self, keys):
        """``{key: row number}``: the first row of the file, among the slices
        validated before, on which each of ``keys`` (pairs ``(kind, value)``)
        was recorded by ``_add_first_rows``."""
        self.ensure_one()
        digests = {self._key_digest(key): key for key in keys if key[1]}
        if not digests:
            return {}
        rows = self.env.execute_query(SQL(
            "SELECT key, row_number FROM vip_import_job_key WHERE job_id = %s AND key = ANY(%s)",
            self.id, list(digests),
        ))
        return {digests[digest]: row_number for digest, row_number in rows}

    def _add_first_rows(self, first_rows):
        """Record ``{key: row number}`` for the next slices (the rows of this
        engine-owned table, in the caller's transaction: a slice rolled back
        takes its keys with it)."""
        self.ensure_one()
        if not first_rows:
            return
        digests = [self._key_digest(key) for key in first_rows]
        self.env.cr.execute(SQL(
            """INSERT INTO vip_import_job_key (job_id, key, row_number)
               SELECT %s, k, r FROM unnest(%s::varchar[], %s::int[]) AS t(k, r)
               ON CONFLICT (job_id, key) DO NOTHING""",
            self.id, digests, list(first_rows.values()),
        ))

    def _clear_first_rows(self):
        self.env.cr.execute(SQL("DELETE FROM vip_import_job_key WHERE job_id IN %s",
                                tuple(self.ids)))

    def _rows_in_error_message(self, errors):
        """A file found with rows in error by the job's own validation (the
        database changed since the check): nothing was written. In the
        starter's language."""
        env = self.with_context(lang=self.user_id.lang or "en_US").env
        details = "\n".join(
            env._("Row %(row)s: %(message)s", row=row, message=message)
            for row, message in errors[:MAX_ERRORS_NAMED]
        )
        return env._(
            "%(file)s has rows in error (the database changed since it was checked):\n"
            "%(errors)s\nNothing was imported: check the file again.",
            file=self.name, errors=details,
        )

    # ------------------------------------------------------------------
    # Engine
    # ------------------------------------------------------------------
    @api.model
    def _get_handlers(self):
        """Kind -> model of the wizard whose ``_vip_job_process_chunk`` writes the rows.
        A module adding a kind extends this."""
        return {"customer": "vip.customer.import"}

    def _handler_env_model(self):
        """The handler model, working as the job's user (their rights, in the
        job's company, their language) - as the wizard did."""
        self.ensure_one()
        user = self.user_id
        return self.env[self._get_handlers()[self.kind]].with_user(user).with_context(
            lang=user.lang or "en_US",
            tz=user.tz,
            allowed_company_ids=[self.company_id.id],
            **{ENGINE_CONTEXT_KEY: False},
        )

    def _process_chunk(self, chunk_size):
        """The next step of the job (an engine record): while rows are left to
        validate, a slice of them is validated (``_check_slice``); then (mode
        import) the next chunk is written: the rows and the new ``rows_done`` in
        the caller's transaction. A row error (or a right the user has lost)
        fails the job with its message; the chunk's writes are undone, the
        earlier chunks' stay. Anything else propagates: the cron call is rolled
        back whole and the next one starts this chunk again.

        :return: number of rows validated or written
        """
        self.ensure_one()
        if self.rows_checked < self.row_count:
            return self._check_slice(chunk_size)
        if self.mode == "check":
            self._finish("done")
            return 0
        if self.state != "running":
            self.write({"state": "running", "date_start": self.date_start or fields.Datetime.now()})
        start = self.rows_done
        if start >= self.row_count:
            self._finish("done")
            return 0
        result = self._run_as_starter(
            "_vip_job_process_chunk", start, chunk_size,
            lambda error: self._chunk_error_message(start, chunk_size, error),
        )
        if result is None:
            return 0
        rows = result["rows"]
        self._link_partners(result.get("partner_ids"))
        self.write({
            "rows_done": start + rows,
            "create_count": self.create_count + result.get("create_count", 0),
            "update_count": self.update_count + result.get("update_count", 0),
        })
        if self.rows_done >= self.row_count:
            self._finish("done")
        return rows

    def _link_partners(self, partner_ids):
        """Record the customers a chunk wrote (one statement into our own
        relation table, in the chunk's transaction)."""
        partner_ids = sorted({pid for pid in partner_ids or () if pid})
        if not partner_ids:
            return
        self.env.cr.execute(SQL(
            """INSERT INTO %s (job_id, partner_id)
               SELECT %s, unnest(%s::int[]) ON CONFLICT DO NOTHING""",
            SQL.identifier(JOB_PARTNER_TABLE), self.id, partner_ids,
        ))
        self.invalidate_recordset(["partner_ids", "partner_count"])

    def _check_slice(self, size):
        """Validate the next ``size`` rows of the file (an engine record), as the
        job's user: the counts and the keys of the rows go with the new
        ``rows_checked`` into the caller's transaction. Mode check: the rows in
        error are counted (the wizard lists the first ones) and the job ends done
        after the last slice. Mode import: a row in error fails the job, nothing
        was written.

        :return: number of rows validated
        """
        if self.state != "checking":
            self.write({
                "state": "checking", "date_start": self.date_start or fields.Datetime.now(),
            })
        start = self.rows_checked
        result = self._run_as_starter(
            "_vip_job_check_rows", start, size, lambda error: str(error.pgerror or error).strip()
        )
        if result is None:
            return 0
        rows = result["rows"]
        stats = dict(self.check_stats or {})
        for fname, count in result.get("stats", {}).items():
            stats[fname] = stats.get(fname, 0) + count
        self.write({
            "rows_checked": start + rows,
            "error_count": self.error_count + result.get("error_count", 0),
            "check_stats": stats,
        })
        if result.get("errors") and self.mode == "import":
            self._finish("failed", error=self._rows_in_error_message(result["errors"]))
        elif self.rows_checked >= self.row_count and self.mode == "check":
            self._finish("done")
        return rows

    def _run_as_starter(self, method, start, size, db_error_message):
        """Call the import handler's ``method(job, start, size)`` as the job's
        user, in a savepoint. Returns its result, or None once the job failed:
        the starter archived, a row refused (``UserError``, a constraint of the
        database), anything else PostgreSQL refuses (it would again on every
        call: ``db_error_message(error)`` says what) or no row left to read. A
        transient database error (another transaction's lock) propagates: the
        cron call is rolled back whole and the next one starts again at ``start``."""
        if not self.user_id.active:
            self._finish("failed", error=self.with_context(lang=self.user_id.lang).env._(
                "%(user)s is archived: the import stopped after %(done)s of %(total)s rows.",
                user=self.user_id.name, done=self.rows_done, total=self.row_count,
            ))
            return None
        handler = self._handler_env_model()
        job_as_user = self.with_env(handler.env)
        try:
            with self.env.cr.savepoint():
                result = getattr(handler, method)(job_as_user, start, size)
        except (UserError, psycopg2.IntegrityError, psycopg2.DataError) as error:
            _logger.info("Import job %s failed at row %s (%s): %s", self.id, start, method, error)
            self._finish("failed", error=error.args[0] if isinstance(error, UserError)
                         else str(error))
            return None
        except psycopg2.Error as error:
            if isinstance(error, TRANSIENT_DB_ERRORS):
                raise
            _logger.warning("Import job %s failed at row %s (%s): %s", self.id, start, method,
                            error)
            self._finish("failed", error=db_error_message(error))
            return None
        if not result.get("rows"):
            self._finish("failed", error=self.with_context(lang=self.user_id.lang).env._(
                "%(file)s has fewer rows than checked (%(done)s of %(total)s).",
                file=self.name, done=start, total=self.row_count,
            ))
            return None
        return result

    def _chunk_error_message(self, start, chunk_size, error):
        """The failure of a chunk refused by the database, naming its rows, in the
        starter's language."""
        try:
            numbers = [number for number, _values in self._read_rows(start, chunk_size)[1]]
        except Exception:  # noqa: BLE001 - the rows are only named  # pylint: disable=broad-except
            numbers = []
        first, last = (numbers[0], numbers[-1]) if numbers else (start + 2, start + 1 + chunk_size)
        env = self.with_context(lang=self.user_id.lang or "en_US").env
        if start:
            kept = env._(
                "The %(done)s rows before row %(row)s were imported and stay; nothing from "
                "row %(row)s on was imported.",
                done=start, row=first,
            )
        else:
            kept = env._("Nothing was imported.")
        return env._(
            "Rows %(first)s to %(last)s could not be saved by the database: %(error)s %(kept)s",
            first=first, last=last, error=(error.pgerror or str(error)).strip(), kept=kept,
        )

    def _finish(self, state, error=None):
        """End the job (an engine record): state, the rows file deleted, the
        starter notified in their language, the wizard told."""
        self.ensure_one()
        self.write({
            "state": state,
            "date_done": fields.Datetime.now(),
            "error_message": error or False,
        })
        if not (self.mode == "check" and state == "done"):
            # a check done keeps its rows for the wizard's Import (_gc_checked_rows)
            attachment = self.attachment_id
            self.attachment_id = False
            attachment.unlink()
        self._clear_first_rows()
        self._notify_starter()
        handler = self.env[self._get_handlers()[self.kind]]
        if hasattr(handler, "_vip_job_finished"):
            handler.sudo()._vip_job_finished(self)

    def _notify_starter(self):
        """Post the outcome on the job, to its starter's inbox, in their language."""
        user = self.user_id
        job = self.with_context(lang=user.lang or "en_US")
        kind = dict(job._fields["kind"]._description_selection(job.env))[job.kind]
        if job.mode == "check":
            body = job._check_outcome_message()
        elif job.state == "done":
            body = job.env._(
                "Import of %(file)s (%(kind)s) done: %(created)s created, %(updated)s updated.",
                file=job.name, kind=kind, created=job.create_count, updated=job.update_count,
            )
        elif job.state == "failed":
            body = job.env._(
                "Import of %(file)s (%(kind)s) failed after %(done)s of %(total)s rows: "
                "%(error)s",
                file=job.name, kind=kind, done=job.rows_done, total=job.row_count,
                error=job.error_message,
            )
        else:
            body = job.env._(
                "Import of %(file)s (%(kind)s) cancelled after %(done)s of %(total)s rows "
                "(%(created)s created, %(updated)s updated).",
                file=job.name, kind=kind, done=job.rows_done, total=job.row_count,
                created=job.create_count, updated=job.update_count,
            )
        job.message_post(
            # the error's lines (one a row) stay lines; the text is escaped
            body=plaintext2html(body),
            partner_ids=user.partner_id.ids,
            message_type="notification",
            subtype_xmlid="mail.mt_comment",
        )

    def _check_outcome_message(self):
        """The outcome of a job that checks a file, in the current language."""
        kind = dict(self._fields["kind"]._description_selection(self.env))[self.kind]
        if self.state == "done":
            return self.env._(
                "Check of %(file)s (%(kind)s) done: %(rows)s rows, %(errors)s in error.",
                file=self.name, kind=kind, rows=self.row_count, errors=self.error_count,
            )
        if self.state == "failed":
            return self.env._(
                "Check of %(file)s (%(kind)s) failed after %(done)s of %(total)s rows: "
                "%(error)s",
                file=self.name, kind=kind, done=self.rows_checked, total=self.row_count,
                error=self.error_message,
            )
        return self.env._(
            "Check of %(file)s (%(kind)s) cancelled after %(done)s of %(total)s rows.",
            file=self.name, kind=kind, done=self.rows_checked, total=self.row_count,
        )

    @api.model
    def _remaining_rows(self):
        """Rows left to validate and to write over the active jobs."""
        self.flush_model(["state", "row_count", "rows_done", "rows_checked", "mode"])
        rows = self.env.execute_query(SQL(
            """SELECT COALESCE(SUM(GREATEST(row_count - COALESCE(rows_checked, 0), 0)
                                   + CASE WHEN mode = 'import'
                                          THEN GREATEST(row_count - COALESCE(rows_done, 0), 0)
                                          ELSE 0 END), 0)
                 FROM vip_import_job WHERE state IN %s""",
            ACTIVE_STATES,
        ))
        return rows[0][0]

    @api.model
    def _lock_next_job(self):
        """The oldest queued or running job no other transaction holds, locked."""
        self.flush_model(["state"])
        rows = self.env.execute_query(SQL(
            "SELECT id FROM vip_import_job WHERE state IN %s"
            " ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
            ACTIVE_STATES,
        ))
        return self._engine().browse(rows[0][0]) if rows else self._engine().browse()

    @api.model
    def _cron_process_jobs(self, chunk_size=DEFAULT_CHUNK_SIZE):
        """Slices of the oldest active import job, at most ``chunk_size`` rows
        each, for as long as the call's time budget allows (one slice outside
        Odoo's cron runner); the runner commits and calls again while rows
        remain (``_notify_progress``). Each slice writes its rows and the job's
        counters together: a killed call is rolled back whole and the next one
        resumes from the last committed call."""
        budget = self.env["ir.cron"]._vip_call_budget(chunk_size, max(1, chunk_size // 10))
        if budget.deferred:
            return self.env["ir.cron"]._vip_defer_call()
        self._gc_checked_rows()
        job = self._lock_next_job()
        if not job:
            return True
        done = 0
        for size in budget:
            count = job._process_chunk(size)
            done += count
            budget.spent(count, size)
            if job.state not in ACTIVE_STATES:
                budget.stop()
        # a job finished or failed without rows is work done too: the runner goes on
        self.env["ir.cron"]._notify_progress(
            done=max(done, 1), remaining=self._remaining_rows()
        )
        return True
