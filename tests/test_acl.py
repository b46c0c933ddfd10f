"""Every model the vip_* add-ons create has access rights (ir.model.access.csv rows)."""

import ast
import csv

import pytest
from conftest import addon_dirs, addon_files, rel

CONCRETE_BASES = {"Model", "TransientModel"}  # models.Model, models.TransientModel


def _base_name(node):
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def _class_string_attr(cls, attr):
    """Value of ``attr = '...'`` (or a list of strings) in the class body, else None."""
    for stmt in cls.body:
        if isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == attr for t in stmt.targets
        ):
            try:
                return ast.literal_eval(stmt.value)
            except (ValueError, TypeError, SyntaxError):
                return None
    return None


def new_models():
    """(model name, where) of each concrete model a vip_* add-on defines with ``_name``.

    Classes that only extend a model (``_inherit`` alone, or ``_name`` equal to an
    ``_inherit`` entry) and abstract models need no access rights of their own.
    """
    found = []
    for path in addon_files(".py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for cls in ast.walk(tree):
            if not isinstance(cls, ast.ClassDef):
                continue
            if not CONCRETE_BASES & {_base_name(b) for b in cls.bases}:
                continue
            name = _class_string_attr(cls, "_name")
            if not isinstance(name, str):
                continue
            inherit = _class_string_attr(cls, "_inherit") or []
            if isinstance(inherit, str):
                inherit = [inherit]
            if name in inherit:
                continue
            found.append((name, f"{rel(path)}:{cls.lineno}"))
    return found


def acl_models():
    """model_id:id values of every vip_*/security/ir.model.access.csv, module prefix removed."""
    models = set()
    for addon in addon_dirs():
        path = addon / "security" / "ir.model.access.csv"
        if not path.is_file():
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                model_ref = (row.get("model_id:id") or row.get("model_id/id") or "").strip()
                if model_ref:
                    models.add(model_ref.split(".")[-1])
    return models


NEW_MODELS = new_models()


@pytest.mark.parametrize(("model", "where"), NEW_MODELS, ids=[name for name, _ in NEW_MODELS])
def test_model_has_access_rights(model, where):
    xml_id = "model_" + model.replace(".", "_")
    assert xml_id in acl_models(), (
        f"{model} ({where}) has no row in any vip_*/security/ir.model.access.csv "
        f"(model_id:id {xml_id})"
    )


@pytest.mark.parametrize("addon", addon_dirs(), ids=[p.name for p in addon_dirs()])
def test_access_csv_well_formed(addon):
    path = addon / "security" / "ir.model.access.csv"
    if not path.is_file():
        pytest.skip(f"{addon.name} has no ir.model.access.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        required = {
            "id",
            "name",
            "model_id:id",
            "perm_read",
            "perm_write",
            "perm_create",
            "perm_unlink",
        }
        missing = required - set(reader.fieldnames or [])
        assert not missing, f"{rel(path)}: missing columns {sorted(missing)}"
        rows = list(reader)
    ids = [row["id"] for row in rows]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"{rel(path)}: duplicate ids {duplicates}"
    for number, row in enumerate(rows, start=2):
        for perm in ("perm_read", "perm_write", "perm_create", "perm_unlink"):
            assert row[perm].strip() in {"0", "1"}, f"{rel(path)}:{number}: {perm} must be 0 or 1"
