#!/usr/bin/env python3
"""Generate each add-on's README.rst from its readme/*.md fragments and manifest.

The layout is the one of OCA's ``oca-gen-addon-readme`` (maintainer-tools): title,
badges, DESCRIPTION, table of contents, Configuration / Usage / Known issues / Roadmap
sections, Bug Tracker and Credits (Authors, Contributors, Maintainers). That tool needs
pandoc and PyPI; this script needs only the standard library. It converts the small
Markdown subset the fragments use: ``#`` headings, paragraphs, ``-`` / ``1.`` lists
(nested by indentation), fenced code blocks, inline code, bold, italics and links.

Usage::

    scripts/gen_readme.py                # rewrite README.rst of every vip_* add-on
    scripts/gen_readme.py vip_customer   # only these add-ons
    scripts/gen_readme.py --check        # exit 1 if a README.rst is not up to date

It also writes static/description/index.html (the README as HTML, what Odoo shows on an
application's page) when docutils is importable, as in Odoo's python; the HTML carries the
README's source digest, so its freshness is checked without docutils.

Run it after editing a readme/ fragment or the manifest keys the README shows (name,
author, license, version, website, maintainers); tests/test_readme.py fails otherwise.
"""

import argparse
import ast
import hashlib
import json
import re
import sys
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# (fragment, section title) in the order of oca-gen-addon-readme; DESCRIPTION has no title.
SECTION_FRAGMENTS = [
    ("DESCRIPTION", None),
    ("CONTEXT", "Use Cases / Context"),
    ("INSTALL", "Installation"),
    ("CONFIGURE", "Configuration"),
    ("USAGE", "Usage"),
    ("DEVELOP", "Development"),
    ("ROADMAP", "Known issues / Roadmap"),
    ("HISTORY", "Changelog"),
]
CREDIT_FRAGMENTS = [("CONTRIBUTORS", "Contributors"), ("CREDITS", "Other credits")]
FRAGMENTS = [name for name, _title in SECTION_FRAGMENTS + CREDIT_FRAGMENTS]
# Every add-on must have these (the project's conventions and OCA's).
REQUIRED_FRAGMENTS = ["DESCRIPTION", "CONFIGURE", "USAGE", "CONTRIBUTORS"]
# The manifest keys the README shows: only they make a README.rst stale.
MANIFEST_KEYS = ["name", "version", "website", "author", "license", "maintainers"]

# Section adornments: the document title is overlined "=", sections "=", credits "-".
# Headings inside a fragment start one level below the section holding it.
HEADING_STYLES = {
    "DESCRIPTION": ["=", "-", "~", "^"],
    "section": ["-", "~", "^", '"'],
    "credits": ["~", "^", '"', "'"],
}

LICENSE_BADGES = {
    "LGPL-3": (
        "https://img.shields.io/badge/license-LGPL--3-blue.png",
        "http://www.gnu.org/licenses/lgpl-3.0-standalone.html",
        "License: LGPL-3",
    ),
    "AGPL-3": (
        "https://img.shields.io/badge/license-AGPL--3-blue.png",
        "http://www.gnu.org/licenses/agpl-3.0-standalone.html",
        "License: AGPL-3",
    ),
}
STATUS_BADGES = {
    "alpha": ("Alpha", "red"),
    "beta": ("Beta", "yellow"),
    "production/stable": ("Production%2FStable", "green"),
    "mature": ("Mature", "brightgreen"),
}
GITHUB_RE = re.compile(r"^https?://github\.com/([^/]+)/([^/#?]+?)(?:\.git)?/?$")


# ---------------------------------------------------------------------- Markdown -> RST
LIST_RE = re.compile(r"^( *)([-*+]|\d{1,9}[.)])( +|$)(.*)$")
HEADING_RE = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE_RE = re.compile(r"^ *(```|~~~)")
INLINE_RE = re.compile(
    r"(?P<code>`+)(?P<code_text>.+?)(?P=code)(?!`)"
    r"|\[(?P<link_text>[^\]\n]+)\]\((?P<link_url>[^)\s]+)\)"
    r"|<(?P<autolink>https?://[^>\s]+)>"
    r"|\*\*(?P<bold>\S(?:.*?\S)?)\*\*"
    r"|(?<![\w*])\*(?P<em>[^\s*](?:[^*]*?[^\s*])?)\*(?![\w*])",
    re.DOTALL,
)


