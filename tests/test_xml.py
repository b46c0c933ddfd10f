"""XML of the vip_* add-ons: well formed and written for Odoo 18 (no 17-and-older syntax)."""

import re
from collections import Counter

import pytest
from conftest import REPO, addon_dirs, addon_files, rel
from lxml import etree

XML_FILES = addon_files(".xml")
# Data files (loaded by the manifest) as opposed to OWL templates under static/.
DATA_XML_FILES = [p for p in XML_FILES if "static" not in p.relative_to(REPO).parts]

VIEW_ROOTS = {
    "form",
    "list",
    "kanban",
    "search",
    "graph",
    "pivot",
    "calendar",
    "activity",
    "hierarchy",
}
REMOVED_FIELDS = {"numbercall", "doall"}  # ir.cron fields removed in 18.0
REMOVED_TAGS = {"tree", "act_window", "report"}
REMOVED_ATTRIBUTES = {"attrs", "states"}
XML_DECLARATION = re.compile(r'^<\?xml version="1\.0" encoding="utf-8"\?>', re.IGNORECASE)


def parse(path):
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    return etree.parse(str(path), parser)


def ids(paths):
    return [rel(p) for p in paths]


@pytest.mark.parametrize("path", XML_FILES, ids=ids(XML_FILES))
def test_xml_parses(path):
    try:
        parse(path)
    except etree.XMLSyntaxError as exc:
        pytest.fail(f"{rel(path)}: {exc}")


@pytest.mark.parametrize("path", XML_FILES, ids=ids(XML_FILES))
def test_xml_declaration(path):
    first = path.read_text(encoding="utf-8").lstrip("\ufeff")
    assert XML_DECLARATION.match(first), (
        f'{rel(path)}: must start with <?xml version="1.0" encoding="utf-8"?>'
    )


@pytest.mark.parametrize("path", DATA_XML_FILES, ids=ids(DATA_XML_FILES))
def test_data_file_root(path):
    root = parse(path).getroot()
    assert root.tag == "odoo", f"{rel(path)}: root element is <{root.tag}>, expected <odoo>"
    for data in root.iter("data"):
        assert "noupdate" in data.attrib, (
            f"{rel(path)}:{data.sourceline}: <data> wrapper without noupdate: remove it"
        )


@pytest.mark.parametrize("path", XML_FILES, ids=ids(XML_FILES))
def test_no_removed_syntax(path):
    problems = []
    for el in parse(path).getroot().iter(tag=etree.Element):
        where = f"{rel(path)}:{el.sourceline}"
        if el.tag in REMOVED_TAGS:
            hint = "use <list>" if el.tag == "tree" else "use a <record>"
            problems.append(f"{where}: <{el.tag}> is gone in 18.0, {hint}")
        for attr in REMOVED_ATTRIBUTES & set(el.attrib):
            problems.append(
                f"{where}: {attr}= is gone in 18.0, use invisible=/readonly=/required= expressions"
            )
        if el.tag == "field" and el.get("name") in REMOVED_FIELDS:
            problems.append(f"{where}: ir.cron field {el.get('name')!r} is gone in 18.0")
        if el.tag == "field" and el.get("name") == "view_mode" and "tree" in (el.text or ""):
            problems.append(f"{where}: view_mode 'tree' is 'list' in 18.0")
    assert not problems, "\n".join(problems)


def _view_records(path):
    for record in parse(path).getroot().iter("record"):
        if record.get("model") == "ir.ui.view":
            yield record


@pytest.mark.parametrize("path", DATA_XML_FILES, ids=ids(DATA_XML_FILES))
def test_view_arch(path):
    problems = []
    for record in _view_records(path):
        where = f"{rel(path)}:{record.sourceline} ({record.get('id')})"
        fields = {f.get("name"): f for f in record.findall("field")}
        arch = fields.get("arch")
        if arch is None:
            problems.append(f"{where}: view without an arch field")
            continue
        roots = [child for child in arch if isinstance(child.tag, str)]
        if not roots:
            problems.append(f"{where}: empty arch")
            continue
        if "inherit_id" in fields:
            continue  # an inheriting arch is a list of specs (xpath, field ... position=)
        if len(roots) != 1:
            problems.append(f"{where}: arch must have exactly one root element, has {len(roots)}")
            continue
        is_qweb = fields.get("type") is not None and (fields["type"].text or "").strip() == "qweb"
        if not is_qweb and roots[0].tag not in VIEW_ROOTS:
            problems.append(f"{where}: primary view root <{roots[0].tag}> is not a view type")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("addon", addon_dirs(), ids=[p.name for p in addon_dirs()])
def test_xml_ids_unique_and_well_formed(addon):
    declared = []
    for path in DATA_XML_FILES:
        if path.is_relative_to(addon):
            for el in parse(path).getroot().iter("record", "template", "menuitem"):
                if el.get("id"):
                    declared.append((el.get("id"), f"{rel(path)}:{el.sourceline}"))
    counts = Counter(xml_id for xml_id, _ in declared)
    duplicates = sorted(f"{xml_id} ({where})" for xml_id, where in declared if counts[xml_id] > 1)
    assert not duplicates, f"{addon.name}: xml ids declared twice: {duplicates}"
    bad = [f"{i} ({where})" for i, where in declared if i.split(".")[-1][0].isdigit()]
    assert not bad, f"{addon.name}: xml ids must not start with a digit: {bad}"
