"""Every translatable string of the Python code reaches the .pot.

Odoo exports code terms with Babel's Python extractor, which evaluates each
string argument of a ``_()`` call as a literal: an f-string among those
arguments (``max=f"{INT_MAX:,}"``) makes it raise, Odoo logs "Failed to extract
terms" and every string after it in that file is missing from the .pot (so
shown in English to every user). Format such values outside the string
literals (``format(value, ",")``).
"""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SOURCES = sorted(
    path
    for addon in REPO.glob("vip_*")
    for path in addon.rglob("*.py")
    if "tests" not in path.relative_to(addon).parts
)
TRANSLATE = {"_", "_lt"}


def _translation_calls(tree):
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name in TRANSLATE:
            yield node


def fstrings_in_translation_calls(source):
    """``(line, call line)`` of the f-strings inside the arguments of ``_()`` calls."""
    found = []
    for call in _translation_calls(ast.parse(source)):
        for arg in [*call.args, *(keyword.value for keyword in call.keywords)]:
            found += [
                (node.lineno, call.lineno)
                for node in ast.walk(arg)
                if isinstance(node, ast.JoinedStr)
            ]
    return sorted(set(found))


def test_sources_found():
    assert len(SOURCES) > 50


def test_detects_an_fstring_argument():
    source = 'x = self.env._("%(max)s points", max=f"{MAX:,}")\ny = _("plain %s", 1)\n'
    assert fstrings_in_translation_calls(source) == [(1, 1)]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_fstring_in_translated_calls(path):
    found = fstrings_in_translation_calls(path.read_text(encoding="utf-8"))
    assert not found, (
        f"{path.relative_to(REPO)}: f-string in the arguments of the _() call at line(s) "
        f"{sorted({call for _line, call in found})}: Babel cannot extract that file's "
        "terms past it; use format(value, spec) instead"
    )
