"""Publishing finished runs for readers (DESIGN §2).

DuckDB lets one process write a file and then no other process may open it. Readers that
live beside writers (dashboards, report workers, notebooks during a scheduled run) read
``published/<run_id>.duckdb`` — a read-only copy of one finished run with the register,
the calendar and the input tables (all but ``api_calls``) that supervision and gates need —
and find the newest through ``published/LATEST``, a pointer swapped atomically after the copy is complete. A reader therefore never sees half a run
or a mix of two.

Pointers (DESIGN §7): ``LATEST-<year>`` names the newest published run of each year;
``LATEST`` names the newest run of the latest year (the dashboard's default), so assessing
2024 after 2025 changes neither ``LATEST-2025`` nor ``LATEST``.

Recovery (issue 13): a writer killed between its commit and the end of the copy leaves a
committed run that is not published and a ``.tmp`` copy. Every writer, on opening the
warehouse (:func:`hzeval.store.warehouse.connect`), calls :func:`recover`: stale ``.tmp`` files go,
and the newest finished run of each year is published (and pointed to) if it is not.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from hzeval.util import faults
from hzeval.contract import TABLES
from hzeval.store.warehouse import db_path

log = logging.getLogger(__name__)

RUN_TABLES = ("runs", "metric_values", "evidence", "scores", "grades", "project_gates", "run_adjustments", "run_rules")
REFERENCE_TABLES = ("agencies", "calendar", "adjustments", "adjustment_events")
#: input tables the 督办 list and the project gate recompute from at any as-of time (the dashboard's
#: 督办 page reuses ``hzeval.assessment.supervise.supervision_items`` on the published copy). ``api_calls``, the
#: large log, is left out: neither the deadline metrics nor the gate step read it.
SOURCE_TABLES = tuple(t for t in TABLES if t not in REFERENCE_TABLES and t != "api_calls"
                      and t != "contacts")  # contacts hold robot keys and mail addresses: never published
#: for the staff notebooks (drop check): files loaded and rejected rows, and rows per table, month
#: and agency of every input table (``input_coverage``, api_calls included) — see hzeval.workbench.staff
LOAD_TABLES = ("loads", "rejects")
#: tables published as a subset: the gate step reads only each resource's first successful
#: aggregation (``stg_first_success``), so the published aggregation log holds just those jobs
#: (1 row per resource instead of the whole log: at city scale 30k rows instead of 1.4M)
SUBSETS = {
    "aggregation_log": """
        select * from main.aggregation_log where status = '成功'
        qualify row_number() over (partition by resource_code order by coalesce(finished_at, started_at), job_id) = 1
    """,
}


def published_dir(db=None) -> Path:
    return db_path(db).resolve().parent / "published"


def publish_run(con, run_id: str, db=None) -> Path:
    """Copy one finished run to ``published/<run_id>.duckdb`` and point ``LATEST`` at it."""
    folder = published_dir(db)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{run_id}.duckdb"
    tmp = folder / f".{run_id}.duckdb.tmp"
    tmp.unlink(missing_ok=True)
    con.execute("attach $path as pub", {"path": str(tmp)})
    try:
        for t in RUN_TABLES:
            con.execute(f"create table pub.{t} as select * from main.{t} where run_id = $r", {"r": run_id})
        for t in REFERENCE_TABLES + SOURCE_TABLES:
            con.execute(f"create table pub.{t} as " + SUBSETS.get(t, f"select * from main.{t}"))
        for t in LOAD_TABLES:
            con.execute(f"create table pub.{t} as select * from main.{t}")
        con.execute(f"create table pub.input_coverage as {coverage_sql()}")
    finally:
        con.execute("detach pub")
    faults.checkpoint("publish-before-replace")
    os.replace(tmp, final)
    year = con.execute("select year from main.runs where run_id = $r", {"r": run_id}).fetchall()
    _point(folder, final.name, year[0][0] if year else _run_year(final.name))
    log.info("published %s", final)
    return final


#: the time column that places a row of each table in a month (coverage)
TIME_COLUMN = {
    "catalog_snapshot": "snapshot_date", "catalog_items": "snapshot_date", "basis_changes": "effective_date",
    "catalog_events": "event_time", "aggregation_log": "started_at", "share_applications": "submitted_at",
    "share_feedback": "submitted_at", "api_calls": "called_at", "objections": "raised_at",
    "open_plans": "filed_at", "open_applications": "submitted_at", "projects": "approved_at",
    "security_records": "done_at", "incidents": "occurred_at", "rectifications": "issued_at",
}
#: the agency column of each table (coverage by agency)
AGENCY_COLUMN = {
    "catalog_snapshot": "provider_code", "basis_changes": "agency_code", "catalog_events": "agency_code",
    "aggregation_log": "agency_code", "share_applications": "provider_code", "api_calls": "consumer_code",
    "objections": "provider_code", "open_plans": "agency_code", "open_applications": "agency_code",
    "projects": "owner_code", "security_records": "agency_code", "incidents": "agency_code",
    "rectifications": "agency_code",
}
COVERAGE_TABLES = tuple(t for t in TIME_COLUMN if t in AGENCY_COLUMN and t in TABLES)


def coverage_sql() -> str:
    """Rows per table, month and agency of every input table with a time and an agency column
    (published with each run as ``input_coverage``: the drop check's gaps view needs the whole
    logs, which the published copy does not carry)."""
    parts = []
    for t in COVERAGE_TABLES:
        tc, ac = TIME_COLUMN[t], AGENCY_COLUMN[t]  # names from the constants above, never from input
        assert tc in TABLES[t].names and ac in TABLES[t].names
        parts.append(f"select '{t}' as table_name, strftime({tc}, '%Y-%m') as month, {ac} as agency_code, "
                     f"count(*) as rows from main.{t} where {tc} is not null group by all")
    return " union all ".join(parts)


_YEAR_POINTER = re.compile(r"^LATEST-(\d{4})$")


def _run_year(name: str) -> int | None:
    head = name.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def _swap(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _point(folder: Path, name: str, year: int | None) -> None:
    """Point ``LATEST-<year>`` at ``name``, then ``LATEST`` at the latest year's run."""
    if year is not None:
        _swap(folder / f"LATEST-{year}", name)
    years = sorted(int(m.group(1)) for p in folder.iterdir() if (m := _YEAR_POINTER.match(p.name)))
    target = (folder / f"LATEST-{years[-1]}").read_text(encoding="utf-8").strip() if years else name
    _swap(folder / "LATEST", target)


