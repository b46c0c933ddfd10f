"""VIP customer import: how each row of the file is read, checked and matched
to an existing customer (lookups done once for the whole file).

The wizard's model, its actions and its writes are in vip_customer_import.py.
"""

from collections import defaultdict

from odoo import fields, models
from odoo.tools import SQL

from ..tools import import_rows, import_spool
from ..tools.vip_rules import BIRTHDAY_MIN, birthday_problem
from .vip_customer_import import (
    BOOLEAN_FIELDS,
    DATE_FIELDS,
    MAX_ERRORS_SHOWN,
    SELECTION_FIELDS,
    TEXT_FIELDS,
)

# the longest cell kept: a longer name, reference, e-mail or phone is no data,
# and PostgreSQL refuses to index long values (a chunk of the job would fail)
MAX_CELL_LENGTH = 1000
# free text nobody indexes (notes, preferences)
MAX_LONG_CELL_LENGTH = 10000
LONG_CELLS = ("street", "gift", "diet", "other", "special_needs", "notes", "interests")


class VipCustomerImport(models.TransientModel):
    _inherit = "vip.customer.import"  # pylint: disable=consider-merging-classes-inherited

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
    def _run(self, do_import, rows_file=None):
        """Validate every row in batches; write lines, and the customers when
        ``do_import`` (the synchronous import, kept for scripts).

        :param rows_file: a binary file to receive the rows as a background
            import job reads them (``tools.import_spool``)
        :return: the wizard's counts, and ``errors``: the first rows in error
            as text
        """
        loaded = self._load_rows()
        stats = dict.fromkeys(("create_count", "update_count", "error_count"), 0)
        stats["row_count"] = loaded["rows"]
        stats["errors"] = []
        writer = None
        if rows_file is not None:
            writer = import_spool.RowsWriter(rows_file, {"labels": loaded["labels"]})
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
                    if row["outcome"] == "error" and len(stats["errors"]) < MAX_ERRORS_SHOWN:
                        stats["errors"].append(self.env._(
                            "Row %(row)s: %(message)s", row=row["row"], message=row["message"]
                        ))
                if writer:
                    for row_number, values, _duplicate_of in batch:
                        writer.add(row_number, values)
                # keep the cache (and memory) bounded on large files
                self.env.invalidate_all()
        finally:
            loaded["spool"].close()
            if writer:
                writer.close()
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
        for key, value in values.items():
            length = len(import_rows.cell_text(value))
            limit = MAX_LONG_CELL_LENGTH if key in LONG_CELLS else MAX_CELL_LENGTH
            if length > limit:
                row["errors"].append(self.env._(
                    "%(column)s: the cell holds %(length)s characters, at most %(max)s are "
                    "allowed.",
                    column=labels.get(key, key), length=length, max=limit,
                ))
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
