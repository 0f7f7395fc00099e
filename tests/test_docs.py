"""The README's documentation that is derived from code stays in step with it (like datasette's
tests/test_docs.py)."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import hzeval
from hzeval.errors import EXIT_MEANING, ExitCode, HzevalError, exit_status_table

ROOT = Path(__file__).resolve().parents[1]


def _readme_block(name: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- {name}:start -->\n(.*?)\n<!-- {name}:end -->", text, re.S)
    assert match, f"README.md has no {name} block"
    return match.group(1)


def test_readme_exit_status_table_is_exit_code():
    block = _readme_block("exit-status")
    assert block == exit_status_table(), "README's exit-status table differs from hzeval.errors.ExitCode: regenerate it"
    rows = [line.split("|")[1:3] for line in block.splitlines()[2:]]
    assert [(int(code), name.strip().strip("`")) for code, name in rows] == [(c.value, c.name) for c in ExitCode]


def test_every_exit_code_has_a_meaning_and_design_values():
    assert set(EXIT_MEANING) == set(ExitCode)
    assert {c.name: c.value for c in ExitCode} == {
        "OK": 0,
        "INTERNAL": 1,
        "USAGE": 2,
        "BAD_INPUT": 3,
        "BAD_CONFIG": 4,
        "REFUSED": 5,
        "DELIVERY": 6,
        "IO": 74,
        "BUSY": 75,
        "INTERRUPTED": 130,
    }


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_error_class_lives_in_errors_and_takes_its_code_from_exit_code():
    for module in pkgutil.walk_packages(hzeval.__path__, "hzeval."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    classes = list(_subclasses(HzevalError))
    assert {c.__module__ for c in classes} == {"hzeval.errors"}, [c for c in classes if c.__module__ != "hzeval.errors"]
    for cls in [HzevalError, *classes]:
        assert isinstance(cls.exit_code, ExitCode), cls


def test_help_ends_with_every_exit_status():
    from click.testing import CliRunner

    from hzeval.cli.main import cli
    from hzeval.errors import ExitCode

    out = CliRunner().invoke(cli, ["--help"], terminal_width=200).output
    tail = out.split("退出状态 / exit status:", 1)[1]
    listed = [line.split()[:2] for line in tail.strip().splitlines()]
    assert listed == [[str(c.value), c.name] for c in ExitCode]