def latest_published(db=None, year: int | None = None) -> Path | None:
    """The newest published run file of ``year`` (default: of the latest year), or None."""
    pointer = published_dir(db) / (f"LATEST-{year}" if year is not None else "LATEST")
    if not pointer.exists():
        return None
    path = pointer.parent / pointer.read_text(encoding="utf-8").strip()
    return path if path.exists() else None


def recover(con, db=None) -> list[str]:
    """Finish what a killed writer left: remove stale ``.tmp`` files in ``published/`` and publish the
    newest finished run of each year when it is not published (or not pointed to). Call only while
    holding the warehouse for writing (then no other process can be publishing). Returns the run
    ids published."""
    folder = published_dir(db)
    if folder.is_dir():
        for stale in folder.glob(".*.tmp*"):
            log.warning("removing stale %s (left by an interrupted publish)", stale)
            stale.unlink(missing_ok=True)
    rows = con.execute(
        """select year, run_id from (
               select year, run_id, row_number() over (partition by year order by finished_at desc, run_id desc) as n
               from main.runs where status = 'finished')
           where n = 1 order by year"""
    ).fetchall()
    done = []
    for year, run_id in rows:
        final = folder / f"{run_id}.duckdb"
        if not final.exists():
            log.warning("run %s was committed but not published: publishing it now", run_id)
            publish_run(con, run_id, db)
            done.append(run_id)
        else:
            pointer = folder / f"LATEST-{year}"
            current = pointer.read_text(encoding="utf-8").strip() if pointer.exists() else None
            if current != final.name:
                _point(folder, final.name, year)
    return done
