"""The repository's own tooling: shell syntax, wiring, and the helpers in scripts/_vip.py."""

import os
import shutil
import subprocess
import sys

import pytest
from conftest import REPO, addon_names, load_pure_module

SHELL_SCRIPTS = ["scripts/test", "scripts/run", "scripts/_odoo_env.sh", ".ci/run"]

vip = load_pure_module("scripts/_vip.py", name="vip_scripts_helper")


@pytest.mark.parametrize("script", SHELL_SCRIPTS)
def test_bash_syntax(script):
    result = subprocess.run(
        ["bash", "-n", str(REPO / script)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_shellcheck():
    shellcheck = shutil.which(
        "shellcheck", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    )
    if shellcheck is None:
        pytest.skip("shellcheck not installed (it comes with requirements-dev.txt)")
    result = subprocess.run(
        [shellcheck, "-x", *SHELL_SCRIPTS], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("script", ["scripts/test", "scripts/run", ".ci/run"])
def test_executable(script):
    assert os.access(REPO / script, os.X_OK), f"{script} is not executable (chmod +x)"


def test_ci_runs_scripts_test():
    lines = [
        line.strip()
        for line in (REPO / ".ci/run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert "set -euo pipefail" in lines
    assert lines[-1] == "scripts/test", ".ci/run must end by running the README's test command"


def test_scripts_test_help():
    result = subprocess.run(
        [str(REPO / "scripts/test"), "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "--no-odoo" in result.stdout and "VIP_TEST_TEMPLATE" in result.stdout


def test_scripts_test_rejects_unknown_argument():
    result = subprocess.run(
        [str(REPO / "scripts/test"), "--bogus"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "unknown argument" in result.stderr


def test_no_odoo_installer_in_scripts():
    """The project uses the Odoo it is pointed at; it never fetches or installs one."""
    for script in SHELL_SCRIPTS:
        text = (REPO / script).read_text()
        for needle in ("git clone", "pip install odoo", "nightly.odoo.com", "apt-get install"):
            assert needle not in text, f"{script} contains {needle!r}"


def _manifest(tmp_path, name, depends, installable=True):
    (tmp_path / name).mkdir()
    (tmp_path / name / "__manifest__.py").write_text(
        repr({"name": name, "depends": depends, "installable": installable})
    )


def test_addons_in_dependency_order(tmp_path):
    _manifest(tmp_path, "vip_survey", ["survey", "vip_service_ticket", "vip_customer"])
    _manifest(tmp_path, "vip_service_ticket", ["vip_customer", "mail"])
    _manifest(tmp_path, "vip_loyalty", ["vip_customer"])
    _manifest(tmp_path, "vip_customer", ["contacts"])
    _manifest(tmp_path, "vip_old", ["base"], installable=False)
    (tmp_path / "not_vip").mkdir()
    (tmp_path / "not_vip" / "__manifest__.py").write_text("{'depends': []}")
    assert vip.addons_in_dependency_order(tmp_path) == [
        "vip_customer",
        "vip_loyalty",
        "vip_service_ticket",
        "vip_survey",
    ]


def test_addons_dependency_cycle(tmp_path):
    _manifest(tmp_path, "vip_a", ["vip_b"])
    _manifest(tmp_path, "vip_b", ["vip_a"])
    with pytest.raises(ValueError, match="cycle"):
        vip.addons_in_dependency_order(tmp_path)


def test_addons_command_matches_repository():
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts/_vip.py"), "addons", str(REPO)],
        capture_output=True,
        text=True,
        check=True,
    )
    listed = result.stdout.split()
    installable = [
        a
        for a in addon_names()
        if vip.read_manifest(REPO / a / "__manifest__.py").get("installable", True)
    ]
    assert sorted(listed) == sorted(installable)


@pytest.mark.parametrize(
    ("closing", "expected"),
    [
        ("============ 12 passed in 3.21s ============", (12, 0, 0)),
        ("==== 2 failed, 10 passed, 1 skipped, 3 warnings in 40.00s ====", (10, 2, 1)),
        ("==== 1 passed, 2 errors in 1.0s ====", (1, 2, 0)),
        ("==== 1 error in 0.50s ====", (0, 1, 0)),
        ("==== 3 passed, 1 xfailed, 1 xpassed, 4 deselected in 2s ====", (4, 0, 1)),
        ("==== no tests ran in 0.01s ====", (0, 0, 0)),
        ("5 passed, 1 skipped in 0.12s", (5, 0, 1)),
    ],
)
def test_pytest_counts(closing, expected):
    text = f"collected 12 items\n\ntest_x.py ....\nsome line with 99 passed words\n{closing}\n"
    assert vip.pytest_counts(text) == expected


def test_pytest_counts_without_closing_line():
    assert vip.pytest_counts("ImportError: no module named odoo\n") is None
