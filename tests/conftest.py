"""Helpers for the Odoo-free checks of the repository (run with `pytest -p no:odoo tests/`).

Nothing here imports Odoo. Add-ons are discovered generically: every ``vip_*/__manifest__.py``
at the repository root.

Module authors testing pure-Python helpers of an add-on (e.g. ``vip_customer/tools/tiers.py``)
import them by path, without importing the add-on package (whose ``__init__`` imports Odoo)::

    from conftest import load_pure_module

    tiers = load_pure_module("vip_customer/tools/tiers.py")

or use the ``load_pure_module`` fixture. The helper file may import the standard library and
third-party packages of requirements-dev.txt, not ``odoo`` and not its own package.
"""

import ast
import importlib.abc
import importlib.util
import re
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def addon_dirs():
    """Directories of every ``vip_*`` add-on (with a manifest), sorted by name."""
    return sorted(path.parent for path in REPO.glob("vip_*/__manifest__.py"))


def addon_names():
    return [path.name for path in addon_dirs()]


def read_manifest(addon):
    """The manifest of ``addon`` (a name or a directory) as a dict, never executed."""
    path = Path(addon) if Path(addon).is_absolute() else REPO / addon
    return ast.literal_eval((path / "__manifest__.py").read_text(encoding="utf-8"))


def addon_files(suffix, subdir=None):
    """Files ending with ``suffix`` under every add-on (or only under its ``subdir``)."""
    files = []
    for addon in addon_dirs():
        base = addon / subdir if subdir else addon
        files.extend(p for p in sorted(base.rglob(f"*{suffix}")) if "__pycache__" not in p.parts)
    return files


def rel(path):
    """``path`` relative to the repository, for readable test ids and messages."""
    return str(Path(path).resolve().relative_to(REPO))


class _NoOdooFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname == "odoo" or fullname.startswith("odoo."):
            raise ImportError(
                f"{fullname}: a pure helper loaded by load_pure_module() must not import Odoo"
            )
        # not Odoo: let the other finders look


@contextmanager
def _odoo_forbidden():
    finder = _NoOdooFinder()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def load_pure_module(path, name=None):
    """Import the Python file ``path`` (absolute or relative to the repository) by itself.

    The file's package ``__init__`` is not run, and importing ``odoo`` from it raises
    ImportError, so the helper is proved Odoo-free. The module is registered in
    ``sys.modules`` under ``name`` (default: derived from the path) and returned.
    """
    path = Path(path)
    if not path.is_absolute():
        path = REPO / path
    if not path.is_file():
        raise FileNotFoundError(path)
    if name is None:
        name = "vip_pure__" + re.sub(r"\W", "_", str(path.relative_to(REPO).with_suffix("")))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        with _odoo_forbidden():
            spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


@pytest.fixture(name="load_pure_module")
def load_pure_module_fixture():
    """Fixture form of :func:`load_pure_module`."""
    return load_pure_module


@pytest.fixture(name="repo")
def repo_fixture():
    return REPO
