"""pyproject.toml and environment.yml declare the same dependencies."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

#: conda-forge names that differ from the PyPI names
CONDA_TO_PYPI: dict[str, str] = {}
#: conda packages that are not Python packages (the Spark extra's Java runtime)
NOT_PYPI = ("openjdk",)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _parse(spec: str) -> tuple[str, str | None]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:\[[^\]]*\])?\s*(?:>=\s*([0-9][^,;\s]*))?", spec)
    assert m, spec
    return _norm(CONDA_TO_PYPI.get(m.group(1), m.group(1))), m.group(2)


def _pyproject() -> dict[str, str | None]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extras = data["project"]["optional-dependencies"]
    specs = data["project"]["dependencies"] + extras["dev"] + extras["spark"]
    return dict(_parse(s) for s in specs)


def _environment() -> dict[str, str | None]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            name, floor = _parse(dep)
            if name not in ("python", "pip", *NOT_PYPI):
                out[name] = floor
    return out


def test_same_dependency_names():
    py, env = _pyproject(), _environment()
    assert set(py) == set(env), (
        f"only in pyproject: {set(py) - set(env)}; only in environment.yml: {set(env) - set(py)}"
    )


def test_same_version_floors():
    py, env = _pyproject(), _environment()
    diff = {k: (py[k], env.get(k)) for k in py if py[k] != env.get(k)}
    assert not diff, f"version floors differ (pyproject, environment.yml): {diff}"


def test_python_floor_matches():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    floor = data["project"]["requires-python"].removeprefix(">=")
    assert f"python>={floor}" in [d for d in env["dependencies"] if isinstance(d, str)]
    assert any(isinstance(d, dict) and "-e ." in d.get("pip", []) for d in env["dependencies"])


def test_the_lock_pins_every_runtime_dependency_within_its_range():
    """requirements.lock (``make lock``) pins each direct runtime dependency at a version pyproject allows."""
    from packaging.requirements import Requirement

    pins = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[_norm(name)] = version.strip()
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for spec in data["project"]["dependencies"]:
        req = Requirement(spec)
        name = _norm(req.name)
        assert name in pins, f"{name} is not pinned in requirements.lock (make lock)"
        assert req.specifier.contains(pins[name]), f"{name}=={pins[name]} is outside {req.specifier} (make lock)"


def _lowest_job():
    import importlib.util

    spec = importlib.util.spec_from_file_location("ci_lowest", ROOT / ".ci" / "lowest.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_lowest_versions_job_pins_every_floor_of_pyproject():
    """``make test-lowest`` (issue 28) pins each runtime dependency, and the dev extras its tests import, at the
    ``>=`` floor pyproject declares: the constraints are generated from pyproject, so they cannot drift; each pin
    lies inside its own range (an upper bound that excluded its floor would be caught here)."""
    from packaging.requirements import Requirement

    lowest = _lowest_job()
    pins = lowest.floors()
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = data["project"]["dependencies"] + [
        s for s in data["project"]["optional-dependencies"]["dev"] if _norm(Requirement(s).name) in lowest.TEST_EXTRAS
    ]
    assert len(wanted) == len(pins)
    for spec in wanted:
        req = Requirement(spec)
        name = _norm(req.name)
        floor = _parse(spec)[1]
        assert pins[name] == floor, (name, pins[name], floor)
        assert req.specifier.contains(floor), f"{name}: its floor {floor} is outside {req.specifier}"
    assert pins["duckdb"] == "2.0" and pins["click"] == "8.2"  # the floors the job found true (pyproject comments)
    # the Makefile installs exactly the test extras the job pins
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    install = next(line for line in makefile.splitlines() if "lowest.txt -e ." in line)
    assert install.split("-e .", 1)[1].split() == list(lowest.TEST_EXTRAS)
    assert "make test-lowest" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_ci_runs_the_offline_install_with_no_index():
    """``make test-offline`` (README, 离线安装): the wheelhouse installed with the index switched off, then a job
    run outside the checkout; ``.ci/run`` calls it."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "PIP_NO_INDEX=1" in makefile and "--no-index --find-links $(CURDIR)/wheelhouse hzeval" in makefile
    assert "test-offline: wheelhouse" in makefile
    assert "make test-offline" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
