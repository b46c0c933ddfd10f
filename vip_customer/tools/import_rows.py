"""Pure helpers of the VIP customer import: header mapping and cell parsing.

Nothing here imports Odoo (nor openpyxl/xlrd): the import wizard reads the
spreadsheet and hands plain cell values (str, int, float, bool, date, datetime,
None) to these functions, and the repository's Odoo-free test suite tests them
directly. Keep it that way.

Parsers return ``None`` for an empty cell and raise ``ValueError`` (with a
short English reason) for a value they cannot read; the wizard turns that into
a translated row error.
"""

import datetime
import re
import unicodedata

# ----------------------------------------------------------------------
# Columns
# ----------------------------------------------------------------------
# column key -> accepted headers (the first English and the first Chinese ones
# are used in the downloadable template). Matching ignores case, spaces,
# underscores, hyphens, "*" and ":" and full-width forms.
COLUMNS = {
    "name": ("Name", "Customer Name", "名称", "客户名称", "姓名"),
    "ref": ("Reference", "Ref", "Customer Reference", "编号", "客户编号"),
    "email": ("Email", "E-mail", "邮箱", "电子邮件"),
    "phone": ("Phone", "电话"),
    "mobile": ("Mobile", "手机"),
    "street": ("Street", "Address", "地址"),
    "city": ("City", "城市"),
    "zip": ("Zip", "ZIP Code", "Postcode", "邮编"),
    "country": ("Country", "国家"),
    "is_company": ("Company", "Is Company", "公司", "是否公司"),
    "tier": ("Tier", "VIP Tier", "等级", "会员等级"),
    "lock": ("Lock Tier", "Locked", "锁定等级"),
    "lock_reason": ("Lock Reason", "锁定原因"),
    "account_manager": ("Account Manager", "客户经理"),
    "channel": ("Preferred Channel", "Channel", "偏好渠道"),
    "contact_time": ("Contact Time", "Preferred Contact Time", "联系时间"),
    "interests": ("Interests", "兴趣"),
    "gift": ("Gift Preferences", "礼品偏好"),
    "diet": ("Diet Preferences", "饮食偏好"),
    "other": ("Other Preferences", "其他偏好"),
    "special_needs": ("Special Needs", "特殊需求"),
    "notes": ("Notes", "备注"),
    "birthday": ("Birthday", "生日"),
    "anniversary": ("Anniversary", "纪念日"),
    "care_opt_out": ("No Care Messages", "不发送关怀"),
}
REQUIRED_COLUMNS = ("name",)

# An example row for the template, by column key.
EXAMPLE_ROW = {
    "name": "Golden Dragon Trading",
    "ref": "C0001",
    "email": "contact@golden-dragon.example.com",
    "phone": "+86 21 5555 0101",
    "mobile": "138 0013 8000",
    "street": "88 Century Avenue",
    "city": "Shanghai",
    "zip": "200120",
    "country": "CN",
    "is_company": "yes",
    "tier": "A",
    "lock": "no",
    "lock_reason": "",
    "account_manager": "admin",
    "channel": "wechat",
    "contact_time": "afternoon",
    "interests": "Golf, Tea",
    "gift": "Pu'er tea",
    "diet": "No seafood",
    "other": "",
    "special_needs": "",
    "notes": "",
    "birthday": "1975-08-18",
    "anniversary": "2015-03-01",
    "care_opt_out": "no",
}

_HEADER_STRIP = re.compile(r"[\s_\-*:]+")


def header_key(text):
    """Canonical form of a header for comparison: ``" Lock_Tier* "`` -> ``"locktier"``."""
    if text is None:
        return ""
    text = unicodedata.normalize("NFKC", str(text))
    return _HEADER_STRIP.sub("", text).casefold()


_ALIASES = {header_key(alias): key for key, aliases in COLUMNS.items() for alias in aliases}


