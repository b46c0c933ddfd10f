"""Translations: every add-on ships a generated .pot and a complete Simplified Chinese zh_CN.po."""

import re

import polib
import pytest
from conftest import addon_dirs, addon_files, rel

PO_FILES = addon_files(".po", "i18n") + addon_files(".pot", "i18n")
ADDONS = addon_dirs()
ADDON_IDS = [p.name for p in ADDONS]

# %(name)s, %s, %d, %.2f ... and {name}, {0}, {} (no space flag: "100% sure" is not one)
PLACEHOLDER_RE = re.compile(
    r"%\([A-Za-z0-9_]+\)[#0+\-]*\d*(?:\.\d+)?[sdifrxXeEgGc]"
    r"|%[#0+\-]*\d*(?:\.\d+)?[sdifrxXeEgGc]"
    r"|\{[A-Za-z_][A-Za-z0-9_]*\}|\{\d*\}"
)


def placeholders(text):
    return sorted(PLACEHOLDER_RE.findall(text.replace("%%", "")))


def zh_cn(addon):
    path = addon / "i18n" / "zh_CN.po"
    if not path.is_file():
        pytest.fail(f"{rel(path)} is missing: every add-on ships a complete zh_CN.po")
    return polib.pofile(str(path))


def pot(addon):
    path = addon / "i18n" / f"{addon.name}.pot"
    if not path.is_file():
        pytest.fail(
            f"{rel(path)} is missing: export it from Odoo "
            f"(odoo-bin -d DB --i18n-export={addon.name}/i18n/{addon.name}.pot "
            f"--modules={addon.name})"
        )
    return polib.pofile(str(path))


@pytest.mark.parametrize("path", PO_FILES, ids=[rel(p) for p in PO_FILES])
def test_po_parses(path):
    try:
        polib.pofile(str(path))
    except (OSError, ValueError) as exc:
        pytest.fail(f"{rel(path)}: {exc}")


@pytest.mark.parametrize("addon", ADDONS, ids=ADDON_IDS)
def test_pot_present(addon):
    assert len(pot(addon)) > 0, f"{addon.name}: {addon.name}.pot has no entry"


@pytest.mark.parametrize("addon", ADDONS, ids=ADDON_IDS)
def test_zh_cn_complete(addon):
    po = zh_cn(addon)
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"{addon.name}/i18n/zh_CN.po untranslated: {untranslated[:20]}"
    assert not fuzzy, f"{addon.name}/i18n/zh_CN.po fuzzy: {fuzzy[:20]}"
    assert po.percent_translated() == 100


@pytest.mark.parametrize("addon", ADDONS, ids=ADDON_IDS)
def test_zh_cn_covers_pot(addon):
    translated = {(e.msgctxt, e.msgid) for e in zh_cn(addon) if not e.obsolete}
    missing = [
        e.msgid for e in pot(addon) if not e.obsolete and (e.msgctxt, e.msgid) not in translated
    ]
    assert not missing, (
        f"{addon.name}/i18n/zh_CN.po lacks {len(missing)} msgid(s) of the .pot "
        f"(merge it: msgmerge -U zh_CN.po {addon.name}.pot): {missing[:20]}"
    )


@pytest.mark.parametrize("addon", ADDONS, ids=ADDON_IDS)
def test_zh_cn_keeps_placeholders(addon):
    problems = []
    for entry in zh_cn(addon).translated_entries():
        if entry.msgid_plural:
            pairs = [(entry.msgid_plural, s) for s in entry.msgstr_plural.values()]
        else:
            pairs = [(entry.msgid, entry.msgstr)]
        for msgid, msgstr in pairs:
            missing = [p for p in placeholders(msgid) if p not in placeholders(msgstr)]
            if missing:
                problems.append(f"line {entry.linenum}: {missing} not in msgstr {msgstr!r}")
    assert not problems, f"{addon.name}/i18n/zh_CN.po:\n" + "\n".join(problems)


@pytest.mark.parametrize("addon", ADDONS, ids=ADDON_IDS)
def test_no_en_po(addon):
    en_po = addon / "i18n" / "en.po"
    assert not en_po.exists(), f"{rel(en_po)}: no en.po, English is the source language"
