"""Odoo-free tests of vip_customer/tools/import_rows.py (the customer import's
pure helpers), loaded by path so that neither Odoo nor the add-on package is imported."""

import datetime
import importlib.util
from pathlib import Path

import pytest

MODULE_PATH = Path(__file__).resolve().parent.parent / "vip_customer" / "tools" / "import_rows.py"


def _load():
    spec = importlib.util.spec_from_file_location("vip_customer_import_rows", MODULE_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


rows = _load()


# ----------------------------------------------------------------------
# headers
# ----------------------------------------------------------------------
def test_module_does_not_import_odoo():
    source = MODULE_PATH.read_text(encoding="utf-8")
    assert "import odoo" not in source
    assert "from odoo" not in source


def test_headers_in_english_and_chinese_ignore_case_and_spaces():
    columns, unknown, duplicates = rows.map_headers([
        " name ", "REFERENCE", "邮箱", "Lock_Tier*", "客户经理", "ｅｍａｉｌ", None, "",
        "No Care Messages",
    ])
    assert columns == {
        0: "name", 1: "ref", 2: "email", 3: "lock", 4: "account_manager", 8: "care_opt_out",
    }
    assert unknown == []
    assert duplicates == ["ｅｍａｉｌ"]  # full-width "email": the e-mail column again


def test_every_documented_alias_is_recognised():
    for key, aliases in rows.COLUMNS.items():
        for alias in aliases:
            assert rows.map_headers([alias])[0] == {0: key}, alias


def test_aliases_do_not_clash():
    seen = {}
    for key, aliases in rows.COLUMNS.items():
        for alias in aliases:
            canonical = rows.header_key(alias)
            assert seen.setdefault(canonical, key) == key, alias


def test_unknown_and_missing_headers():
    columns, unknown, _duplicates = rows.map_headers(["Email", "Shoe Size", "鞋码"])
    assert unknown == ["Shoe Size", "鞋码"]
    assert rows.missing_columns(columns) == ["name"]
    assert rows.missing_columns(rows.map_headers(["客户名称"])[0]) == []


def test_template_headers_round_trip():
    for chinese in (False, True):
        headers = rows.template_headers(chinese)
        columns, unknown, duplicates = rows.map_headers(headers)
        assert list(columns.values()) == list(rows.COLUMNS)
        assert not unknown and not duplicates
    assert rows.template_headers(True)[0] == "名称"
    assert set(rows.EXAMPLE_ROW) == set(rows.COLUMNS)


def test_row_values_keeps_non_empty_mapped_cells():
    columns = {0: "name", 2: "email", 5: "city"}
    values = rows.row_values(("  Jade  ", "ignored", "", None, 3), columns)
    assert values == {"name": "Jade"}


# ----------------------------------------------------------------------
# cells
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (13800138000.0, "13800138000"),
        (12.5, "12.5"),
        (42, "42"),
        (True, "1"),
        (datetime.datetime(2024, 5, 1), "2024-05-01"),
        (datetime.date(2024, 5, 1), "2024-05-01"),
        ("  text ", "text"),
    ],
)
def test_cell_text(value, expected):
    assert rows.cell_text(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("yes", True), ("Y", True), ("TRUE", True), ("1", True), (1, True), (1.0, True),
        (True, True), ("是", True), ("No", False), ("n", False), ("false", False), ("0", False),
        (0, False), (False, False), ("否", False), (" ", None), (None, None), ("", None),
    ],
)
def test_parse_bool(value, expected):
    assert rows.parse_bool(value) is expected