def map_headers(headers):
    """Map a header row to column keys.

    :param headers: the cell values of the first row
    :return: ``(columns, unknown, duplicates)``: ``columns`` maps the column
        index to its key; ``unknown`` lists headers that are not recognised;
        ``duplicates`` lists headers naming a column already seen. Empty
        header cells are ignored.
    """
    columns = {}
    unknown = []
    duplicates = []
    seen = set()
    for index, header in enumerate(headers):
        canonical = header_key(header)
        if not canonical:
            continue
        key = _ALIASES.get(canonical)
        if key is None:
            unknown.append(str(header).strip())
        elif key in seen:
            duplicates.append(str(header).strip())
        else:
            seen.add(key)
            columns[index] = key
    return columns, unknown, duplicates


def missing_columns(columns):
    """Required column keys absent from a ``map_headers`` mapping."""
    present = set(columns.values())
    return [key for key in REQUIRED_COLUMNS if key not in present]


def template_headers(chinese=False):
    """Header row of the downloadable template, English or Chinese."""
    headers = []
    for aliases in COLUMNS.values():
        pick = aliases[0]
        if chinese:
            pick = next((a for a in aliases if not a.isascii()), pick)
        headers.append(pick)
    return headers


def row_values(row, columns):
    """``{key: value}`` of one row's non-empty mapped cells (strings stripped)."""
    values = {}
    for index, key in columns.items():
        if index >= len(row):
            continue
        value = row[index]
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "":
            continue
        values[key] = value
    return values


# ----------------------------------------------------------------------
# Cells
# ----------------------------------------------------------------------
def cell_text(value):
    """A cell as text: ``13800138000.0`` -> ``"13800138000"``, dates as ISO, ``None`` -> ``""``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


_TRUE = {"yes", "y", "true", "t", "1", "on", "是", "是的", "对", "√", "✓"}
_FALSE = {"no", "n", "false", "f", "0", "off", "否", "不", "不是", "×", "✗"}


def parse_bool(value):
    """yes/no, true/false, 1/0, 是/否... -> ``True``/``False``; empty -> ``None``."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        if value in (0, 1):
            return bool(value)
        raise ValueError(f"not a yes/no value: {value!r}")
    text = unicodedata.normalize("NFKC", str(value)).strip().casefold()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"not a yes/no value: {value!r}")


_EXCEL_EPOCHS = {0: datetime.date(1899, 12, 30), 1: datetime.date(1904, 1, 1)}
_EXCEL_MAX_SERIAL = 2958465  # 9999-12-31


def excel_serial_to_date(serial, datemode=0):
    """The date of an Excel serial number (``datemode`` 0: 1900 system, 1: 1904 system).

    Serials before 1900-03-01 are refused: Excel counts a 29 February 1900
    that never existed, so they are ambiguous.
    """
    if isinstance(serial, bool) or not isinstance(serial, (int, float)):
        raise ValueError(f"not an Excel date number: {serial!r}")
    minimum = 61 if datemode == 0 else 0
    if not minimum <= serial <= _EXCEL_MAX_SERIAL:
        raise ValueError(f"Excel date number out of range: {serial!r}")
    return _EXCEL_EPOCHS[datemode] + datetime.timedelta(days=int(serial))


# Accepted text dates, each (regex, order of year/month/day groups).
_DATE_PATTERNS = (
    # 2024-05-01, 2024/5/1, 2024.5.1, optionally followed by a time
    (re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"),
     "ymd"),
    # 2024年5月1日
    (re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?"), "ymd"),
    # 01.05.2024 (day first, the German/Russian way; 01/05/2024 is ambiguous and refused)
    (re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})"), "dmy"),
    # 20240501
    (re.compile(r"(\d{4})(\d{2})(\d{2})"), "ymd"),
)