def _text_width(text):
    """Columns ``text`` takes in a monospace font, as docutils measures titles."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def escape_rst(text):
    r"""Plain text made inert in reStructuredText.

    Backslashes, ``|`` (substitutions), backticks and ``*`` are escaped, and so is a
    ``_`` not followed by a letter or digit (``name_`` and ``name__`` are hyperlink
    references in RST).
    """
    text = text.replace("\\", "\\\\")
    text = re.sub(r"([|`*])", r"\\\1", text)
    return re.sub(r"_(?=\W|_|$)", r"\\_", text)


def _may_open(char):
    """Whether RST inline markup may start right after ``char``."""
    return (
        not char
        or char.isspace()
        or char in "-:/'\"<([{"
        or unicodedata.category(char) in ("Ps", "Pi", "Pf", "Pd", "Po")
    )


def _may_close(char):
    """Whether RST inline markup may end right before ``char``."""
    return (
        not char
        or char.isspace()
        or char in "-.,:;!?\\/'\")]}>"
        or unicodedata.category(char) in ("Pe", "Pi", "Pf", "Pd", "Po")
    )


def _inline_markup(start, content, end, before, after):
    r"""RST inline markup, with an escaped space (``\ ``, rendered as nothing) where the
    text touching it would keep RST from recognising it (e.g. a letter)."""
    prefix = "" if _may_open(before) else "\\ "
    suffix = "" if _may_close(after) else "\\ "
    return f"{prefix}{start}{content}{end}{suffix}"


def convert_inline(text):
    """Markdown inline syntax of ``text`` (possibly several lines) to RST."""
    out = []
    pos = 0
    for match in INLINE_RE.finditer(text):
        out.append(escape_rst(text[pos : match.start()]))
        before = text[match.start() - 1] if match.start() else ""
        after = text[match.end()] if match.end() < len(text) else ""
        if match.group("code_text") is not None:
            code = match.group("code_text")
            if code.startswith(" ") and code.endswith(" ") and code.strip():
                code = code[1:-1]
            markup = _inline_markup("``", code, "``", before, after)
        elif match.group("link_text") is not None:
            label = escape_rst(match.group("link_text")).replace("<", "\\<")
            target = f"{label} <{match.group('link_url')}>"
            markup = _inline_markup("`", target, "`__", before, after)
        elif match.group("autolink") is not None:
            markup = match.group("autolink")
        elif match.group("bold") is not None:
            markup = _inline_markup("**", escape_rst(match.group("bold")), "**", before, after)
        else:
            markup = _inline_markup("*", escape_rst(match.group("em")), "*", before, after)
        out.append(markup)
        pos = match.end()
    out.append(escape_rst(text[pos:]))
    return "".join(out)


def _indent_of(line):
    return len(line) - len(line.lstrip(" "))


def parse_blocks(lines):
    """Markdown ``lines`` (tabs expanded) to blocks:
    ``("heading", level, text)``, ``("para", [lines])``, ``("code", [lines])``,
    ``("list", ordered, start, [[blocks], ...])``."""
    blocks = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        fence = FENCE_RE.match(line)
        if fence:
            marker, indent, code = fence.group(1), _indent_of(line), []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(marker):
                code.append(lines[i][indent:] if _indent_of(lines[i]) >= indent else lines[i])
                i += 1
            blocks.append(("code", code))
            i += 1  # the closing fence
            continue
        heading = HEADING_RE.match(line)
        if heading:
            blocks.append(("heading", len(heading.group(1)), heading.group(2)))
            i += 1
            continue
        if LIST_RE.match(line):
            block, i = _parse_list(lines, i)
            blocks.append(block)
            continue
        para = []
        while i < len(lines) and lines[i].strip():
            if para and (
                LIST_RE.match(lines[i]) or HEADING_RE.match(lines[i]) or FENCE_RE.match(lines[i])
            ):
                break
            para.append(lines[i].strip())
            i += 1
        blocks.append(("para", para))
    return blocks


def _parse_list(lines, i):
    first = LIST_RE.match(lines[i])
    indent = len(first.group(1))
    ordered = first.group(2)[0].isdigit()
    start = int(first.group(2)[:-1]) if ordered else 1
    items = []
    while i < len(lines):
        match = LIST_RE.match(lines[i])
        if not match or len(match.group(1)) != indent or match.group(2)[0].isdigit() != ordered:
            break
        content_indent = indent + len(match.group(2)) + max(len(match.group(3)), 1)
        item_lines = [match.group(4)]
        i += 1
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                # a blank line: the item goes on only if indented content follows
                j = i
                while j < len(lines) and not lines[j].strip():
                    j += 1
                if j < len(lines) and _indent_of(lines[j]) >= content_indent:
                    item_lines.extend([""] * (j - i))
                    i = j
                    continue
                break
            if _indent_of(line) >= content_indent:
                item_lines.append(line[content_indent:])
            elif LIST_RE.match(line) and _indent_of(line) <= indent:
                break  # the next item of this list, or of an outer one
            elif HEADING_RE.match(line) or FENCE_RE.match(line):
                break
            else:
                item_lines.append(line.strip())  # lazy continuation of a paragraph
            i += 1
        items.append(parse_blocks(item_lines))
        # a blank line between items keeps the list going
        j = i
        while j < len(lines) and not lines[j].strip():
            j += 1
        if j < len(lines) and j != i:
            nxt = LIST_RE.match(lines[j])
            if nxt and len(nxt.group(1)) == indent and nxt.group(2)[0].isdigit() == ordered:
                i = j
    return ("list", ordered, start, items), i


def render_blocks(blocks, styles):
    """RST lines of ``blocks``; ``styles`` are the adornments of heading levels 1, 2..."""
    chunks = []
    for block in blocks:
        kind = block[0]
        if kind == "heading":
            text = convert_inline(block[2])
            style = styles[min(block[1], len(styles)) - 1]
            chunks.append([text, style * _text_width(text)])
        elif kind == "para":
            lines = convert_inline("\n".join(block[1])).split("\n")
            if lines[-1].endswith("::"):
                lines[-1] = lines[-1][:-1] + "\\:"  # not a literal block marker
            chunks.append(lines)
        elif kind == "code":
            chunks.append(["::", ""] + [f"   {line}" if line.strip() else "" for line in block[1]])
        else:
            chunks.append(_render_list(block, styles))
    out = []
    for chunk in chunks:
        if out:
            out.append("")
        out.extend(chunk)
    return out


def _render_list(block, styles):
    _kind, ordered, start, items = block
    rendered = [render_blocks(item, styles) or [""] for item in items]
    loose = any(len(item) > 1 for item in items)
    out = []
    for number, lines in enumerate(rendered, start=start):
        marker = f"{number}. " if ordered else "- "
        if out and loose:
            out.append("")
        out.append((marker + lines[0]).rstrip())
        out.extend(" " * len(marker) + line if line else "" for line in lines[1:])
    return out


def md_to_rst(text, styles=None):
    """reStructuredText of the Markdown ``text`` (the subset described in the module doc)."""
    lines = text.expandtabs(4).replace("\r\n", "\n").split("\n")
    rst = render_blocks(parse_blocks(lines), styles or HEADING_STYLES["section"])
    return "\n".join(rst).strip("\n") + "\n" if rst else ""


# ---------------------------------------------------------------------- README.rst
def read_manifest(addon_dir):
    return ast.literal_eval((Path(addon_dir) / "__manifest__.py").read_text(encoding="utf-8"))


def read_fragments(addon_dir):
    """``{FRAGMENT: markdown text}`` of the add-on's non-empty readme/*.md fragments."""
    fragments = {}
    for name in FRAGMENTS:
        path = Path(addon_dir) / "readme" / f"{name}.md"
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            if text.strip():
                fragments[name] = text
    return fragments


