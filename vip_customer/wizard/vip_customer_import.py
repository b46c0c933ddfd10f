import base64
import datetime
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
from ..tools.vip_rules import BIRTHDAY_MIN, birthday_problem

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
    update or error); *Import* runs the same validation again and writes, only
    if no row is in error. Both happen in one transaction: if anything fails
    while writing, nothing is kept.
    """

    _name = "vip.customer.import"
    _inherit = ["vip.excel.import.mixin", "vip.company.guard.mixin"]
    _description = "Import VIP Customers"
    _batch_size = 1000
    # An uploaded file holds confidential notes and birthdays: it is deleted
    # once imported (action_import), and with its wizard when abandoned.
    _transient_max_hours = 1.0

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
        [("draft", "Upload"), ("checked", "Checked"), ("done", "Imported")],
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

    @api.onchange("file")
    def _onchange_file(self):
        self.state = "draft"
        self.line_ids = [Command.clear()]
        self.row_count = self.create_count = self.update_count = self.error_count = 0

    def write(self, vals):
        if "file" in vals and "state" not in vals:
            # a new file must be checked again
            self.line_ids.unlink()
            vals = dict(vals, state="draft", row_count=0, create_count=0, update_count=0,
                        error_count=0)
        return super().write(vals)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_check(self):
        """Dry run: one line per row saying what the import would do, or why it can't."""
        self.ensure_one()
        self._check_partner_access()
        self.line_ids.unlink()
        stats = self._run(do_import=False)
        self.write(dict(stats, state="checked"))
        return self._reopen()

    def action_import(self):
        """Create and update the customers of a checked file with no error.

        The rows are validated again first (the database may have changed since
        the check); any error stops the import before or during the writes, and
        the transaction rolls everything back.
        """
        self.ensure_one()
        if self.state == "done":
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
        self.line_ids.unlink()
        stats = self._run(do_import=True)
        self.write(dict(stats, state="done", file=False))
        return self._reopen()

    def action_open_partners(self):
        """The customers the import created or updated."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "vip_customer.res_partner_vip_action"
        )
        action.update({
            "name": self.env._("Imported Customers"),
            "domain": [("id", "in", self.line_ids.partner_id.ids)],
            "context": {"create": False},
            "view_mode": "list,kanban,form",
            "views": [(False, "list"), (False, "kanban"), (False, "form")],
            "target": "current",
        })
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

    def _load_rows(self):
        """First pass over the file: map the headers, spool the data rows to a
        temporary file (so the second pass needn't parse the Excel again) and
        collect what the whole file needs from the database, set-based.

        :return: dict with ``labels`` (column key -> header as written),
            ``spool`` (file of pickled batches of ``(row number, values,
            duplicate of row)``), ``rows`` (count) and the sets ``refs``,
            ``emails``, ``phones`` and ``logins``.
        """
        rows = self._read_sheet()
        header = next(rows, None)
        if header is None:
            raise UserError(self.env._("%(file)s is empty.", file=self.file_name))
        columns = self._map_columns(header)
        labels = {key: str(header[index]).strip() for index, key in columns.items()}
        tracker = import_rows.DuplicateTracker()
        countries = self._get_countries()
        loaded = {"labels": labels, "rows": 0, "refs": set(), "emails": set(), "phones": set(),
                  "logins": set(), "countries": countries}
        spool = tempfile.TemporaryFile()
        try:
            batch = []
            for row_number, row in enumerate(rows, start=2):
                values = import_rows.row_values(row, columns)
                if not values:
                    continue
                ref, email, phones = self._row_keys(values, countries)
                keys = [("ref", ref), ("email", email)] + [("phone", phone) for phone in phones]
                duplicate_of = tracker.check(row_number, keys)
                loaded["rows"] += 1
                if ref:
                    loaded["refs"].add(ref)
                if email:
                    loaded["emails"].add(email)
                loaded["phones"].update(phones)
                if "account_manager" in values:
                    loaded["logins"].add(import_rows.cell_text(values["account_manager"]).lower())
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
    # Lookups (a few queries for the whole file)
    # ------------------------------------------------------------------
    def _prepare_lookups(self, loaded):
        """Everything the rows are resolved against, loaded once."""
        return {
            "labels": loaded["labels"],
            "tiers": self._get_tiers(),
            "countries": loaded["countries"],
            "users": self._get_users(loaded["logins"]),
            "tags": self._get_interest_tags(),
            "choices": {
                key: import_rows.build_choices(
                    self.env["res.partner"]._fields[fname]._description_selection(self.env)
                    + self.env["res.partner"]._fields[fname].selection,
                    aliases,
                )
                for key, (fname, aliases) in SELECTION_FIELDS.items()
            },
            "matches": self._get_matches(loaded["refs"], loaded["emails"], loaded["phones"]),
        }

    def _get_tiers(self):
        """Tier code (exact, then upper-case) -> tier id, for the wizard's company."""
        tiers = self.env["vip.tier"].search_read(
            [("company_id", "=", self.company_id.id)], ["code"]
        )
        by_code = {}
        for tier in tiers:
            by_code.setdefault(tier["code"].upper(), tier["id"])
        for tier in tiers:
            by_code[tier["code"]] = tier["id"]
        return by_code

    def _get_countries(self):
        """ISO code or name (any installed language, or a common Chinese name) -> country id."""
        Country = self.env["res.country"]
        countries = {}
        by_code = {}
        for lang, _name in self.env["res.lang"].get_installed():
            # a few hundred rows, all needed: names are matched in every language
            for country in Country.with_context(lang=lang).search_read(  # pylint: disable=no-search-all
                [], ["name", "code"]
            ):
                by_code[country["code"]] = country["id"]
                countries[import_rows.choice_key(country["name"])] = country["id"]
        countries.update(
            (import_rows.choice_key(code), country_id) for code, country_id in by_code.items()
        )
        for alias, code in import_rows.COUNTRY_ALIASES.items():
            if code in by_code:
                countries.setdefault(import_rows.choice_key(alias), by_code[code])
        return countries

    def _get_users(self, logins):
        """Lower-cased login -> id of the active internal users the file names."""
        if not logins:
            return {}
        self.env["res.users"].flush_model(["login", "active", "share"])
        rows = self.env.execute_query(SQL(
            """SELECT lower(login), MIN(id) FROM res_users
                WHERE active AND share IS NOT TRUE AND lower(login) = ANY(%s)
                GROUP BY lower(login)""",
            list(logins),
        ))
        return dict(rows)

    def _get_interest_tags(self):
        """Lower-cased interest name (user's language and English) -> tag id, archived ones too."""
        Tag = self.env["vip.interest.tag"].with_context(active_test=False)
        tags = {}
        for lang in {"en_US", self.env.lang or "en_US"}:
            # interests are a short list, matched case-insensitively
            for tag in Tag.with_context(lang=lang).search_read(  # pylint: disable=no-search-all
                [], ["name"]
            ):
                tags.setdefault(tag["name"].casefold(), tag["id"])
        return tags

    def _get_match_condition(self):
        """Customers a row may update: active commercial partners of the
        wizard's company or shared between companies."""
        return SQL(
            "p.active AND p.id = p.commercial_partner_id"
            " AND (p.company_id IS NULL OR p.company_id = %s)",
            self.company_id.id,
        )

    def _get_matches(self, refs, emails, phones):
        """Existing customers by matching key, three queries for the whole file.

        :return: ``{"ref"|"email"|"phone": {key: (oldest partner id, number of partners)}}``
        """
        self.env["res.partner"].flush_model([
            "active", "commercial_partner_id", "company_id", "ref", "email_normalized",
            "phone", "mobile", "country_id",
        ])
        where = self._get_match_condition()
        matches = {"ref": {}, "email": {}, "phone": {}}
        if refs:
            matches["ref"] = self._match_query(SQL(
                "SELECT p.ref, MIN(p.id), COUNT(*) FROM res_partner p"
                " WHERE %s AND p.ref = ANY(%s) GROUP BY p.ref",
                where, list(refs),
            ))
        if emails:
            matches["email"] = self._match_query(SQL(
                "SELECT p.email_normalized, MIN(p.id), COUNT(*) FROM res_partner p"
                " WHERE %s AND p.email_normalized = ANY(%s) GROUP BY p.email_normalized",
                where, list(emails),
            ))
        if phones:
            matches["phone"] = self._match_phones(where, phones)
        return matches

    def _match_phones(self, where, phones):
        """``{phone key: (oldest partner id, number of partners)}`` for the
        file's phone keys: candidates whose phone or mobile digits may be one
        of them (one query), each confirmed by normalising its numbers like
        the file's, against the customer's country, else the company's."""
        variants = set()
        for key in phones:
            variants |= import_rows.phone_match_variants(key)
        candidates = self.env.execute_query(SQL(
            """SELECT p.id, p.phone, p.mobile, p.country_id FROM res_partner p
                WHERE %(where)s
                  AND (regexp_replace(p.phone, '\\D', '', 'g') = ANY(%(variants)s)
                       OR regexp_replace(p.mobile, '\\D', '', 'g') = ANY(%(variants)s))""",
            where=where, variants=list(variants),
        ))
        found = defaultdict(set)
        Country = self.env["res.country"]
        for partner_id, phone, mobile, country_id in candidates:
            country = Country.browse(country_id) or self.company_id.country_id
            for number in (phone, mobile):
                _number, key = self._normalize_phone(number, country)
                if key in phones:
                    found[key].add(partner_id)
        return {key: (min(ids), len(ids)) for key, ids in found.items()}

    def _match_query(self, query):
        return {
            key: (partner_id, count) for key, partner_id, count in self.env.execute_query(query)
        }

    # ------------------------------------------------------------------
    # Rows
    # ------------------------------------------------------------------
    def _run(self, do_import):
        """Validate every row in batches; write lines, and the customers when ``do_import``."""
        loaded = self._load_rows()
        stats = dict.fromkeys(("create_count", "update_count", "error_count"), 0)
        stats["row_count"] = loaded["rows"]
        try:
            lookups = self._prepare_lookups(loaded)
            partner_rows = {}  # partner id -> first row updating it
            for batch in self._iter_batches(loaded["spool"]):
                rows = [
                    self._parse_row(row_number, values, duplicate_of, lookups, partner_rows)
                    for row_number, values, duplicate_of in batch
                ]
                if do_import:
                    self._import_batch(rows, lookups)
                self.env["vip.customer.import.line"].create(
                    [self._prepare_line_vals(row) for row in rows]
                )
                for row in rows:
                    stats[f"{row['outcome']}_count"] += 1
                # keep the cache (and memory) bounded on large files
                self.env.invalidate_all()
        finally:
            loaded["spool"].close()
        return stats

    def _parse_row(self, row_number, values, duplicate_of, lookups, partner_rows):
        """Resolve one row: partner values, tier and lock, tags, matched customer, errors.

        :return: dict with ``row``, ``name``, ``outcome`` (create/update/error),
            ``partner_id``, ``message``, ``errors``, ``vals`` (res.partner
            values), ``tags`` (interest names), ``tier_id`` and ``lock`` (None:
            unchanged, or the lock values to write).
        """
        row = {"row": row_number, "errors": [], "vals": {}, "tags": [], "tier_id": False,
               "lock": None, "partner_id": False, "message": ""}
        self._parse_values(row, values, lookups)
        self._parse_phones(row, values, lookups)
        self._check_dates(row, lookups)
        row["name"] = row["vals"].get("name", "")
        if not row["name"]:
            row["errors"].insert(0, self.env._("The name is empty."))
        row["tags"] = import_rows.split_tags(values.get("interests"))
        self._parse_tier(row, values, lookups)
        if duplicate_of:
            row["errors"].append(self.env._(
                "Duplicate of row %(row)s (same reference, e-mail or phone).", row=duplicate_of
            ))
        else:
            self._match_row(row, values, lookups, partner_rows)
        if row["errors"]:
            row["outcome"] = "error"
            row["message"] = " ".join(row["errors"])
        return row

    def _parse_values(self, row, values, lookups):
        """Cells -> ``row["vals"]``; a cell that cannot be read adds a row error."""
        labels = lookups["labels"]
        for key, fname in TEXT_FIELDS.items():
            if key in values:
                row["vals"][fname] = import_rows.cell_text(values[key])
        for key, (fname, parse, error) in self._get_cell_parsers(lookups).items():
            if key not in values:
                continue
            try:
                row["vals"][fname] = parse(values[key])
            except ValueError:
                row["errors"].append(error(labels[key], import_rows.cell_text(values[key])))

    def _check_dates(self, row, lookups):
        """Dates that cannot be right: a birthday in the future or before 1900
        (the row's error; ``res.partner`` refuses them too)."""
        birthday = row["vals"].get("vip_birthday")
        if birthday_problem(birthday, fields.Date.context_today(self)):
            row["errors"].append(self.env._(
                "%(column)s: %(date)s cannot be a birthday (it is in the future or before "
                "%(min)s).",
                column=lookups["labels"]["birthday"],
                date=birthday.isoformat(),
                min=BIRTHDAY_MIN.isoformat(),
            ))

    def _parse_phones(self, row, values, lookups):
        """Phone and mobile as stored: in E.164 against the row's or the
        company's country (see ``_normalize_phone``)."""
        country = self._row_country(values, lookups["countries"])
        for key in ("phone", "mobile"):
            if key in values:
                row["vals"][key] = self._normalize_phone(values[key], country)[0]

    def _get_cell_parsers(self, lookups):
        """Typed columns: ``{column key: (field, parser, error message builder)}``.

        A parser takes the cell value and returns the field value or raises
        ``ValueError``; the builder takes the column header and the cell text.
        """

        def lookup(mapping, normalize):
            def parse(value):
                try:
                    return mapping[normalize(value)]
                except KeyError:
                    raise ValueError(value) from None
            return parse

        def valid_email(value):
            # stored NFKC-normalised, so that Odoo's email_normalized is filled
            return import_rows.clean_email(value)

        def not_an_email(column, value):
            return self.env._(
                "%(column)s: “%(value)s” is not an e-mail address.", column=column, value=value
            )

        def unknown_country(column, value):
            return self.env._(
                "%(column)s: unknown country “%(value)s”.", column=column, value=value
            )

        def unknown_login(column, value):
            return self.env._(
                "%(column)s: no active internal user has the login “%(login)s”.",
                column=column, login=value,
            )

        def not_a_date(column, value):
            return self.env._(
                "%(column)s: “%(value)s” is not a date (use 2024-05-01).",
                column=column, value=value,
            )

        def not_valid(column, value):
            return self.env._(
                "%(column)s: “%(value)s” is not one of the accepted values.",
                column=column, value=value,
            )

        parsers = {
            "email": ("email", valid_email, not_an_email),
            "country": (
                "country_id", lookup(lookups["countries"], import_rows.choice_key), unknown_country
            ),
            "account_manager": (
                "vip_account_manager_id",
                lookup(lookups["users"], lambda value: import_rows.cell_text(value).lower()),
                unknown_login,
            ),
        }
        for key, fname in BOOLEAN_FIELDS.items():
            parsers[key] = (fname, import_rows.parse_bool, self._not_yes_no)
        for key, fname in DATE_FIELDS.items():
            parsers[key] = (fname, import_rows.parse_date, not_a_date)
        for key, (fname, _aliases) in SELECTION_FIELDS.items():
            choices = lookups["choices"][key]
            parsers[key] = (
                fname,
                lambda value, choices=choices: import_rows.parse_choice(value, choices),
                not_valid,
            )
        return parsers

    def _not_yes_no(self, column, value):
        return self.env._(
            "%(column)s: “%(value)s” is not yes or no (yes/no, 是/否, 1/0, true/false).",
            column=column, value=value,
        )

    def _parse_tier(self, row, values, lookups):
        """Tier by code and the lock: locked rows keep the imported tier until
        unlocked; unlocked ones get it until the tier rules' next run."""
        labels = lookups["labels"]
        errors = row["errors"]
        if "tier" in values:
            code = import_rows.cell_text(values["tier"])
            tier_id = lookups["tiers"].get(code) or lookups["tiers"].get(code.upper())
            if tier_id:
                row["tier_id"] = tier_id
            else:
                errors.append(self.env._(
                    "%(column)s: no tier of %(company)s has the code “%(code)s”.",
                    column=labels["tier"], company=self.company_id.name, code=code,
                ))
        if "lock" not in values:
            return
        try:
            lock = import_rows.parse_bool(values["lock"])
        except ValueError:
            errors.append(
                self._not_yes_no(labels["lock"], import_rows.cell_text(values["lock"]))
            )
            return
        if lock and "tier" not in values:
            errors.append(self.env._(
                "%(column)s is yes but the row has no tier to lock.", column=labels["lock"]
            ))
        elif lock:
            reason = import_rows.cell_text(values.get("lock_reason"))
            row["lock"] = {
                "vip_locked": True,
                "vip_lock_reason": reason or self.env._("Imported"),
            }
        else:
            row["lock"] = dict.fromkeys(("vip_locked", "vip_lock_reason", "vip_lock_until"), False)

    def _match_row(self, row, values, lookups, partner_rows):
        """Existing customer of the row: by reference, else e-mail, else phone."""
        matches = lookups["matches"]
        ref, email, phones = self._row_keys(values, lookups["countries"])
        found = None
        for kind, key in [("ref", ref), ("email", email)] + [("phone", phone) for phone in phones]:
            if key and key in matches[kind]:
                found = (kind, *matches[kind][key])
                break
        if not found:
            row["outcome"] = "create"
            row["message"] = self.env._("New customer.")
            return
        kind, partner_id, count = found
        first_row = partner_rows.setdefault(partner_id, row["row"])
        if first_row != row["row"]:
            row["errors"].append(self.env._(
                "Same existing customer as row %(row)s: merge the two rows.", row=first_row
            ))
        row["partner_id"] = partner_id
        row["outcome"] = "update"
        row["message"] = {
            "ref": self.env._("Existing customer, matched by reference."),
            "email": self.env._("Existing customer, matched by e-mail."),
            "phone": self.env._("Existing customer, matched by phone."),
        }[kind]
        if count > 1:
            row["message"] += " " + self.env._(
                "%(count)s customers match: the oldest one is updated.", count=count
            )

    def _prepare_line_vals(self, row):
        return {
            "wizard_id": self.id,
            "row_number": row["row"],
            "name": row["name"],
            "outcome": row["outcome"],
            "partner_id": row["partner_id"] or False,
            "message": row["message"],
        }

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
        return [
            (group[0][0], Partner.browse([partner_id for _vals, partner_id in group]))
            for group in by_changes.values()
        ]

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
        for row in rows:
            if not (row["tier_id"] or row["lock"] is not None):
                continue
            if row["outcome"] != "update":
                changing.append(row)
                continue
            partner = Partner.browse(row["partner_id"])
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


class VipCustomerImportLine(models.TransientModel):
    _name = "vip.customer.import.line"
    _description = "VIP Customer Import Row"
    _order = "is_error desc, row_number"

    wizard_id = fields.Many2one(
        "vip.customer.import", required=True, index=True, ondelete="cascade"
    )
    row_number = fields.Integer(
        string="Row", help="Row number in the Excel sheet (headers are row 1)."
    )
    name = fields.Char()
    outcome = fields.Selection(
        [("create", "New"), ("update", "Update"), ("error", "Error")], required=True
    )
    is_error = fields.Boolean(compute="_compute_is_error", store=True)
    partner_id = fields.Many2one("res.partner", string="Customer", ondelete="set null")
    message = fields.Char()

    @api.depends("outcome")
    def _compute_is_error(self):
        for line in self:
            line.is_error = line.outcome == "error"