def parse_date(value, datemode=0):
    """A date from a cell: a date/datetime, an Excel serial number, or text
    such as ``2024-05-01``, ``2024/5/1``, ``01.05.2024``, ``2024年5月1日``.

    :return: ``datetime.date`` or ``None`` for an empty cell
    :raise ValueError: for anything else (``01/05/2024`` included: it reads
        differently in Europe and in the US)
    """
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return excel_serial_to_date(value, datemode)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    for pattern, order in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            parts = dict(zip(order, (int(group) for group in match.groups()), strict=True))
            try:
                return datetime.date(parts["y"], parts["m"], parts["d"])
            except ValueError:
                raise ValueError(f"not a valid date: {text!r}") from None
    raise ValueError(f"not a date: {text!r}")


_EMAIL = re.compile(r"[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\]+\.[^@\s<>(),;:\"\[\]\\.]{2,}")


def clean_email(value):
    """The e-mail address of a cell as it is stored: NFKC-normalised (full-width
    letters, digits and ``＠`` become ASCII) and stripped; ``None`` if empty.

    :raise ValueError: if the cell is not one plain address (``Name <a@b.c>``
        and lists of addresses are refused)
    """
    text = cell_text(value)
    if not text:
        return None
    text = unicodedata.normalize("NFKC", text).strip()
    if not _EMAIL.fullmatch(text) or ".." in text:
        raise ValueError(f"not an e-mail address: {text!r}")
    return text


def normalize_email(value):
    """The e-mail address of a cell, NFKC-normalised and lower-cased (the
    matching key); ``None`` if empty.

    :raise ValueError: see :func:`clean_email`
    """
    email = clean_email(value)
    return email.lower() if email else None


MIN_PHONE_DIGITS = 6
_E164 = re.compile(r"\+[1-9]\d{5,14}")


def phone_text(value):
    """A phone cell as text, NFKC-normalised (full-width digits and ``＋``) and stripped."""
    return unicodedata.normalize("NFKC", cell_text(value)).strip()


def phone_digits(value):
    """Digits of a phone number: ``"+86 138-0013 8000"`` -> ``"8613800138000"``.
    ``None`` when the cell holds fewer than ``MIN_PHONE_DIGITS`` digits (too
    short to identify anyone)."""
    digits = re.sub(r"\D", "", phone_text(value))
    return digits if len(digits) >= MIN_PHONE_DIGITS else None


def is_e164(text):
    """True for a number in E.164 form: ``+`` and 6 to 15 digits."""
    return bool(text) and bool(_E164.fullmatch(text))


def e164_fallback(value, country_phone_code=None):
    """The E.164 form of a phone number, guessed without the ``phonenumbers``
    library (the import uses Odoo's ``phone_validation`` when it is there):
    ``"+86 138 0013 8000"`` and ``"0086 138..."`` keep their country code; a
    national number gets ``country_phone_code`` (its trunk ``0`` dropped):
    ``"138 0013 8000"`` with 86 -> ``"+8613800138000"``. Without a country
    code, the bare digits. ``None`` below ``MIN_PHONE_DIGITS`` digits.
    """
    text = phone_text(value)
    digits = phone_digits(text)
    if not digits:
        return None
    if text.startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    if country_phone_code:
        return f"+{country_phone_code}{digits[1:] if digits.startswith('0') else digits}"
    return digits


def phone_key(number):
    """The matching key of a normalised number (see :func:`e164_fallback`): its
    digits, the country code first when it is known. ``None`` for no number."""
    return number.lstrip("+") if number else None


def phone_match_variants(key):
    """Digit strings that a phone stored in another format reduces to when it
    is the number of ``key`` (see :func:`phone_key`): the key, with ``00``, and
    what follows a 1 to 3 digit country code, with and without a trunk ``0``.
    Candidates only: whoever uses them confirms each one by normalising its
    number again."""
    variants = {key, "00" + key}
    for size in (1, 2, 3):
        national = key[size:]
        if len(national) >= MIN_PHONE_DIGITS:
            variants.update((national, "0" + national))
    return variants


