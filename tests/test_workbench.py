"""The notebook API reads published runs, never the live warehouse: a notebook held open does not
stop ``hzeval run``; and a process that does hold the warehouse is named for what it is."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from conftest import copy_sample

from hzeval import workbench
from hzeval.errors import RunNotFoundError, WarehouseError
from hzeval.store.warehouse import connect

ROOT = Path(__file__).resolve().parents[1]

#: a notebook session: opens the run and the inputs, answers, waits, answers again from the same connections
NOTEBOOK = textwrap.dedent("""
    import sys
    from hzeval import workbench
    run = workbench.open_run(2025)
    inputs = workbench.open_inputs(2025)
    def answer():
        n = run.con.execute("select count(*) from grades").fetchall()[0][0]
        files = inputs.con.execute("select count(*) from loads").fetchall()[0][0]
        print(run.run_id, n, files, flush=True)
    answer()
    sys.stdin.readline()
    answer()
""")


@pytest.fixture
def warehouse(sample_warehouse, tmp_path_factory):
    db = copy_sample(sample_warehouse, tmp_path_factory, "wb")
    return db, db.parent / "published"


def hzeval(*args, env=None, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "hzeval.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_open_run_picks_the_year_and_the_previous_one(warehouse, monkeypatch):
    db, pub = warehouse
    monkeypatch.setenv("HZEVAL_PUBLISHED", str(pub))
    with workbench.open_run(2025) as run:
        assert run.year == 2025 and run.path.parent == pub
        rows = run.con.execute("select distinct run_id from grades").fetchall()
        assert rows == [(run.run_id,)]  # a published file holds one run
        prev = workbench.open_previous(run)
        assert prev.year == 2024
        assert workbench.open_previous(prev) is None  # no 2023 run published
        prev.close()
    with workbench.open_run(2024) as run:
        assert run.year == 2024
    with pytest.raises(RunNotFoundError):
        workbench.open_run(2019)


def test_published_folder_is_found_from_the_notebooks_folder(warehouse, monkeypatch, tmp_path):
    db, pub = warehouse
    monkeypatch.delenv("HZEVAL_PUBLISHED", raising=False)
    monkeypatch.delenv("HZEVAL_DB", raising=False)
    notebooks = db.parent / "notebooks"
    notebooks.mkdir()
    monkeypatch.chdir(notebooks)  # JupyterLab runs kernels in the notebook's folder
    assert workbench.published_folder() == pub
    monkeypatch.setenv("HZEVAL_DB", str(db))
    monkeypatch.chdir(tmp_path)
    assert workbench.published_folder() == pub
    monkeypatch.delenv("HZEVAL_DB")
    with pytest.raises(RunNotFoundError, match="published"):
        workbench.published_folder()


def test_open_inputs_is_read_only_and_holds_what_the_drop_check_needs(warehouse, monkeypatch):
    db, pub = warehouse
    monkeypatch.setenv("HZEVAL_PUBLISHED", str(pub))
    with workbench.open_inputs(2025) as inputs:
        assert {"agencies", "catalog_snapshot", "loads", "rejects"} <= set(inputs.tables)
        assert "api_calls" not in inputs.tables  # the large log stays in the warehouse ...
        with connect(db, read_only=True) as live:
            want = live.execute("""select consumer_code, strftime(called_at, '%Y-%m'), count(*) from api_calls
                                   where called_at is not null group by all order by all""").fetchall()
            loads = live.execute("select count(*) from loads").fetchall()[0][0]
        # ... but its rows per agency and month are published for the coverage view
        got = inputs.con.execute("""select agency_code, month, rows from input_coverage where table_name = 'api_calls'
                                    order by all""").fetchall()
        assert got == want and len(got) > 0
        assert inputs.frame("select count(*) as n from loads")["n"][0] == loads == 23  # data_samples/ files
        assert inputs.run_id.startswith("2025-") and inputs.run_id in inputs.note()
        with pytest.raises(duckdb.Error):
            inputs.con.execute("delete from loads")


def test_a_notebook_held_open_does_not_stop_the_scheduled_run(warehouse, tmp_path):
    """DESIGN §2: the notebook keeps its connections open while ``hzeval run`` loads, assesses and
    publishes a new run; the notebook keeps answering from its run, the next one sees the new run."""
    db, pub = warehouse
    env = {**os.environ, "HZEVAL_PUBLISHED": str(pub)}
    nb = subprocess.Popen(
        [sys.executable, "-c", NOTEBOOK],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        first = nb.stdout.readline().split()
        assert len(first) == 3, nb.stderr.read()
        old_run = first[0]
        t0 = time.perf_counter()
        proc = hzeval(
            "--db",
            str(db),
            "run",
            "--drop",
            str(ROOT / "data_samples"),
            "--year",
            "2025",
            "--as-of",
            "2026-01-06",
            "--format",
            "xlsx",
            "--no-wait",
            "--out",
            str(tmp_path / "reports"),
            "--log-file",
            str(tmp_path / "run.log"),
            env={"HZEVAL_LOCK_WAIT": "0"},
        )
        elapsed = time.perf_counter() - t0
        assert proc.returncode == 0, proc.stderr
        assert "已发布" in proc.stdout
        new_run = (pub / "LATEST").read_text(encoding="utf-8").strip().removesuffix(".duckdb")
        assert new_run != old_run and new_run.startswith("2025-")
        nb.stdin.write("\n")
        nb.stdin.flush()
        again = nb.stdout.readline().split()
        assert again == first  # the open notebook still reads its own run, whole
    finally:
        nb.kill()
        nb.wait()
    with workbench.open_run(2025, pub) as run:
        assert run.run_id == new_run
    print(f"\nhzeval run beside an open notebook: {elapsed:.1f} s")


def hold(db: Path, read_only: bool, seconds: float = 600):
    """Another process holding the live warehouse (as the old notebooks did); returns it once it holds."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import duckdb, time
        con = duckdb.connect({str(db)!r}, read_only={read_only})
        print("holding", flush=True)
        time.sleep({seconds})
        con.close()
        time.sleep(600)
    """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "holding"
    return proc


def test_run_names_a_reader_holding_the_warehouse_after_retrying(warehouse, tmp_path):
    db, _ = warehouse
    reader = hold(db, read_only=True)
    try:
        t0 = time.perf_counter()
        proc = hzeval(
            "--db",
            str(db),
            "run",
            "--drop",
            str(ROOT / "data_samples"),
            "--year",
            "2025",
            "--no-wait",
            "--format",
            "xlsx",
            "--out",
            str(tmp_path / "r"),
            "--log-file",
            str(tmp_path / "run.log"),
            env={"HZEVAL_LOCK_WAIT": "2"},
        )
        waited = time.perf_counter() - t0
    finally:
        reader.kill()
        reader.wait()
    assert proc.returncode != 0
    err = proc.stderr
    assert "正被另一进程以只读方式打开" in err and f"PID {reader.pid}" in err and "写入" not in err
    assert "held open read-only" in err and "being written" not in err
    assert waited >= 2  # it retried for HZEVAL_LOCK_WAIT seconds before giving up
    assert "Traceback" not in err


def test_run_waits_out_a_reader_that_lets_go(warehouse, tmp_path):
    db, _ = warehouse
    reader = hold(db, read_only=True, seconds=1.5)
    try:
        proc = hzeval(
            "--db",
            str(db),
            "run",
            "--drop",
            str(ROOT / "data_samples"),
            "--year",
            "2025",
            "--as-of",
            "2026-01-07",
            "--no-wait",
            "--format",
            "xlsx",
            "--out",
            str(tmp_path / "r"),
            "--log-file",
            str(tmp_path / "run.log"),
            env={"HZEVAL_LOCK_WAIT": "30"},
        )
    finally:
        reader.kill()
        reader.wait()
    assert proc.returncode == 0, proc.stderr


def test_a_writer_holding_the_warehouse_is_named_a_writer(warehouse, monkeypatch):
    db, _ = warehouse
    writer = hold(db, read_only=False)
    monkeypatch.setenv("HZEVAL_LOCK_WAIT", "0.5")
    try:
        with pytest.raises(WarehouseError) as err, connect(db):
            pass
    finally:
        writer.kill()
        writer.wait()
    assert "正被另一进程写入" in err.value.message and f"PID {writer.pid}" in err.value.message
    assert "只读" not in err.value.message