@pytest.mark.parametrize("value", ["maybe", "2", 2, "oui", "yes please"])
def test_parse_bool_refuses(value):
    with pytest.raises(ValueError):
        rows.parse_bool(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01", datetime.date(2024, 5, 1)),
        ("2024/5/1", datetime.date(2024, 5, 1)),
        ("2024.5.1", datetime.date(2024, 5, 1)),
        ("01.05.2024", datetime.date(2024, 5, 1)),
        ("2024年5月1日", datetime.date(2024, 5, 1)),
        ("20240501", datetime.date(2024, 5, 1)),
        ("2024-05-01 13:45:00", datetime.date(2024, 5, 1)),
        ("２０２４－０５－０１", datetime.date(2024, 5, 1)),
        (datetime.datetime(2024, 5, 1, 9, 30), datetime.date(2024, 5, 1)),
        (datetime.date(2024, 5, 1), datetime.date(2024, 5, 1)),
        (45413, datetime.date(2024, 5, 1)),  # Excel serial, 1900 date system
        (45413.75, datetime.date(2024, 5, 1)),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(value, expected):
    assert rows.parse_date(value) == expected


def test_parse_date_1904_system():
    assert rows.parse_date(43951, datemode=1) == datetime.date(2024, 5, 1)


@pytest.mark.parametrize(
    "value", ["01/05/2024", "2024-02-30", "31.02.2024", "tomorrow", "2024-13-01", 10, -5, True]
)
def test_parse_date_refuses(value):
    with pytest.raises(ValueError):
        rows.parse_date(value)


def test_excel_serial_to_date():
    assert rows.excel_serial_to_date(61) == datetime.date(1900, 3, 1)
    assert rows.excel_serial_to_date(2958465) == datetime.date(9999, 12, 31)
    with pytest.raises(ValueError):
        rows.excel_serial_to_date(60)  # 29 February 1900, which never existed
    with pytest.raises(ValueError):
        rows.excel_serial_to_date("45413")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Jade@Example.COM", "jade@example.com"),
        (" first.last+vip@mail.example.cn ", "first.last+vip@mail.example.cn"),
        (None, None),
        ("", None),
    ],
)
def test_normalize_email(value, expected):
    assert rows.normalize_email(value) == expected


@pytest.mark.parametrize(
    "value",
    ["not-an-email", "a@b", "a@@b.com", "a b@c.com", "Jade <jade@example.com>",
     "a@example.com; b@example.com", "a@example..com", 12345],
)
def test_normalize_email_refuses(value):
    with pytest.raises(ValueError):
        rows.normalize_email(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+86 138-0013 8000", "8613800138000"),
        ("(021) 5555 0101", "02155550101"),
        (13800138000.0, "13800138000"),
        ("１３８００１３８０００", "13800138000"),
        ("12345", None),
        ("", None),
        (None, None),
    ],
)
def test_phone_digits(value, expected):
    assert rows.phone_digits(value) == expected


def test_split_tags():
    assert rows.split_tags("Golf, tea、 Wine；golf;\nTea ceremony，  Art   Deco ") == [
        "Golf", "tea", "Wine", "Tea ceremony", "Art Deco",
    ]
    assert rows.split_tags(None) == []


def test_choices_accept_keys_labels_and_chinese():
    selection = [("phone", "Phone"), ("wechat", "WeChat"), ("visit", "On-site visit")]
    choices = rows.build_choices(selection, rows.CHANNEL_ALIASES)
    assert rows.parse_choice("wechat", choices) == "wechat"
    assert rows.parse_choice(" WeChat ", choices) == "wechat"
    assert rows.parse_choice("on-site  VISIT", choices) == "visit"
    assert rows.parse_choice("微信", choices) == "wechat"
    assert rows.parse_choice(None, choices) is None
    with pytest.raises(ValueError):
        rows.parse_choice("pigeon", choices)


def test_aliases_name_real_selection_keys():
    assert set(rows.CHANNEL_ALIASES.values()) <= {"phone", "email", "sms", "wechat", "visit"}
    assert set(rows.CONTACT_TIME_ALIASES.values()) <= {
        "morning", "afternoon", "evening", "weekend", "any",
    }
    assert all(len(code) == 2 and code.isupper() for code in rows.COUNTRY_ALIASES.values())


