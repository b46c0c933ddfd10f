#!/usr/bin/env python3
"""Small stdlib-only helpers shared by scripts/test and scripts/run.

Kept in Python (not bash) so that tests/test_scripts.py can test them.

    python3 scripts/_vip.py addons [ROOT]   vip_* add-ons in dependency order, one a line
    python3 scripts/_vip.py counts LOG      "PASSED FAILED SKIPPED" from pytest's closing line
"""

import ast
import re
import sys
from pathlib import Path

ADDON_GLOB = "vip_*/__manifest__.py"


def read_manifest(path):
    """Return the manifest dict of ``path`` without executing it."""
    return ast.literal_eval(Path(path).read_text(encoding="utf-8"))


def addons_in_dependency_order(root):
    """Installable ``vip_*`` add-ons under ``root``, each after the vip_* add-ons it depends on.

    Ties are broken by name so the order is stable. A dependency cycle raises ValueError.
    """
    root = Path(root)
    deps = {}
    for manifest_path in sorted(root.glob(ADDON_GLOB)):
        manifest = read_manifest(manifest_path)
        if manifest.get("installable", True) is False:
            continue
        deps[manifest_path.parent.name] = set(manifest.get("depends", []))
    for name in deps:
        deps[name] &= set(deps)  # only ordering among the repository's own add-ons matters
    ordered, done = [], set()
    while len(ordered) < len(deps):
        ready = sorted(n for n in deps if n not in done and deps[n] <= done)
        if not ready:
            cycle = sorted(n for n in deps if n not in done)
            raise ValueError("dependency cycle among add-ons: " + ", ".join(cycle))
        ordered.extend(ready)
        done.update(ready)
    return ordered


_SUMMARY_RE = re.compile(r"\b(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected)\b")
_CLOSING_RE = re.compile(r"(?:\d+ \w+|no tests ran).* in [\d.]+s")


def pytest_counts(text):
    """(passed, failed, skipped) from the last pytest closing line in ``text``.

    Errors count as failures, xpassed as passed, xfailed as skipped; deselected is ignored.
    Returns None when no closing line is found (pytest crashed or never ran).
    """
    closing = [line for line in text.splitlines() if _CLOSING_RE.search(line)]
    if not closing:
        return None
    counts = {}
    for number, word in _SUMMARY_RE.findall(closing[-1]):
        word = "error" if word.startswith("error") else word
        counts[word] = counts.get(word, 0) + int(number)
    passed = counts.get("passed", 0) + counts.get("xpassed", 0)
    failed = counts.get("failed", 0) + counts.get("error", 0)
    skipped = counts.get("skipped", 0) + counts.get("xfailed", 0)
    return passed, failed, skipped


def main(argv):
    if len(argv) >= 1 and argv[0] == "addons":
        root = argv[1] if len(argv) > 1 else Path(__file__).resolve().parent.parent
        try:
            print("\n".join(addons_in_dependency_order(root)))
        except (ValueError, SyntaxError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    if len(argv) == 2 and argv[0] == "counts":
        counts = pytest_counts(Path(argv[1]).read_text(encoding="utf-8", errors="replace"))
        if counts is None:
            return 1
        print(*counts)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