_TAG_SEPARATORS = re.compile(r"[,，、;；\n]+")


def split_tags(value):
    """Interest names of a cell separated by , ， 、 ; ； or new lines,
    without blanks or case-insensitive repeats, in order."""
    names = []
    seen = set()
    for name in _TAG_SEPARATORS.split(cell_text(value)):
        name = " ".join(name.split())
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            names.append(name)
    return names


# Chinese names of the selection values of res.partner (the wizard also
# accepts the keys and the labels in English and in the user's language).
CHANNEL_ALIASES = {
    "电话": "phone",
    "邮件": "email",
    "电子邮件": "email",
    "邮箱": "email",
    "短信": "sms",
    "微信": "wechat",
    "拜访": "visit",
    "上门": "visit",
    "上门拜访": "visit",
}
CONTACT_TIME_ALIASES = {
    "上午": "morning",
    "早上": "morning",
    "下午": "afternoon",
    "晚上": "evening",
    "傍晚": "evening",
    "周末": "weekend",
    "任何时间": "any",
    "任意时间": "any",
    "随时": "any",
    "不限": "any",
}


# Chinese names of common countries, for databases without Chinese installed
# (the wizard also accepts ISO codes and the names in every installed language).
COUNTRY_ALIASES = {
    "中国": "CN",
    "中国大陆": "CN",
    "中华人民共和国": "CN",
    "香港": "HK",
    "中国香港": "HK",
    "澳门": "MO",
    "中国澳门": "MO",
    "台湾": "TW",
    "中国台湾": "TW",
    "新加坡": "SG",
    "马来西亚": "MY",
    "日本": "JP",
    "韩国": "KR",
    "美国": "US",
    "加拿大": "CA",
    "英国": "GB",
    "法国": "FR",
    "德国": "DE",
    "意大利": "IT",
    "西班牙": "ES",
    "澳大利亚": "AU",
    "新西兰": "NZ",
    "泰国": "TH",
    "越南": "VN",
    "阿联酋": "AE",
}


def choice_key(text):
    """Canonical form of a selection value or label for comparison."""
    return " ".join(unicodedata.normalize("NFKC", str(text)).split()).casefold()


def build_choices(selection, *alias_maps):
    """``{canonical text: key}`` from ``[(key, label), ...]`` pairs and alias dicts."""
    choices = {}
    for key, label in selection:
        choices[choice_key(key)] = key
        choices[choice_key(label)] = key
    for aliases in alias_maps:
        for alias, key in aliases.items():
            choices[choice_key(alias)] = key
    return choices


def parse_choice(value, choices):
    """The selection key a cell names (key or label); ``None`` if empty."""
    text = cell_text(value)
    if not text:
        return None
    try:
        return choices[choice_key(text)]
    except KeyError:
        raise ValueError(f"unknown value: {text!r}") from None


class DuplicateTracker:
    """Remembers the first row of each matching key (reference, e-mail, phone)
    so later rows with the same key are reported as duplicates of it.

    A file checked in slices seeds the tracker with the keys the earlier
    slices recorded (``first_rows``) and stores ``new_keys()`` afterwards:
    the result is the one of a single pass over the file.
    """

    def __init__(self, first_rows=None):
        self._first = dict(first_rows or {})
        self._seeded = set(self._first)

    def new_keys(self):
        """``{key: first row}`` recorded since the tracker was made."""
        return {key: row for key, row in self._first.items() if key not in self._seeded}

    def check(self, row_number, keys):
        """Record ``keys`` (pairs ``(kind, value)``, ``None`` values skipped)
        for ``row_number``; return the earlier row one of them was seen on, else ``None``."""
        keys = [key for key in keys if key[1]]
        for key in keys:
            first = self._first.get(key)
            if first is not None and first != row_number:
                return first
        for key in keys:
            self._first.setdefault(key, row_number)
        return None