def source_digest(manifest, fragments):
    """Digest of what the README is made of (the shown manifest keys, the fragments)."""
    payload = json.dumps(
        {
            "manifest": {key: manifest.get(key) for key in MANIFEST_KEYS},
            "fragments": fragments,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return "sha256:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _title(text, char, overline=False):
    rule = char * _text_width(text)
    return [rule, text, rule] if overline else [text, rule]


def render_readme(addon_dir, manifest=None, fragments=None):
    """The README.rst text of the add-on in ``addon_dir``."""
    addon_dir = Path(addon_dir)
    addon = addon_dir.name
    manifest = read_manifest(addon_dir) if manifest is None else manifest
    fragments = read_fragments(addon_dir) if fragments is None else fragments
    github = GITHUB_RE.match(manifest.get("website") or "")
    if not github:
        raise ValueError(f"{addon}: the manifest's website must be the GitHub repository URL")
    org, repo = github.groups()
    branch = ".".join(manifest["version"].split(".")[:2])
    tree_url = f"https://github.com/{org}/{repo}/tree/{branch}/{addon}"

    out = _title(manifest["name"], "=", overline=True)
    out += [
        "",
        "..",
        "   !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        "   !! This file is generated by scripts/gen_readme.py   !!",
        "   !! from readme/*.md: changes here will be overwritten !!",
        "   !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        f"   !! source digest: {source_digest(manifest, fragments)}",
        "   !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        "",
    ]
    status, colour = STATUS_BADGES[manifest.get("development_status", "Beta").lower()]
    badges = [
        (
            f"https://img.shields.io/badge/maturity-{status}-{colour}.png",
            "https://odoo-community.org/page/development-status",
            status.replace("%2F", "/"),
        )
    ]
    if manifest.get("license") in LICENSE_BADGES:
        badges.append(LICENSE_BADGES[manifest["license"]])
    badge_repo = f"{org}%2F{repo}".replace("-", "--")
    badges.append(
        (
            f"https://img.shields.io/badge/github-{badge_repo}-lightgray.png?logo=github",
            tree_url,
            f"{org}/{repo}",
        )
    )
    for index, (image, target, alt) in enumerate(badges, start=1):
        out += [
            f".. |badge{index}| image:: {image}",
            f"    :target: {target}",
            f"    :alt: {alt}",
        ]
    out += ["", " ".join(f"|badge{index}|" for index in range(1, len(badges) + 1)), ""]

    def section(name, title, styles, underline):
        if name not in fragments:
            return []
        lines = [] if title is None else [*_title(title, underline), ""]
        return lines + md_to_rst(fragments[name], styles).rstrip("\n").split("\n") + [""]

    out += section("DESCRIPTION", None, HEADING_STYLES["DESCRIPTION"], "=")
    out += ["**Table of contents**", "", ".. contents::", "   :local:", ""]
    for name, title in SECTION_FRAGMENTS[1:]:
        out += section(name, title, HEADING_STYLES["section"], "=")

    issues = f"https://github.com/{org}/{repo}/issues"
    out += [
        *_title("Bug Tracker", "="),
        "",
        f"Bugs are tracked on `GitHub Issues <{issues}>`_.",
        "In case of trouble, please check there if your issue has already been reported.",
        "If you spotted it first, help us to smash it by providing a detailed and welcomed",
        f"`feedback <{issues}/new?body=module:%20{addon}%0Aversion:%20{branch}"
        "%0A%0A**Steps%20to%20reproduce**%0A-%20...%0A%0A**Current%20behavior**"
        "%0A%0A**Expected%20behavior**>`_.",
        "",
        "Do not contact contributors directly about support or help with technical issues.",
        "",
        *_title("Credits", "="),
        "",
    ]
    authors = [a.strip() for a in manifest.get("author", "").split(",") if a.strip()]
    if authors:
        out += [*_title("Authors", "-"), "", *(f"* {author}" for author in authors), ""]
    for name, title in CREDIT_FRAGMENTS:
        out += section(name, title, HEADING_STYLES["credits"], "-")
    out += [*_title("Maintainers", "-"), ""]
    maintainers = manifest.get("maintainers") or []
    if maintainers:
        for login in maintainers:
            out += [
                f".. |maintainer-{login}| image:: https://github.com/{login}.png?size=40px",
                f"    :target: https://github.com/{login}",
                f"    :alt: {login}",
            ]
        plural = "s" if len(maintainers) > 1 else ""
        out += [
            "",
            f"Current maintainer{plural}:",
            "",
            " ".join(f"|maintainer-{login}|" for login in maintainers),
            "",
        ]
    out += [
        f"This module is part of the `{org}/{repo} <{tree_url}>`_ project on GitHub.",
        "",
        "You are welcome to contribute.",
    ]
    return "\n".join(out) + "\n"


# docutils settings of oca-gen-addon-readme (from pypa/readme_renderer): no file
# inclusion, no raw HTML, stop on any warning.
RST2HTML_SETTINGS = {
    "file_insertion_enabled": False,
    "halt_level": 2,
    "math_output": "MathJax",
    "raw_enabled": False,
    "smart_quotes": True,
    "syntax_highlight": "short",
    # Odoo 18 warns about (deprecated) XML declarations in module descriptions
    "xml_declaration": False,
}
DIGEST_RE = re.compile(r"source digest: (sha256:[0-9a-f]{64})")


def render_index_html(readme_text):
    """static/description/index.html from the README (what Odoo shows on an
    application's page: it renders README.rst itself only for non-applications).
    Needs docutils (Odoo's python has it); None without it."""
    try:
        from docutils.core import publish_string
    except ImportError:
        return None
    html = publish_string(
        readme_text, writer_name="html4css1", settings_overrides=RST2HTML_SETTINGS
    )
    return html.decode("utf-8")


def digest_of(text):
    """The source digest a generated README.rst or index.html carries, or None."""
    match = DIGEST_RE.search(text or "")
    return match.group(1) if match else None


def addon_dirs(names=None):
    if names:
        return [REPO / name.rstrip("/") for name in names]
    return sorted(path.parent for path in REPO.glob("vip_*/__manifest__.py"))


def _read(path):
    return path.read_text(encoding="utf-8") if path.is_file() else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("addons", nargs="*", help="add-on directories (default: every vip_*)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a README.rst or index.html is stale",
    )
    args = parser.parse_args(argv)
    stale = []
    no_docutils = False
    for addon_dir in addon_dirs(args.addons):
        if not (addon_dir / "__manifest__.py").is_file():
            parser.error(f"{addon_dir.name}: no __manifest__.py")
        text = render_readme(addon_dir)
        readme = addon_dir / "README.rst"
        readme_changed = _read(readme) != text
        if readme_changed:
            stale.append(readme)
            if not args.check:
                readme.write_text(text, encoding="utf-8")
        index = addon_dir / "static" / "description" / "index.html"
        if not readme_changed and digest_of(_read(index)) == digest_of(text):
            continue
        if args.check:
            stale.append(index)
            continue
        html = render_index_html(text)
        if html is None:
            no_docutils = True
            continue
        index.parent.mkdir(parents=True, exist_ok=True)
        index.write_text(html, encoding="utf-8")
        stale.append(index)
    for path in stale:
        print(f"{'stale' if args.check else 'written'}: {path.relative_to(REPO)}")
    if no_docutils:
        print(
            "index.html not written: docutils is missing; run this script with Odoo's python",
            file=sys.stderr,
        )
        return 1
    if args.check and stale:
        print("run scripts/gen_readme.py and commit what it writes", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
