import base64
import datetime
import hashlib
import io
import pickle
import tempfile
from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from odoo.addons.phone_validation.tools import phone_validation

from ..models.res_partner import TierChangeOrigin
from ..tools import import_rows

try:
    from openpyxl import Workbook
    from openpyxl.styles import Font
except ImportError:  # declared in external_dependencies
    Workbook = Font = None

# Column key -> res.partner field, by kind of cell.
TEXT_FIELDS = {
    "name": "name",
    "ref": "ref",
    "phone": "phone",
    "mobile": "mobile",
    "street": "street",
    "city": "city",
    "zip": "zip",
    "gift": "vip_gift_preference",
    "diet": "vip_diet_preference",
    "other": "vip_other_preference",
    "special_needs": "vip_special_needs",
    "notes": "vip_sensitive_note",
}
BOOLEAN_FIELDS = {"is_company": "is_company", "care_opt_out": "vip_care_opt_out"}
DATE_FIELDS = {"birthday": "vip_birthday", "anniversary": "vip_anniversary_date"}
SELECTION_FIELDS = {
    "channel": ("vip_preferred_channel", import_rows.CHANNEL_ALIASES),
    "contact_time": ("vip_preferred_contact_time", import_rows.CONTACT_TIME_ALIASES),
}
MAX_ERRORS_SHOWN = 10


