"""Shared fixtures: an in-memory warehouse with the schema and calendar, and a row inserter."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import duckdb
import polars as pl
import pytest

from hzeval.contract import TABLES
from hzeval.reports.pdf import find_chromium
from hzeval.store.warehouse import ensure_schema

# --------------------------------------------------------------------------- what a test needs from the machine


def _fonts() -> bool:
    out = subprocess.run(["fc-list"], capture_output=True, text=True, check=False) if shutil.which("fc-list") else None
    return out is not None and "Noto Sans CJK" in out.stdout


#: system packages some tests need: (is it here?, the command that installs it). ``make test`` installs
#: them (``make sysdeps``); a bare machine fails the test with the command, never skips it.
SYSTEM = {
    "chromium": (
        lambda: Path("/usr/bin/chromium").exists() and find_chromium() is not None,
        "apt-get install -y chromium",
    ),
    "fonts": (_fonts, "apt-get install -y fonts-noto-cjk"),
    "pdftotext": (lambda: shutil.which("pdftotext") is not None, "apt-get install -y poppler-utils"),
    "java": (lambda: shutil.which("java") is not None, "apt-get install -y default-jre-headless"),
}


def pytest_configure(config):
    config.addinivalue_line("markers", "system(*names): needs these system packages (see conftest.SYSTEM)")


def pytest_runtest_setup(item):
    for marker in item.iter_markers("system"):
        for name in marker.args:
            present, command = SYSTEM[name]
            if not present():
                pytest.fail(
                    f"需要系统软件包 {name}：运行 make test（会安装），或 {command} | needs {name}: "
                    f"`make test` installs it, or run: {command}",
                    pytrace=False,
                )


_POLARS = {
    "str": pl.String,
    "vocab": pl.String,
    "period": pl.String,
    "list": pl.String,
    "int": pl.Int64,
    "float": pl.Float64,
    "bool": pl.Boolean,
    "date": pl.Date,
    "timestamp": pl.Datetime("us"),
}


def _coerce(value, type_):
    if isinstance(value, str) and type_ == "timestamp":
        return dt.datetime.fromisoformat(value)
    if isinstance(value, str) and type_ == "date":
        return dt.date.fromisoformat(value)
    return value


def insert(con, table: str, *rows: dict) -> None:
    """Insert rows given as dicts (ISO strings for dates and times); missing columns are NULL."""
    t = TABLES[table]
    data = {c.name: [_coerce(r.get(c.name, c.default), c.type) for r in rows] for c in t.columns}
    frame = pl.DataFrame(data, schema={c.name: _POLARS[c.type] for c in t.columns})
    con.register("_rows", frame.to_arrow())
    con.execute(f"insert into {table} ({', '.join(t.names)}) select * from _rows")
    con.unregister("_rows")


@pytest.fixture
def wh():
    con = duckdb.connect()
    ensure_schema(con)
    yield con
    con.close()


ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory):
    """The committed sample drop loaded and assessed for 2024 (as of 2025-01-06) and 2025 (as of
    2026-01-05), built once per session. Do not write to it: take a copy with ``copy_sample``."""
    from hzeval.assessment.assess import run_assessment
    from hzeval.ingest import load_paths
    from hzeval.store.warehouse import connect

    db = tmp_path_factory.mktemp("sample") / "wh.duckdb"
    with connect(db) as con:
        load_paths(con, [ROOT / "data_samples"], progress=False)
    run_assessment(db, 2024, dt.datetime(2025, 1, 6))
    run_assessment(db, 2025, dt.datetime(2026, 1, 5))
    return db


def copy_sample(sample_db, tmp_path_factory, name: str):
    """A private copy of the sample warehouse folder (warehouse + published runs); returns the db path."""
    import shutil

    target = tmp_path_factory.mktemp(name)
    shutil.copytree(sample_db.parent, target, dirs_exist_ok=True)
    return target / sample_db.name


def load_snapshot(con) -> dict:
    """Everything a load writes — every contract table, rejects, loads, replacements — without load
    ids (which differ between warehouses) and file paths, for comparing two loads."""

    def rows(sql):
        return con.execute(sql).fetchall()

    out = {}
    for name, t in TABLES.items():
        out[name] = rows(f"select {', '.join(t.names)}, _line from {name} order by _line, {', '.join(t.names)}")
    out["rejects"] = rows(
        "select table_name, line, column_name, value, reason from rejects order by table_name, line, column_name"
    )
    out["loads"] = rows(
        "select table_name, sha256, rows_loaded, rows_rejected, rows_replaced, file_format, encoding "
        "from loads order by load_id"
    )
    out["replacements"] = rows("select table_name, rows from replacements order by load_id, replaced_load_id")
    return out


def load_both_ways(folder, monkeypatch, steps, batch=None, **limits):
    """Load ``steps`` (lists of files, one load each) into fresh warehouses with DuckDB's readers off
    (``HZEVAL_LOAD_SQL=0``: every row through polars and ``parse_frame``), then on. Returns both
    (snapshot, per step: (loaded, rejected, replaced, status, encoding, warnings) per file, or the
    message of the error that refused the load)."""
    from hzeval.errors import InputFileError
    from hzeval.ingest import load_paths
    from hzeval.ingest.limits import Limits
    from hzeval.store.warehouse import connect

    if batch:
        monkeypatch.setenv("HZEVAL_LOAD_BATCH_ROWS", str(batch))
    out = []
    for flag in ("0", "1"):
        monkeypatch.setenv("HZEVAL_LOAD_SQL", flag)
        results = []
        with connect(folder / f"w{flag}.duckdb") as con:
            for files in steps:
                try:
                    r = load_paths(con, files, progress=False, limits=Limits.from_env(**limits))
                except InputFileError as exc:
                    results.append(str(exc))
                    continue
                results.append(
                    [
                        (f.rows_loaded, f.rows_rejected, f.rows_replaced, f.status, f.encoding, f.warnings)
                        for f in r.files
                    ]
                )
            out.append((load_snapshot(con), results))
    return out


class SqlPathSpy:
    """Which files DuckDB's readers loaded (name, rows DuckDB inserted itself) and which CSV files
    they read and refused (loaded again by polars)."""

    def __init__(self):
        self.done: list[tuple[str, int]] = []
        self.refused: list[str] = []
        self.plain = 0


@pytest.fixture
def spy(monkeypatch):
    from hzeval.ingest import load, sqlpath

    seen = SqlPathSpy()
    real_insert, real_load = sqlpath.insert_plain, load._load_sql

    def insert(con, sp, path, load_id, **kw):
        seen.plain = real_insert(con, sp, path, load_id, **kw)
        return seen.plain

    def load_sql(con, plan, sp, limits, load_id, result):
        seen.plain = 0
        try:
            real_load(con, plan, sp, limits, load_id, result)
        except load.CsvRefused:
            seen.refused.append(plan.path.name)
            raise
        seen.done.append((plan.path.name, seen.plain))

    monkeypatch.setattr(sqlpath, "insert_plain", insert)
    monkeypatch.setattr(load, "_load_sql", load_sql)
    return seen