def test_duplicate_tracker_reports_the_first_row():
    tracker = rows.DuplicateTracker()
    assert tracker.check(2, [("ref", "R1"), ("email", "a@x.com"), ("phone", None)]) is None
    assert tracker.check(3, [("ref", "R2"), ("email", "b@x.com")]) is None
    assert tracker.check(4, [("ref", None), ("email", "b@x.com")]) == 3
    assert tracker.check(5, [("ref", "R9"), ("phone", "8613800138000")]) is None
    assert tracker.check(6, [("phone", "8613800138000")]) == 5
    assert tracker.check(7, [("ref", "R1"), ("email", "b@x.com")]) == 2
    # same key twice on one row (phone = mobile) is no duplicate
    assert tracker.check(8, [("phone", "02155550101"), ("phone", "02155550101")]) is None
    # the same value in another kind of key is no duplicate
    assert tracker.check(9, [("ref", "8613800138000")]) is None


def test_duplicate_tracker_in_slices_gives_one_pass():
    """A file checked in slices: each slice's tracker is seeded with the keys
    the earlier slices recorded (``new_keys``); same answers as one pass,
    including a duplicate row's own keys staying unrecorded."""
    file_rows = [
        (2, [("ref", "R1"), ("email", "a@x.com")]),
        (3, [("ref", "R2"), ("email", "a@x.com")]),  # duplicate of 2: R2 not recorded
        (4, [("ref", "R2")]),  # so no duplicate
        (5, [("email", "c@x.com")]),
        (6, [("ref", "R1")]),
        (7, [("ref", "R2"), ("email", "c@x.com")]),
    ]
    one_pass = rows.DuplicateTracker()
    expected = [one_pass.check(number, keys) for number, keys in file_rows]
    assert expected == [None, 2, None, None, 2, 4]
    stored, sliced = {}, []
    for start in range(0, len(file_rows), 2):
        tracker = rows.DuplicateTracker(stored)
        sliced += [tracker.check(number, keys) for number, keys in file_rows[start:start + 2]]
        assert not set(tracker.new_keys()) & set(stored), "only the slice's own keys"
        stored.update(tracker.new_keys())
    assert sliced == expected


# ----------------------------------------------------------------------
# e-mails as stored, phones in E.164 (fallback without phonenumbers)
# ----------------------------------------------------------------------
def test_clean_email_keeps_case_but_not_full_width():
    assert rows.clean_email(" ｗｉｄｅ＠Ｅｘａｍｐｌｅ．ｃｏｍ ") == "wide@Example.com"
    assert rows.normalize_email("ｗｉｄｅ＠Ｅｘａｍｐｌｅ．ｃｏｍ") == "wide@example.com"
    assert rows.clean_email(None) is None
    with pytest.raises(ValueError):
        rows.clean_email("Wide <wide@example.com>")


@pytest.mark.parametrize(
    ("value", "phone_code", "expected"),
    [
        ("+86 138 0013 8000", 86, "+8613800138000"),
        ("13800138000", 86, "+8613800138000"),
        ("0138-0013-8000", 86, "+8613800138000"),
        ("0086 138 0013 8000", 86, "+8613800138000"),
        ("＋８６ １３８ ００１３ ８０００", None, "+8613800138000"),
        ("+33 1 42 68 53 00", 86, "+33142685300"),
        ("13800138000", None, "13800138000"),
        (13800138000.0, 86, "+8613800138000"),
        ("12345", 86, None),
        (None, 86, None),
    ],
)
def test_e164_fallback(value, phone_code, expected):
    assert rows.e164_fallback(value, phone_code) == expected


def test_e164_detection_and_keys():
    assert rows.is_e164("+8613800138000")
    assert not rows.is_e164("+86 138 0013 8000")
    assert not rows.is_e164("13800138000")
    assert not rows.is_e164(False)
    assert rows.phone_key("+8613800138000") == "8613800138000"
    assert rows.phone_key(None) is None


def test_phone_match_variants_cover_national_and_international_forms():
    variants = rows.phone_match_variants("8613800138000")
    for stored in ("+86 138 0013 8000", "0086 13800138000", "138 0013 8000", "0138 0013 8000"):
        assert rows.phone_digits(stored) in variants, stored
    assert rows.phone_digits("139 0013 8000") not in variants
