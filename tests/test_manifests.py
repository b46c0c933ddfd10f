"""Manifests of the vip_* add-ons: readable without Odoo, complete, pointing at real files."""

import ast
import re

import pytest
from conftest import REPO, addon_names, read_manifest

ADDONS = addon_names()

# Which vip_* add-ons each add-on may depend on: the suite is layered on vip_customer.
# A new vip_* add-on must be given its place here.
ALLOWED_VIP_DEPENDS = {
    "vip_customer": set(),
    "vip_loyalty": {"vip_customer"},
    "vip_service_ticket": {"vip_customer"},
    "vip_survey": {"vip_customer", "vip_service_ticket"},
}

# Conventions: keys in this order (keys not listed may sit anywhere).
KEY_ORDER = [
    "name",
    "summary",
    "version",
    "category",
    "website",
    "author",
    "license",
    "depends",
    "external_dependencies",
    "data",
    "demo",
    "assets",
    "application",
]

VERSION_RE = re.compile(r"^18\.0\.\d+\.\d+\.\d+$")


def test_addons_found():
    """The checks below are parametrized by add-on: make an empty repository visible."""
    if not ADDONS:
        pytest.skip("no vip_* add-on yet")
    assert all(name.startswith("vip_") for name in ADDONS)


@pytest.mark.parametrize("addon", ADDONS)
def test_manifest_is_a_dict_literal(addon):
    source = (REPO / addon / "__manifest__.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    assert len(tree.body) == 1 and isinstance(tree.body[0].value, ast.Dict), (
        f"{addon}/__manifest__.py must hold one dict literal and nothing else"
    )
    assert isinstance(ast.literal_eval(source), dict)


@pytest.mark.parametrize("addon", ADDONS)
def test_manifest_required_keys(addon):
    manifest = read_manifest(addon)
    for key in ("name", "version", "license", "depends", "author"):
        assert key in manifest, f"{addon}: manifest lacks {key!r}"
    assert isinstance(manifest["name"], str) and manifest["name"].strip()
    assert VERSION_RE.match(manifest["version"]), (
        f"{addon}: version {manifest['version']!r} is not 18.0.x.y.z"
    )
    assert manifest["license"] == "LGPL-3", f"{addon}: license must be LGPL-3"
    assert isinstance(manifest["author"], str) and manifest["author"].strip(), (
        f"{addon}: author must be a non-empty string"
    )
    assert isinstance(manifest["depends"], list) and manifest["depends"], (
        f"{addon}: depends must be a non-empty list"
    )
    assert "description" not in manifest, f"{addon}: no 'description' key, use readme/ instead"
    assert manifest.get("installable", True) is not False, f"{addon} is not installable"


@pytest.mark.parametrize("addon", ADDONS)
def test_manifest_key_order(addon):
    source = (REPO / addon / "__manifest__.py").read_text(encoding="utf-8")
    keys = [k.value for k in ast.parse(source).body[0].value.keys if isinstance(k, ast.Constant)]
    ordered = [k for k in keys if k in KEY_ORDER]
    expected = sorted(ordered, key=KEY_ORDER.index)
    assert ordered == expected, f"{addon}: manifest keys should come in the order {expected}"


@pytest.mark.parametrize("addon", ADDONS)
def test_manifest_files_exist(addon):
    manifest = read_manifest(addon)
    missing = [
        f"{key}: {path}"
        for key in ("data", "demo")
        for path in manifest.get(key, [])
        if not (REPO / addon / path).is_file()
    ]
    assert not missing, f"{addon}: manifest lists missing files: {missing}"


@pytest.mark.parametrize("addon", ADDONS)
def test_manifest_lists_files_once(addon):
    manifest = read_manifest(addon)
    listed = manifest.get("data", []) + manifest.get("demo", [])
    duplicates = sorted({path for path in listed if listed.count(path) > 1})
    assert not duplicates, f"{addon}: files listed twice in data/demo: {duplicates}"


@pytest.mark.parametrize("addon", ADDONS)
def test_dependency_direction(addon):
    assert addon in ALLOWED_VIP_DEPENDS, (
        f"{addon} is a new add-on: give it its allowed vip_* dependencies in "
        "ALLOWED_VIP_DEPENDS (tests/test_manifests.py)"
    )
    vip_depends = {d for d in read_manifest(addon)["depends"] if d.startswith("vip_")}
    forbidden = vip_depends - ALLOWED_VIP_DEPENDS[addon]
    assert not forbidden, (
        f"{addon} may depend on {sorted(ALLOWED_VIP_DEPENDS[addon]) or 'no vip_* add-on'}, "
        f"not on {sorted(forbidden)}"
    )


@pytest.mark.parametrize("addon", ADDONS)
def test_vip_dependencies_present(addon):
    missing = [
        d for d in read_manifest(addon)["depends"] if d.startswith("vip_") and d not in ADDONS
    ]
    assert not missing, f"{addon} depends on add-ons not in the repository: {missing}"


@pytest.mark.parametrize("addon", ADDONS)
def test_external_python_dependencies_in_requirements(addon):
    python_deps = read_manifest(addon).get("external_dependencies", {}).get("python", [])
    requirements = (REPO / "requirements.txt").read_text(encoding="utf-8").lower()
    listed = {
        re.split(r"[\s<>=!~;\[]", line.strip(), maxsplit=1)[0].replace("_", "-")
        for line in requirements.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    missing = [d for d in python_deps if d.lower().replace("_", "-") not in listed]
    assert not missing, f"{addon}: external python dependencies not in requirements.txt: {missing}"
