"""CLI failure handling: one line, Chinese and English, a meaningful exit status, no traceback."""

from __future__ import annotations

import errno
import subprocess
import sys
from pathlib import Path

import pytest

from hzeval.cli import main as cli

ROOT = Path(__file__).resolve().parents[1]


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "hzeval.cli.main", *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )


def test_missing_warehouse_is_a_clear_error(tmp_path):
    proc = run("--db", str(tmp_path / "none.duckdb"), "supervise", "--as-of", "2026-01-05")
    assert proc.returncode == 5
    assert "hzeval load" in proc.stderr and "Traceback" not in proc.stderr


def test_bad_as_of_is_a_clear_error(tmp_path):
    proc = run("--db", str(tmp_path / "w.duckdb"), "assess", "--year", "2025", "--as-of", "5 Jan")
    assert proc.returncode == 5 and "--as-of" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "磁盘已满"), (errno.EACCES, "没有权限")])
def test_disk_full_and_permission_errors_are_one_line(monkeypatch, capsys, code, words):
    def fail(*a, **k):
        raise OSError(code, "simulated", "/reports/2025/HZ002.html")

    monkeypatch.setattr(cli, "parse_as_of", fail)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--db", "x.duckdb", "assess", "--year", "2025", "--as-of", "2026-01-05"])
    assert exit_.value.code == 74
    err = capsys.readouterr().err
    assert words in err and "/reports/2025/HZ002.html" in err and "Traceback" not in err


def test_output_path_that_is_not_a_folder(tmp_path):
    from hzeval.store.warehouse import connect

    with connect(tmp_path / "w.duckdb"):
        pass
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    proc = run(
        "--db", str(tmp_path / "w.duckdb"), "supervise", "--as-of", "2026-01-05", "--csv", str(blocker / "x.csv")
    )
    assert proc.returncode == 74 and "无法写出" in proc.stderr and "x.csv" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_load_progress_callback_starts_a_bar_for_large_drops_and_stops_it_at_the_end():
    from hzeval.cli.console import PROGRESS_MIN_BYTES, load_progress

    progress = load_progress()
    big = PROGRESS_MIN_BYTES * 3
    progress("a.csv", 0, big)
    progress("b.csv", PROGRESS_MIN_BYTES, big)
    progress(None, big, big)  # the end: the bar stops; a retried load starts a new one
    progress("a.csv", 0, big)
    progress(None, big, big)
    quiet = load_progress(enabled=False)
    quiet("a.csv", 0, big)
    quiet(None, big, big)


def test_domain_modules_import_no_rich():
    import ast

    for path in (ROOT / "hzeval").rglob("*.py"):
        if path.parts[-2] == "cli":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
        }
        assert not {n for n in names if n and n.split(".")[0] == "rich"}, path


# --------------------------------------------------------------------------- click's own errors, help, codes (issue 27)


def _fails(capsys, *argv) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--db", "x.duckdb", *argv])
    return exit_.value.code, capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, zh, en",
    [
        (["asess"], "没有命令 'asess'，是否想用 assess？", "no such command 'asess'; did you mean assess?"),
        (["runs", "lst"], "没有命令 'runs lst'，是否想用 list？", "did you mean list?"),
        (
            ["assess", "--year", "twenty"],
            "'--year' 的值无效：'twenty' 不是有效的整数",
            "'twenty' is not a valid integer",
        ),
        (["assess"], "缺少选项 '--year'", "Missing option '--year'"),
        (["assess", "--yaer", "2025"], "没有选项 --yaer，是否想用 --year", "No such option '--yaer'"),
        (["gate", "--project"], "选项 --project 需要一个值", "requires an argument"),
        (["load"], "缺少参数 'PATHS...'", "Missing argument"),
        (["demo", "--drop", "/no/such/drop"], "路径 '/no/such/drop' 不存在", "does not exist"),
        (["assess", "--year", "2025", "--engine", "sql"], "'sql' 不在可选值", "is not one of"),
        (["deadline", "--start", "2025-01-01", "--days", "3", "extra"], "多余的参数：extra", "unexpected extra"),
    ],
)
def test_click_errors_are_one_line_in_chinese_and_english_with_the_usage_status(capsys, argv, zh, en):
    code, err = _fails(capsys, *argv)
    assert code == 2  # ExitCode.USAGE (DESIGN §8)
    first = err.splitlines()[0]
    assert first.startswith("错误 | error: ") and zh in first and en in first, err
    assert " | " in first.removeprefix("错误 | error: ") and "Traceback" not in err and "Usage:" not in err


