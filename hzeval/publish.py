"""Publishing finished runs for readers (DESIGN §2).

DuckDB lets one process write a file and then no other process may open it. Readers that
live beside writers (dashboards, report workers, notebooks during a scheduled run) read
``published/<run_id>.duckdb`` — a read-only copy of one finished run with the register,
the calendar and the input tables (all but ``api_calls``) that supervision and gates need —
and find the newest through ``published/LATEST``, a pointer swapped atomically after the copy is complete. A reader therefore never sees half a run
or a mix of two.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from hzeval.contract import TABLES
from hzeval.warehouse import db_path

log = logging.getLogger(__name__)

RUN_TABLES = ("runs", "metric_values", "evidence", "scores", "grades", "project_gates", "run_adjustments", "run_rules")
REFERENCE_TABLES = ("agencies", "calendar", "adjustments", "adjustment_events")
#: input tables the 督办 list and the project gate recompute from at any as-of time (the dashboard's
#: 督办 page reuses ``hzeval.supervise.supervision_items`` on the published copy). ``api_calls``, the
#: large log, is left out: neither the deadline metrics nor the gate step read it.
SOURCE_TABLES = tuple(t for t in TABLES if t not in REFERENCE_TABLES and t != "api_calls")
#: for the staff notebooks (drop check): files loaded and rejected rows, and rows per table, month
#: and agency of every input table (``input_coverage``, api_calls included) — see hzeval.staff
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
        from hzeval.staff import coverage_sql  # the notebooks' gaps view, declared beside them

        for t in LOAD_TABLES:
            con.execute(f"create table pub.{t} as select * from main.{t}")
        con.execute(f"create table pub.input_coverage as {coverage_sql()}")
    finally:
        con.execute("detach pub")
    os.replace(tmp, final)
    pointer = folder / ".LATEST.tmp"
    pointer.write_text(final.name + "\n", encoding="utf-8")
    os.replace(pointer, folder / "LATEST")
    log.info("published %s", final)
    return final


def latest_published(db=None) -> Path | None:
    """The newest published run file, or None."""
    pointer = published_dir(db) / "LATEST"
    if not pointer.exists():
        return None
    return pointer.parent / pointer.read_text(encoding="utf-8").strip()
