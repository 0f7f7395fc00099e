"""Crash safety: ``kill -9`` in the middle of a load and of an assess, for real, in a subprocess.

Afterwards the warehouse opens, holds no partial file and no partial run, and the same
command then succeeds.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hzeval.ingest import load_paths
from hzeval.store.warehouse import connect

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples"
COUNTS = (
    "select (select count(*) from loads), (select count(*) from api_calls), (select count(*) from runs), "
    "(select count(*) from metric_values), (select count(*) from grades), (select count(*) from evidence)"
)


def hzeval(*args, env=None, **kw):
    return subprocess.Popen(
        [sys.executable, "-m", "hzeval.cli.main", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        **kw,
    )


def counts(db):
    with connect(db, read_only=True) as con:
        return con.execute(COUNTS).fetchall()[0]


def kill_at(db, fault, *args):
    """Start ``hzeval`` with a fault point, wait until it pauses there, kill -9 it."""
    proc = hzeval("--db", str(db), *args, env={"HZEVAL_FAULT": fault})
    deadline = time.monotonic() + 120
    line = ""
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if line.startswith("HZEVAL_PAUSED") or proc.poll() is not None:
            break
    assert line.startswith(f"HZEVAL_PAUSED {fault}"), f"never reached {fault}: {line!r} {proc.stderr.read()}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL


@pytest.fixture
def db(tmp_path):
    db = tmp_path / "w.duckdb"
    drop = tmp_path / "drop"
    drop.mkdir()
    for f in SAMPLES.iterdir():
        if f.name != "api_calls.parquet":
            shutil.copy(f, drop / f.name)
    with connect(db) as con:
        load_paths(con, [drop], progress=False)
    return db


def test_kill_during_load_leaves_nothing_then_load_succeeds(db):
    before = counts(db)
    kill_at(db, "load-before-commit", "load", str(SAMPLES / "api_calls.parquet"))
    assert counts(db) == before  # opens; no loads row, no api_calls rows of the killed load
    proc = hzeval("--db", str(db), "load", "--quiet", str(SAMPLES / "api_calls.parquet"))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    after = counts(db)
    assert after[0] == before[0] + 1 and after[1] > 0


def test_kill_during_assess_leaves_no_partial_run_then_assess_succeeds(db):
    before = counts(db)
    kill_at(db, "assess-before-commit", "assess", "--year", "2025", "--as-of", "2026-01-05")
    assert counts(db) == before  # no runs, metric_values, grades or evidence rows
    proc = hzeval("--db", str(db), "assess", "--year", "2025", "--as-of", "2026-01-05")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    after = counts(db)
    assert after[2] == 1 and after[3] > 0 and after[4] > 0


@pytest.mark.parametrize("delay", [0.3, 0.8, 1.5])
def test_kill_at_arbitrary_moment_is_all_or_nothing(db, delay):
    """A kill at an arbitrary moment of a real load: the file is either fully loaded or absent."""
    before = counts(db)
    proc = hzeval("--db", str(db), "load", "--quiet", str(SAMPLES / "api_calls.parquet"))
    time.sleep(delay)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    after = counts(db)
    assert after in (before, (before[0] + 1, 20785, *before[2:]))  # 20,785 calls (data_samples/README.md)