def _params():
    def walk(cmd, path):
        yield from ((path, p) for p in cmd.params)
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from walk(sub, f"{path} {name}")

    return list(walk(cli.cli, "hzeval"))


def test_every_option_has_help_in_chinese_and_english():
    import re

    options = [(path, p) for path, p in _params() if isinstance(p, __import__("click").Option)]
    assert len(options) > 70  # every command's options, the group's and the subgroups'
    for path, p in options:
        text = p.help or ""
        assert re.search(r"[\u4e00-\u9fff]", text) and re.search(r"[A-Za-z]{3}", text), (path, p.opts, text)
    ctx = __import__("click").Context(cli.cli)
    assert "显示本帮助" in cli.cli.get_help_option(ctx).help  # --help itself, on the group and on a command
    assert "显示本帮助" in cli.cli.get_command(ctx, "assess").get_help_option(ctx).help


@pytest.mark.parametrize("typed", ["hz105", "HZ105", " Hz105 "])
def test_agency_codes_are_matched_in_any_case(monkeypatch, tmp_path, typed):
    import contextlib

    import polars as pl

    from hzeval.cli import requires

    seen = []
    monkeypatch.setattr(requires, "reading", lambda db: contextlib.nullcontext(None))
    monkeypatch.setattr(cli, "supervision_items", lambda con, t, agency=None: seen.append(agency) or pl.DataFrame())
    monkeypatch.setattr(cli.console, "emit_json", lambda payload: None)
    monkeypatch.setattr(cli.console, "supervision_json", lambda items, t: {})
    cli.main(["--db", str(tmp_path / "w.duckdb"), "supervise", "--as-of", "2026-01-05", "--agency", typed, "--json"])
    assert seen == ["HZ105"]


def test_a_hostile_agency_code_is_a_usage_error(capsys):
    code, err = _fails(capsys, "supervise", "--agency", "HZ1'; drop table agencies; --")
    assert code == 2 and "机构代码" in err and "invalid agency code" in err and "Traceback" not in err


GOOD = "HZ001,惠州市政务服务数据管理局,市级,惠州市,是,\n"


def test_the_rejects_hint_is_a_command_that_lists_the_rejected_rows(tmp_path, capsys):
    import json

    drop = tmp_path / "drop"
    drop.mkdir()
    # line 1 is the header; line 3's code breaks the code pattern, line 4 lacks the required name
    (drop / "agencies.csv").write_text(
        "机构代码,机构名称,层级,所属区域,是否主管部门,机构类型\n"
        + GOOD
        + "HZ 0;2,坏代码,市级,惠州市,否,\nHZ003,,市级,惠州市,否,\n",
        encoding="utf-8",
    )
    db = str(tmp_path / "w.duckdb")
    cli.main(["--db", db, "load", str(drop), "--quiet"])
    out = capsys.readouterr().out
    assert "运行 hzeval validate --rejects 查看原因" in out and "select" not in out.lower()
    cli.main(["--db", db, "validate", "--rejects", "--json"])
    got = json.loads(capsys.readouterr().out)
    assert got["total"] == 2  # lines 3 and 4 of agencies.csv; line 2 loaded
    assert [(r["table_name"], r["line"], r["column_name"]) for r in got["rejects"]] == [
        ("agencies", 3, "agency_code"),
        ("agencies", 4, "agency_name"),
    ]
    cli.main(["--db", db, "validate", "--rejects", "--limit", "1"])
    shown = capsys.readouterr().out
    assert "共 2 行被拒收" in shown and "first 1 shown" in shown
    # the file fixed and loaded again: each file's latest load is what --rejects shows
    (drop / "agencies.csv").write_text(
        "机构代码,机构名称,层级,所属区域,是否主管部门,机构类型\n" + GOOD, encoding="utf-8"
    )
    cli.main(["--db", db, "load", str(drop), "--quiet"])
    capsys.readouterr()
    cli.main(["--db", db, "validate", "--rejects", "--json"])
    assert json.loads(capsys.readouterr().out)["total"] == 0
    cli.main(["--db", db, "validate", "--rejects", "--load", "1", "--json"])  # the first load's, asked by id
    assert json.loads(capsys.readouterr().out)["total"] == 2
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--db", db, "validate", "--rejects", "--load", "1", "--strict"])
    assert exit_.value.code == 3
