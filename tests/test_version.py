"""The version in one place, and each run naming the code that made it (DESIGN §10)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from hzeval import __version__
from hzeval.util.version import code_version, git_revision

ROOT = Path(__file__).resolve().parents[1]


def test_the_version_is_written_once():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "version" not in project and "version" in project["dynamic"]  # read from hzeval.__version__


def test_a_checkout_adds_its_commit():
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short=7", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert git_revision() in (head, f"{head}.dirty")
    assert code_version() == f"{__version__}+g{git_revision()}"
    out = subprocess.run(
        [sys.executable, "-m", "hzeval.cli", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == f"hzeval, version {code_version()}"


def test_each_run_records_the_code_version(sample_warehouse):
    import duckdb

    con = duckdb.connect(str(sample_warehouse), read_only=True)
    try:
        versions = {v for (v,) in con.execute("select distinct package_version from runs").fetchall()}
    finally:
        con.close()
    assert versions == {code_version()}
