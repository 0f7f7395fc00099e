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
