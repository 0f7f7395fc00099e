"""Readers beside writers: a reader of the published run keeps answering while ``assess`` writes
a new run (even while the writer holds the warehouse mid-transaction) and never sees a mix."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from hzeval.assessment.assess import run_assessment
from hzeval.ingest import load_paths
from hzeval.store.published import latest_published
from hzeval.store.warehouse import connect

ROOT = Path(__file__).resolve().parents[1]
READ = "select count(distinct run_id), count(*), min(run_id) from grades"


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    db = tmp_path_factory.mktemp("conc") / "w.duckdb"
    with connect(db) as con:
        load_paths(con, [ROOT / "data_samples"], progress=False)
    run_assessment(db, 2025, dt.datetime(2026, 1, 5))
    return db


def read_latest(db):
    con = duckdb.connect(str(latest_published(db)), read_only=True)
    try:
        return con.execute(READ).fetchall()[0]
    finally:
        con.close()


def test_reader_answers_while_writer_holds_the_warehouse(db):
    first = read_latest(db)
    proc = subprocess.Popen(
        [sys.executable, "-m", "hzeval.cli.main", "--db", str(db), "assess", "--year", "2025", "--as-of", "2026-01-05"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HZEVAL_FAULT": "assess-before-commit"},
    )
    try:
        line = proc.stderr.readline()
        assert line.startswith("HZEVAL_PAUSED"), line
        # the live warehouse is locked by the writer ...
        with pytest.raises(duckdb.IOException):
            duckdb.connect(str(db), read_only=True)
        # ... but the published run answers, unchanged
        assert read_latest(db) == first
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def test_readers_never_see_a_mix_while_a_run_is_published(db):
    before = read_latest(db)
    seen, errors, stop = [], [], threading.Event()

    def reader():
        while not stop.is_set():
            try:
                seen.append(read_latest(db))
            except Exception as exc:  # noqa: BLE001 - any failure to read is a finding
                errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    proc = subprocess.run(
        [sys.executable, "-m", "hzeval.cli.main", "--db", str(db), "assess", "--year", "2025", "--as-of", "2026-01-05"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join()
    assert proc.returncode == 0, proc.stderr
    assert not errors, errors[:3]
    assert len(seen) > 10
    assert {(n, rows) for n, rows, _ in seen} == {(1, before[1])}  # one run per file, all its rows
    runs = {r for _, _, r in seen}
    after = read_latest(db)
    assert after[2] != before[2] and runs <= {before[2], after[2]}
    print(f"\nconcurrent reads during assess: {len(seen)}, runs seen: {len(runs)}, errors: 0")
