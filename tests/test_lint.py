"""The house checks (issue 23, item 6): ruff (lint and format) clean on hzeval/ and tests/, mypy
clean on hzeval/. Run with the interpreter of the suite, so the tools of the dev extra are used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


def _needs(module: str) -> None:
    """The tools come with the dev extra (``make test`` installs it): a bare machine fails, never skips."""
    if _run(module, "--version").returncode != 0:
        pytest.fail(f"{module} is not installed: run make test, or pip install -e '.[dev]'")


def test_ruff_check_is_clean():
    _needs("ruff")
    r = _run("ruff", "check", "--no-cache", "hzeval", "tests")
    assert r.returncode == 0, r.stdout + r.stderr


def test_ruff_format_is_clean():
    _needs("ruff")
    r = _run("ruff", "format", "--check", "--no-cache", "hzeval", "tests")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_is_clean():
    _needs("mypy")
    r = _run("mypy")  # files and options from [tool.mypy] in pyproject.toml
    assert r.returncode == 0 and "Success: no issues found" in r.stdout, r.stdout + r.stderr
