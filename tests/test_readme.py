"""README.rst of each add-on: generated from readme/*.md by scripts/gen_readme.py, never stale.

After editing a fragment (or the manifest's name, author, license, version, website or
maintainers) run ``scripts/gen_readme.py`` and commit the README.rst it writes.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from conftest import REPO, addon_names, load_pure_module, read_manifest

gen = load_pure_module("scripts/gen_readme.py", name="vip_gen_readme")

ADDONS = addon_names()
GITHUB_LOGIN_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")


@pytest.mark.parametrize("addon", ADDONS)
@pytest.mark.parametrize("fragment", gen.REQUIRED_FRAGMENTS)
def test_required_fragment(addon, fragment):
    path = REPO / addon / "readme" / f"{fragment}.md"
    assert path.is_file(), f"{addon}: readme/{fragment}.md is missing"
    assert path.read_text(encoding="utf-8").strip(), f"{addon}: readme/{fragment}.md is empty"


@pytest.mark.parametrize("addon", ADDONS)
def test_only_known_fragments(addon):
    """A misspelt fragment (CONTRIBUTOR.md, Usage.md, DESCRIPTION.rst) would be left out
    of the README without a word."""
    known = {f"{name}.md" for name in gen.FRAGMENTS}
    unknown = sorted(p.name for p in (REPO / addon / "readme").iterdir() if p.name not in known)
    assert not unknown, f"{addon}/readme/: not fragments of the generator: {unknown}"


@pytest.mark.parametrize("addon", ADDONS)
def test_maintainers(addon):
    maintainers = read_manifest(addon).get("maintainers")
    assert isinstance(maintainers, list) and maintainers, (
        f"{addon}: the manifest needs a non-empty 'maintainers' list (GitHub logins)"
    )
    bad = [m for m in maintainers if not isinstance(m, str) or not GITHUB_LOGIN_RE.match(m)]
    assert not bad, f"{addon}: maintainers must be GitHub logins, not {bad}"


@pytest.mark.parametrize("addon", ADDONS)
def test_readme_rst_is_generated_and_current(addon):
    path = REPO / addon / "README.rst"
    assert path.is_file(), f"{addon}/README.rst is missing: run scripts/gen_readme.py {addon}"
    assert path.read_text(encoding="utf-8") == gen.render_readme(REPO / addon), (
        f"{addon}/README.rst is not what readme/*.md and the manifest give: "
        f"run scripts/gen_readme.py {addon} and commit it"
    )


@pytest.mark.parametrize("addon", ADDONS)
def test_readme_rst_layout(addon):
    """The sections a reader of an OCA add-on looks for, in OCA's order."""
    text = (REPO / addon / "README.rst").read_text(encoding="utf-8")
    name = read_manifest(addon)["name"]
    assert text.startswith(f"{'=' * len(name)}\n{name}\n{'=' * len(name)}\n")
    titles = re.findall(r"^(.+)\n(?:=+|-+)\n", text, flags=re.MULTILINE)
    expected = ["Configuration", "Usage", "Bug Tracker", "Credits", "Authors", "Maintainers"]
    assert [t for t in titles if t in expected] == expected, titles
    assert ".. contents::\n   :local:\n" in text
    if (REPO / addon / "readme" / "ROADMAP.md").is_file():
        assert titles.index("Known issues / Roadmap") == titles.index("Usage") + 1


# Parses each README.rst named on the command line with docutils and prints its warnings
# as JSON (run by a python that has docutils).
RST_CHECK = """
import io, json, sys
from docutils.core import publish_doctree
warnings = {}
for path in sys.argv[1:]:
    stream = io.StringIO()
    with open(path, encoding="utf-8") as rst:
        publish_doctree(rst.read(), settings_overrides={
            "warning_stream": stream, "report_level": 2, "halt_level": 5,
            "file_insertion_enabled": False, "raw_enabled": False})
    warnings[path] = stream.getvalue()
json.dump(warnings, sys.stdout)
"""


def _docutils_python():
    """A python that can import docutils: this one, else Odoo's (``ODOO_PYTHON``) or the
    ``python3`` on PATH (the tools venv does not ship docutils; the parse needs no Odoo)."""
    candidates = [sys.executable, os.environ.get("ODOO_PYTHON"), shutil.which("python3")]
    for python in dict.fromkeys(filter(None, candidates)):
        probe = subprocess.run(
            [python, "-c", "import docutils.core"], capture_output=True, check=False
        )
        if probe.returncode == 0:
            return python
    return None