class VipCustomerImport(models.TransientModel):
    """Import VIP customers and their profiles from an Excel file.

    Two steps, both streaming the file in batches so that 100,000 rows fit in
    bounded memory: *Check* is a dry run that records one line per row (create,
    update or error); *Import* runs the same validation again over the whole
    file and, only if no row is in error, hands the rows to a background
    import job (``vip.import.job``) that writes them in committed chunks from
    its cron (``_vip_job_process_chunk``): a 100,000-row file does not have to
    fit in one request.

    A file of more rows than ``vip.import.job._get_background_rows()`` is
    validated by a job too (``vip.excel.import.mixin._vip_check_in_job``):
    its Check and its Import do not read every row within the request.
    """

    _name = "vip.customer.import"
    _inherit = ["vip.excel.import.mixin", "vip.company.guard.mixin"]
    _description = "Import VIP Customers"
    _batch_size = 1000
    # An uploaded file holds confidential notes and birthdays: it is deleted
    # once imported (action_import), and with its wizard when abandoned.
    _transient_max_hours = 1.0
    _vip_job_kind = "customer"

    file = fields.Binary(
        string="Excel File", help="An .xlsx or .xls file; its first row holds the column headers."
    )
    file_name = fields.Char()
    company_id = fields.Many2one(
        "res.company",
        required=True,
        readonly=True,
        default=lambda self: self.env.company,
        help="Tier codes are looked up in this company's tiers; existing customers are "
        "matched among this company's and shared contacts.",
    )
    state = fields.Selection(
        [("draft", "Upload"), ("checking", "Checking"), ("checked", "Checked"),
         ("importing", "Importing"), ("done", "Imported")],
        default="draft",
        required=True,
        readonly=True,
    )
    row_count = fields.Integer(string="Rows", readonly=True)
    create_count = fields.Integer(string="New Customers", readonly=True)
    update_count = fields.Integer(string="Existing Customers", readonly=True)
    error_count = fields.Integer(string="Errors", readonly=True)
    line_ids = fields.One2many(
        "vip.customer.import.line", "wizard_id", string="Row Results", readonly=True
    )
    template_file = fields.Binary(readonly=True)
    template_name = fields.Char(readonly=True)
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

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_check(self):
        """Dry run: one line per row saying what the import would do, or why it can't.
        A large file is checked by a job in the background (only the rows in
        error are listed then)."""
        self.ensure_one()
        self.env["vip.import.job"]._check_wizard_checkable(self)
        self._check_partner_access()
        if self._vip_check_in_job():
            return self._reopen()
        self.line_ids.unlink()
        stats = self._run(do_import=False)
        stats.pop("errors")
        self.write(dict(stats, state="checked"))
        return self._reopen()

    def action_import(self):
        """Queue the import of a checked file with no error.

        The whole file is validated again first (the database may have changed
        since the check): any row in error stops here, nothing is written. Then
        a background job creates and updates the customers in committed chunks
        (``vip.import.job``); the wizard follows its progress.
        """
        self.ensure_one()
        if self.state in ("importing", "done"):
            raise UserError(self.env._("This file has already been imported."))
        if self.state != "checked":
            raise UserError(self.env._("Check the file before importing it."))
        has_error_line = self.env["vip.customer.import.line"].search_count(
            [("wizard_id", "=", self.id), ("is_error", "=", True)], limit=1
        )
        if self.error_count or has_error_line:
            raise UserError(
                self.env._(
                    "%(count)s rows of %(file)s are in error: fix them and check the file "
                    "again. Nothing has been imported.",
                    count=self.error_count,
                    file=self.file_name,
                )
            )
        self._check_partner_access()
        Job = self.env["vip.import.job"]
        file_hash = hashlib.sha256(self._file_data()).hexdigest()
        # before reading 100,000 rows: is this file being imported already?
        Job._check_not_running("customer", self.company_id, file_hash)
        if self._vip_import_in_job(file_hash):
            return self._reopen()
        self.line_ids.unlink()
        with tempfile.TemporaryFile() as rows_file:
            stats = self._run(do_import=False, rows_file=rows_file)
            errors = stats.pop("errors")
            if errors:
                raise UserError(self.env._(
                    "%(file)s changed since it was checked, or the database did: "
                    "check it again. Nothing has been imported.\n%(errors)s",
                    file=self.file_name,
                    errors="\n".join(errors),
                ))
            rows_file.seek(0)
            job = Job._create_job(
                "customer", self.file_name, self.company_id, rows_file, stats["row_count"],
                file_hash,
            )
        # the rows are the job's now: the uploaded file is not kept
        self.write(dict(stats, state="importing", file=False))
        job._link_wizard(self)
        return self._reopen()

    def action_open_partners(self):
        """The customers the import created or updated: those its job wrote
        (every import runs as a job, ``vip.import.job.action_open_partners``)."""
        self.ensure_one()
        if not (self.job_id and self.job_id.mode == "import"):
            raise UserError(self.env._("Nothing has been imported from this file yet."))
        action = self.job_id.action_open_partners()
        action["name"] = action["display_name"] = self.env._("Imported Customers")
        return action

    def action_download_template(self):
        """An .xlsx with the accepted headers (in Chinese for Chinese users) and an example row."""
        self.ensure_one()
        chinese = (self.env.lang or "").startswith("zh")
        self.write({
            "template_file": base64.b64encode(self._build_template(chinese)),
            "template_name": "vip_customers_template.xlsx",
        })
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self._name}/{self.id}/template_file/"
            f"{self.template_name}?download=true",
            "target": "download",
        }

    def _check_partner_access(self):
        Partner = self.env["res.partner"]
        Partner.check_access("create")
        Partner.check_access("write")

    def _vip_no_rows_error(self):
        return UserError(self.env._("%(file)s has no customer rows.", file=self.file_name))

    @api.model
    def _vip_check_count_fields(self):
        """The wizard's counts a check job adds up (besides rows and errors)."""
        return ["create_count", "update_count"]

    def _load_rows(self):
        """First pass over the file: map the headers, spool the data rows to a
        temporary file (so the second pass needn't parse the Excel again) and
        collect what the whole file needs from the database, set-based.

        :return: dict with ``labels`` (column key -> header as written),
            ``spool`` (file of pickled batches of ``(row number, values,
            duplicate of row)``), ``rows`` (count) and the sets ``refs``,
            ``emails``, ``phones`` and ``logins``.
        """
        labels, data_rows = self._vip_data_rows()
        tracker = import_rows.DuplicateTracker()
        countries = self._get_countries()
        loaded = {"labels": labels, "rows": 0, "refs": set(), "emails": set(), "phones": set(),
                  "logins": set(), "countries": countries}
        spool = tempfile.TemporaryFile()
        try:
            batch = []
            for row_number, values in data_rows:
                ref, email, phones = self._collect_row_keys(loaded, values)
                keys = [("ref", ref), ("email", email)] + [("phone", phone) for phone in phones]
                duplicate_of = tracker.check(row_number, keys)
                loaded["rows"] += 1
                batch.append((row_number, values, duplicate_of))
                if len(batch) >= self._batch_size:
                    pickle.dump(batch, spool, pickle.HIGHEST_PROTOCOL)
                    batch = []
            if batch:
                pickle.dump(batch, spool, pickle.HIGHEST_PROTOCOL)
            if not loaded["rows"]:
                raise UserError(self.env._("%(file)s has no customer rows.", file=self.file_name))
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        loaded["spool"] = spool
        return loaded

    def _collect_row_keys(self, loaded, values):
        """Add what a row needs from the database to ``loaded`` (the lookups'
        input); return the row's matching keys ``(ref, email, phones)``."""
        ref, email, phones = self._row_keys(values, loaded["countries"])
        if ref:
            loaded["refs"].add(ref)
        if email:
            loaded["emails"].add(email)
        loaded["phones"].update(phones)
        if "account_manager" in values:
            loaded["logins"].add(import_rows.cell_text(values["account_manager"]).lower())
        return ref, email, phones

    @api.model
    def _iter_batches(self, spool):
        """Batches spooled by ``_load_rows`` (our own temporary file)."""
        while True:
            try:
                # our own temporary file, written by _load_rows in this request
                yield pickle.load(spool)
            except EOFError:
                return

    def _map_columns(self, header):
        columns, unknown, duplicates = import_rows.map_headers(header)
        problems = []
        if unknown:
            problems.append(
                self.env._("Unknown columns: %(columns)s.", columns=", ".join(unknown))
            )
        if duplicates:
            problems.append(
                self.env._(
                    "Columns given twice: %(columns)s.", columns=", ".join(duplicates)
                )
            )
        if import_rows.missing_columns(columns):
            problems.append(self.env._("The Name column (名称) is missing."))
        if problems:
            problems.append(
                self.env._(
                    "Accepted columns: %(columns)s.",
                    columns=", ".join(
                        " / ".join(aliases) for aliases in import_rows.COLUMNS.values()
                    ),
                )
            )
            raise UserError(
                self.env._(
                    "%(file)s: %(problems)s", file=self.file_name, problems="\n".join(problems)
                )
            )
        return columns

    def _row_keys(self, values, countries):
        """Matching keys of a row: reference, normalised e-mail, phones in E.164
        against the row's country, else the company's (invalid values give no
        key: they are reported as errors later)."""
        ref = import_rows.cell_text(values.get("ref")) or None
        try:
            email = import_rows.normalize_email(values.get("email"))
        except ValueError:
            email = None
        country = self._row_country(values, countries)
        phones = []
        for key in ("phone", "mobile"):
            _number, phone_key = self._normalize_phone(values.get(key), country)
            if phone_key and phone_key not in phones:
                phones.append(phone_key)
        return ref, email, phones

    def _row_country(self, values, countries):
        """The row's country (its Country column), else the wizard's company's."""
        country_id = countries.get(import_rows.choice_key(values["country"])) if (
            "country" in values
        ) else None
        return self.env["res.country"].browse(country_id) or self.company_id.country_id

    @api.model
    def _normalize_phone(self, value, country):
        """A phone number as stored and as matched: ``(number, key)``.

        Odoo's ``phone_validation`` formats it in E.164 against ``country``
        (``+86 138 0013 8000`` and ``13800138000`` in China are both
        ``+8613800138000``): that is the number stored, and its digits the key.
        A number it cannot read, or a database without the ``phonenumbers``
        library, keeps the text of the cell and gets the key of
        ``import_rows.e164_fallback``. ``("", None)`` for an empty cell.
        """
        text = import_rows.phone_text(value)
        if not text:
            return "", None
        formatted = phone_validation.phone_format(
            text,
            country.code or None,
            country.phone_code or None,
            force_format="E164",
            raise_exception=False,
        )
        if import_rows.is_e164(formatted):
            return formatted, import_rows.phone_key(formatted)
        return text, import_rows.phone_key(import_rows.e164_fallback(text, country.phone_code))

    # ------------------------------------------------------------------
    # Background job (vip.import.job)
    # ------------------------------------------------------------------
    @api.model
    def _vip_job_process_chunk(self, job, start, limit):
        """Write the rows ``start`` to ``start + limit - 1`` of an import job,
        working as its user (their rights, company and language).

        The rows were valid when the file was imported, but the database may
        have changed since: they are resolved again (lookups for this chunk
        only) and a row in error stops the job with a message naming it; the
        earlier chunks' customers stay (they are committed).

        :return: ``{"rows", "create_count", "update_count", "partner_ids"}``
        """
        meta, chunk = job._read_rows(start, limit)
        if not chunk:
            return {"rows": 0}
        self._vip_job_check_rights(job, start)
        wizard = self.new({"company_id": job.company_id.id, "file_name": job.name})
        loaded = {"labels": meta["labels"], "countries": wizard._get_countries(),
                  "refs": set(), "emails": set(), "phones": set(), "logins": set()}
        for _row_number, values in chunk:
            wizard._collect_row_keys(loaded, values)
        lookups = wizard._prepare_lookups(loaded)
        partner_rows = {}
        # duplicates inside the file were refused when it was imported
        rows = [
            wizard._parse_row(row_number, values, None, lookups, partner_rows)
            for row_number, values in chunk
        ]
        errors = [row for row in rows if row["outcome"] == "error"]
        if errors:
            self._vip_job_rows_invalid(
                job, start, [(row["row"], row["message"]) for row in errors], rows[0]["row"]
            )
        wizard._import_batch(rows, lookups)
        self._vip_job_update_lines(job, rows)
        counts = {
            "rows": len(rows),
            "create_count": sum(1 for row in rows if row["outcome"] == "create"),
            "update_count": sum(1 for row in rows if row["outcome"] == "update"),
            "partner_ids": [row["partner_id"] for row in rows],
        }
        # keep the cache (and memory) bounded on large files
        self.env.invalidate_all()
        return counts

    @api.model
    def _vip_job_check_rights(self, job, done):
        """The right to import, as the wizard needs it (ACL: VIP managers), for
        each slice of the job."""
        if not self.env.user.has_group("vip_customer.group_vip_manager"):
            raise UserError(self.env._(
                "%(user)s is no longer a VIP manager: the import stopped after %(done)s of "
                "%(total)s rows.",
                user=self.env.user.name, done=done, total=job.row_count,
            ))
        self._check_partner_access()

    def _vip_validate_chunk(self, job, meta, chunk):
        """Validate a slice of a job's file (see ``_vip_job_check_rows``): the
        lookups for the slice's rows, the keys and the customers updated by the
        earlier slices' rows from the job, so that a duplicate across slices is
        found as in one pass.

        :return: ``(line values of every row, {"create_count", "update_count"})``
        """
        loaded = {"labels": meta["labels"], "countries": self._get_countries(),
                  "refs": set(), "emails": set(), "phones": set(), "logins": set()}
        row_keys = []
        for _row_number, values in chunk:
            ref, email, phones = self._collect_row_keys(loaded, values)
            row_keys.append([("ref", ref), ("email", email)] + [("phone", p) for p in phones])
        lookups = self._prepare_lookups(loaded)
        partner_keys = [
            ("partner", match[0]) for by_key in lookups["matches"].values()
            for match in by_key.values()
        ]
        seen = job._get_first_rows([key for keys in row_keys for key in keys] + partner_keys)
        tracker = import_rows.DuplicateTracker(
            {key: row for key, row in seen.items() if key[0] != "partner"}
        )
        partner_rows = {int(key[1]): row for key, row in seen.items() if key[0] == "partner"}
        known = set(partner_rows)
        rows = [
            self._parse_row(
                row_number, values, tracker.check(row_number, keys), lookups, partner_rows
            )
            for (row_number, values), keys in zip(chunk, row_keys, strict=True)
        ]
        job._add_first_rows(tracker.new_keys() | {
            ("partner", partner_id): row
            for partner_id, row in partner_rows.items() if partner_id not in known
        })
        stats = {
            "create_count": sum(1 for row in rows if row["outcome"] == "create"),
            "update_count": sum(1 for row in rows if row["outcome"] == "update"),
        }
        return [self._prepare_line_vals(row) for row in rows], stats

    @api.model
    def _vip_job_update_lines(self, job, rows):
        """The wizard still open on the job shows each row's customer and outcome
        (one statement: the rows of our own transient lines)."""
        # the job's own wizard (its starter's), whoever runs the engine
        wizard = job._get_wizards(self._name)
        if not wizard or not rows:
            return
        Line = self.env["vip.customer.import.line"]
        Line.flush_model()
        values = SQL(", ").join(
            SQL("(%s, %s, %s, %s)", row["row"], row["partner_id"] or None, row["outcome"],
                row["message"])
            for row in rows
        )
        self.env.cr.execute(SQL(
            """UPDATE vip_customer_import_line l
                  SET partner_id = v.partner_id, outcome = v.outcome, message = v.message
                 FROM (VALUES %s) AS v(row_number, partner_id, outcome, message)
                WHERE l.wizard_id = %s AND l.row_number = v.row_number""",
            values, wizard.id,
        ))
        Line.invalidate_model(["partner_id", "outcome", "message"])

    # ------------------------------------------------------------------
    # Writing
    # ------------------------------------------------------------------
    def _import_batch(self, rows, lookups):
        """Write one batch of valid rows: create new customers in one ``create``,
        update matched ones (grouped by identical values), then set tiers and
        locks grouped by tier, logged in the tier history with reason *import*."""
        errors = [row for row in rows if row["outcome"] == "error"]
        if errors:
            details = [
                self.env._("Row %(row)s: %(message)s", row=row["row"], message=row["message"])
                for row in errors[:MAX_ERRORS_SHOWN]
            ]
            raise UserError(self.env._(
                "%(file)s changed since it was checked, or the database did: "
                "check it again. Nothing has been imported.\n%(errors)s",
                file=self.file_name,
                errors="\n".join(details),
            ))
        Partner = self.env["res.partner"].with_context(
            tracking_disable=True,
            mail_create_nolog=True,
            vip_tier_origin=TierChangeOrigin("import", self.file_name),
        )
        tag_ids = self._ensure_interest_tags(rows, lookups)
        to_create = [row for row in rows if row["outcome"] == "create"]
        if to_create:
            vals_list = []
            for row in to_create:
                vals = dict(row["vals"])
                if row["tags"]:
                    vals["vip_interest_tag_ids"] = [
                        Command.set([tag_ids[name.casefold()] for name in row["tags"]])
                    ]
                vals_list.append(vals)
            partners = Partner.create(vals_list)
            for row, partner in zip(to_create, partners, strict=True):
                row["partner_id"] = partner.id
                row["message"] = self.env._("Created.")
        to_update = [row for row in rows if row["outcome"] == "update"]
        # the record rules checked once for the whole batch, not once per write
        Partner.browse([row["partner_id"] for row in to_update]).check_access("write")
        for vals, partners in self._group_updates(Partner, to_update, tag_ids):
            # sudo: access checked just above; these are the file's own columns
            partners.sudo().write(vals)
        for row in to_update:
            row["message"] = self.env._("Updated.")
        by_tier = defaultdict(list)
        for row in self._rows_changing_tier(Partner, rows):
            key = (row["tier_id"], repr(sorted((row["lock"] or {}).items())))
            by_tier[key].append(row)
        for group in by_tier.values():
            vals = dict(group[0]["lock"] or {})
            if group[0]["tier_id"]:
                vals["vip_tier_id"] = group[0]["tier_id"]
            Partner.browse([row["partner_id"] for row in group]).write(vals)

    def _group_updates(self, Partner, rows, tag_ids):
        """The writes that bring the matched customers of ``rows`` up to date:
        ``[(vals, partners)]``, one per set of identical changes.

        A re-imported file mostly repeats what the customers already hold:
        values equal to the current ones are dropped (interests already there
        too), and customers left with the same changes share one ``write()``.
        So an update costs about what a create does, not one ``write()`` per
        row (each runs Odoo's partner write logic: rules, sync, constraints).
        """
        partners = Partner.browse([row["partner_id"] for row in rows])
        by_changes = defaultdict(list)
        for row, partner in zip(rows, partners, strict=True):
            vals = {
                fname: value
                for fname, value in row["vals"].items()
                if not self._same_value(partner, fname, value)
            }
            new_tags = {tag_ids[name.casefold()] for name in row["tags"]}
            if new_tags - set(partner.vip_interest_tag_ids.ids):
                vals["vip_interest_tag_ids"] = [Command.link(tag_id) for tag_id in sorted(new_tags)]
            if vals:
                by_changes[repr(sorted(vals.items()))].append((vals, partner.id))
        groups = [
            (group[0][0], Partner.browse([partner_id for _vals, partner_id in group]))
            for group in by_changes.values()
        ]
        self._prefetch_write_triggers(
            Partner.browse([pid for _vals, group in groups for pid in group.ids]),
            {fname for vals, _group in groups for fname in vals},
        )
        return groups

    @api.model
    def _prefetch_write_triggers(self, partners, fnames):
        """Load in one query per relation, for the whole batch, what each
        partner's ``write()`` of ``fnames`` reads on its own record: the
        records that depend on the written fields through a one2many of the
        partner (its contacts, users, invoices, bank accounts, companies: the
        ORM marks their stored computed fields, e.g. an invoice's partner
        name) and its contacts (Odoo's commercial/address sync to children).

        Rows with different values need one ``write()`` each; without this,
        each of them ran these reads for its single record (about six
        queries a row, and a flush of the batch's pending updates with each).
        Nothing is written here: the cache is filled, as ``mapped()`` would.
        """
        if not partners or not fnames:
            return
        registry = self.env.registry
        tree = registry.get_trigger_tree(
            [partners._fields[fname] for fname in fnames if fname in partners._fields],
            select=lambda field: field.compute and field.store,
        )
        inverses = {"child_ids"}
        for field in tree:
            for inverse in registry.field_inverses[field]:
                if (
                    inverse.model_name == partners._name
                    and inverse.type in ("one2many", "many2many")
                    and not inverse.domain
                ):
                    inverses.add(inverse.name)
        # sudo and inactive records too: what the ORM's dependency walk reads
        # (x2many caches hold every record and filter the inactive on access)
        partners.sudo().with_context(active_test=False).fetch(sorted(inverses))

    @api.model
    def _same_value(self, partner, fname, value):
        """Whether ``partner`` already holds ``value`` (as written) in ``fname``."""
        field = partner._fields[fname]
        current = partner[fname]
        if field.type == "many2one":
            return current.id == (value or False)
        if field.type in ("char", "text", "selection"):
            return (current or "") == (value or "")
        return current == value

    def _rows_changing_tier(self, Partner, rows):
        """Rows whose tier or lock differs from their customer's: the others
        would be written for nothing."""
        changing = []
        # one read of the batch's customers, not one per row
        partners = {
            partner.id: partner
            for partner in Partner.browse(
                [row["partner_id"] for row in rows if row["outcome"] == "update"]
            )
        }
        for row in rows:
            if not (row["tier_id"] or row["lock"] is not None):
                continue
            if row["outcome"] != "update":
                changing.append(row)
                continue
            partner = partners[row["partner_id"]]
            wanted = dict(row["lock"] or {})
            if row["tier_id"]:
                wanted["vip_tier_id"] = row["tier_id"]
            if not all(self._same_value(partner, fname, value) for fname, value in wanted.items()):
                changing.append(row)
        return changing

    def _ensure_interest_tags(self, rows, lookups):
        """Lower-cased interest name -> tag id, creating the rows' unknown interests."""
        tags = lookups["tags"]
        missing = {}
        for row in rows:
            for name in row["tags"]:
                if name.casefold() not in tags:
                    missing.setdefault(name.casefold(), name)
        if missing:
            created = self.env["vip.interest.tag"].create(
                [{"name": name} for name in missing.values()]
            )
            tags.update(zip(missing, created.ids, strict=True))
        return tags

    # ------------------------------------------------------------------
    # Template
    # ------------------------------------------------------------------
    def _build_template(self, chinese=False):
        """Bytes of the template workbook: headers, one example row."""
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "VIP customers" if not chinese else "VIP客户"
        sheet.append(import_rows.template_headers(chinese))
        example = dict(import_rows.EXAMPLE_ROW)
        tier = self.env["vip.tier"].search([("company_id", "=", self.company_id.id)], limit=1)
        if tier:
            example["tier"] = tier.code
        example["account_manager"] = self.env.user.login
        for key in ("birthday", "anniversary"):
            example[key] = datetime.date.fromisoformat(example[key])
        sheet.append([example[key] for key in import_rows.COLUMNS])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            sheet.column_dimensions[cell.column_letter].width = max(12, len(str(cell.value)) + 4)
        for cell in sheet[2]:
            if isinstance(cell.value, datetime.date):
                cell.number_format = "yyyy-mm-dd"
        output = io.BytesIO()
        workbook.save(output)
        return output.getvalue()
