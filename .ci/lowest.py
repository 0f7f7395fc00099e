"""The lowest versions pyproject.toml allows, as pip constraints (``make test-lowest``, issue 28).

Every runtime dependency is pinned at its ``>=`` floor, and so are the few dev extras the job's tests
import; the job installs them in a fresh venv and runs the metric and report tests, so a floor the code
does not work with fails CI. Prints the constraints (``name==floor``, one a line) on stdout."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: the dev extras the job's tests need (tests/test_metrics.py, tests/test_reports.py), also at their floors
TEST_EXTRAS = ("pytest", "openpyxl", "nbval")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _floor(spec: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:\[[^\]]*\])?\s*(.*)$", spec)
    assert m, spec
    name, rest = _norm(m.group(1)), m.group(2)
    floor = re.search(r">=\s*([0-9][^,;\s]*)", rest)
    if floor is None:
        raise SystemExit(f"{name} has no >= floor in pyproject.toml: the lowest-versions job cannot pin it")
    return name, floor.group(1)


def floors(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, str]:
    """``{name: floor}``: every runtime dependency, then the dev extras of ``TEST_EXTRAS``."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    out = dict(_floor(s) for s in project["dependencies"])
    dev = dict(_floor(s) for s in project["optional-dependencies"]["dev"] if _norm(s.split(">")[0]) in TEST_EXTRAS)
    missing = set(TEST_EXTRAS) - set(dev)
    if missing:
        raise SystemExit(f"not in pyproject's dev extra: {sorted(missing)}")
    return {**out, **dev}


if __name__ == "__main__":
    sys.stdout.write("".join(f"{name}=={floor}\n" for name, floor in floors().items()))