@pytest.fixture(scope="module")
def rst_warnings():
    """``rst_warnings(*paths)``: docutils' warnings on each file, by path."""
    python = _docutils_python()
    if python is None:
        pytest.skip("no python with docutils found (sys.executable, ODOO_PYTHON, python3)")

    def check(*paths):
        result = subprocess.run(
            [python, "-c", RST_CHECK, *map(str, paths)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    return check


@pytest.fixture(scope="module")
def readme_warnings(rst_warnings):
    return rst_warnings(*(REPO / addon / "README.rst" for addon in ADDONS))


@pytest.mark.parametrize("addon", ADDONS)
def test_readme_rst_parses_without_warnings(addon, readme_warnings):
    warnings = readme_warnings[str(REPO / addon / "README.rst")]
    assert not warnings, f"{addon}/README.rst:\n{warnings}"


def test_rst_check_reports_a_warning(tmp_path, rst_warnings):
    """The check above can fail: a title underline too short is a docutils warning."""
    bad = tmp_path / "README.rst"
    bad.write_text("A longer title\n=====\n\ntext\n", encoding="utf-8")
    assert "underline too short" in rst_warnings(bad)[str(bad)]


@pytest.mark.parametrize("addon", ADDONS)
def test_index_html_follows_the_readme(addon):
    """Odoo shows static/description/index.html on an application's page (it renders
    README.rst itself only for other modules): it must come from the current README."""
    index = REPO / addon / "static" / "description" / "index.html"
    assert index.is_file(), f"{addon}: no index.html: run scripts/gen_readme.py {addon}"
    html = index.read_text(encoding="utf-8")
    readme = (REPO / addon / "README.rst").read_text(encoding="utf-8")
    assert gen.digest_of(html) == gen.digest_of(readme), (
        f"{addon}/static/description/index.html is older than README.rst: "
        f"run scripts/gen_readme.py {addon}"
    )
    assert not html.startswith("<?xml"), "Odoo 18 warns about XML declarations there"


def test_check_mode_finds_a_stale_readme(tmp_path, monkeypatch, capsys):
    """``gen_readme.py --check`` fails on a README.rst (and index.html) older than its
    fragments, and the plain run rewrites both."""
    addon = tmp_path / ADDONS[0]
    shutil.copytree(REPO / ADDONS[0], addon, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(gen, "REPO", tmp_path)
    # docutils may be missing here: an index.html that carries the digest is enough
    monkeypatch.setattr(
        gen, "render_index_html", lambda text: f"<!-- source digest: {gen.digest_of(text)} -->"
    )
    assert gen.main(["--check", addon.name]) == 0
    with (addon / "readme" / "USAGE.md").open("a", encoding="utf-8") as usage:
        usage.write("\n- One more step.\n")
    assert gen.main(["--check", addon.name]) == 1
    out = capsys.readouterr().out
    assert f"stale: {addon.name}/README.rst" in out
    assert f"stale: {addon.name}/static/description/index.html" in out
    assert gen.main([addon.name]) == 0
    readme = (addon / "README.rst").read_text(encoding="utf-8")
    assert "- One more step.\n" in readme
    index = (addon / "static" / "description" / "index.html").read_text(encoding="utf-8")
    assert gen.digest_of(index) == gen.digest_of(readme)
    assert gen.main(["--check", addon.name]) == 0


# ---------------------------------------------------------------- the Markdown subset
@pytest.mark.parametrize(
    ("markdown", "rst"),
    [
        ("Plain *em* and **bold**.", "Plain *em* and **bold**."),
        ("Run `scripts/test`.", "Run ``scripts/test``."),
        ("See [the docs](https://example.com/x).", "See `the docs <https://example.com/x>`__."),
        ("At <https://example.com>.", "At https://example.com."),
        # RST specials in plain text are made inert
        ("a|b|c, ref_ and __init__", "a\\|b\\|c, ref\\_ and \\__init\\_\\_"),
        ("a back\\slash", "a back\\\\slash"),
        # inline markup touching a letter gets an escaped space
        ("the `vip_x`s", "the ``vip_x``\\ s"),
        # a code span across two lines stays one literal
        ("call `f(a,\nb)` now", "call ``f(a,\nb)`` now"),
        ("ends with::", "ends with:\\:"),
    ],
)
def test_md_inline(markdown, rst):
    assert gen.md_to_rst(markdown) == rst + "\n"


def test_md_blocks():
    markdown = (
        "# Title\n"
        "\n"
        "Intro line one\n"
        "line two.\n"
        "- item one\n"
        "  continued\n"
        "- item two\n"
        "  - nested\n"
        "\n"
        "3. third\n"
        "4. fourth\n"
        "\n"
        "```\n"
        "code here\n"
        "```\n"
        "## Sub\n"
    )
    assert gen.md_to_rst(markdown) == (
        "Title\n"
        "-----\n"
        "\n"
        "Intro line one\n"
        "line two.\n"
        "\n"
        "- item one\n"
        "  continued\n"
        "\n"
        "- item two\n"
        "\n"
        "  - nested\n"
        "\n"
        "3. third\n"
        "4. fourth\n"
        "\n"
        "::\n"
        "\n"
        "   code here\n"
        "\n"
        "Sub\n"
        "~~~\n"
    )


def test_wide_title_underline():
    """docutils measures titles in columns: a Chinese character takes two."""
    assert gen.md_to_rst("# 贵宾") == "贵宾\n----\n"
