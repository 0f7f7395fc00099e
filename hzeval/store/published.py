"""Publishing finished runs for readers (DESIGN §2).

DuckDB lets one process write a file and then no other process may open it. Readers that
live beside writers (dashboards, report workers, notebooks during a scheduled run) read
``published/<run_id>.duckdb`` — a read-only copy of one finished run with the register,
the calendar and the input tables (all but ``api_calls``) that supervision and gates need —
and find the newest through ``published/LATEST``, a pointer swapped atomically after the copy
is complete. A reader therefore never sees half a run or a mix of two.

Pointers (DESIGN §7): ``LATEST-<year>`` names the newest published run of each year;
``LATEST`` names the newest run of the latest year (the dashboard's default), so assessing
2024 after 2025 changes neither ``LATEST-2025`` nor ``LATEST``.

Which run a reader reads is decided in one place, :func:`resolve_run` (latest of the latest year,
latest of a year, or a run by id — a safe name, never a path): the CLI readers, ``explain``, the
read layer (:mod:`hzeval.runs`), the dashboard's store, the staff notebooks and the notices all
call it (:func:`find_published` is the same rule, raising when there is no such run).

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

import duckdb

# TIME_COLUMN: the time column that places a row of each table in a month (coverage), declared on the contract
# (:attr:`hzeval.contract.Table.time_column`) and re-exported here for the drop check
from hzeval.contract import TABLES, TIME_COLUMN
from hzeval.errors import RunNotFoundError, RunStateError
from hzeval.store.location import db_path
from hzeval.util import faults

log = logging.getLogger(__name__)

#: a run's publication state (DESIGN §7a): a new run is 试算 (trial) until ``hzeval runs official``; a
#: withdrawn run is never published again (``hzeval runs withdraw``). ``runs.publication`` NULL = trial.
TRIAL, OFFICIAL, WITHDRAWN = "trial", "official", "withdrawn"
#: the state of a ``runs`` row as SQL
STATE = "coalesce(publication, 'trial')"
RUN_TABLES = (
    "runs",
    "run_publication",
    "metric_values",
    "evidence",
    "scores",
    "grades",
    "project_gates",
    "run_adjustments",
    "run_rules",
    "run_freshness",
)
REFERENCE_TABLES = ("agencies", "calendar", "adjustments", "adjustment_events")
#: input tables the 督办 list and the project gate recompute from at any as-of time (the dashboard's
#: 督办 page reuses ``hzeval.assessment.supervise.supervision_items`` on the published copy). ``api_calls``, the
#: large log, is left out: neither the deadline metrics nor the gate step read it.
SOURCE_TABLES = tuple(
    t for t in TABLES if t not in REFERENCE_TABLES and t != "api_calls" and t != "contacts"
)  # contacts hold robot keys and mail addresses: never published
#: the warehouse's bookkeeping tables published for the staff notebooks (drop check): files loaded and
#: rejected rows; with them ``input_coverage``, rows per table, month and agency of every input table
#: (api_calls included) — see hzeval.workbench.staff
LOAD_TABLES = ("loads", "rejects")
#: beside the run files: when each 督办 item was notified (written by ``hzeval notify``, read by the
#: dashboard's 督办 page through :func:`hzeval.runs.with_notified`)
NOTIFIED_FILE = "notified.parquet"
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
    """Copy one finished run to ``published/<run_id>.duckdb`` (with its publication state, DESIGN §7a)
    and point the pointers by the one rule (:func:`point`). A withdrawn run is never published."""
    state = con.execute(
        f"select {STATE} from main.runs where run_id = $r and status = 'finished'", {"r": run_id}
    ).fetchall()
    if not state or state[0][0] == WITHDRAWN:
        raise RunStateError(
            f"评估运行 {run_id} 不存在、未完成或已撤回，不予发布",
            f"run {run_id} is unknown, unfinished or withdrawn: not published",
            run_id=run_id,
        )
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
    point(con, folder)
    log.info("published %s", final)
    return final


def unpublish_run(con, run_id: str, db=None) -> None:
    """Take a withdrawn run's copy away and point the pointers at what readers read now."""
    folder = published_dir(db)
    (folder / f"{run_id}.duckdb").unlink(missing_ok=True)
    if folder.is_dir():
        point(con, folder)


#: the agency column of each table (coverage by agency)
AGENCY_COLUMN = {
    "catalog_snapshot": "provider_code",
    "basis_changes": "agency_code",
    "catalog_events": "agency_code",
    "aggregation_log": "agency_code",
    "share_applications": "provider_code",
    "api_calls": "consumer_code",
    "objections": "provider_code",
    "open_plans": "agency_code",
    "open_applications": "agency_code",
    "projects": "owner_code",
    "security_records": "agency_code",
    "incidents": "agency_code",
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
        parts.append(
            f"select '{t}' as table_name, strftime({tc}, '%Y-%m') as month, {ac} as agency_code, "
            f"count(*) as rows from main.{t} where {tc} is not null group by all"
        )
    return " union all ".join(parts)


_YEAR_POINTER = re.compile(r"^LATEST-(\d{4})$")


def run_year(path: str | os.PathLike) -> int | None:
    """The year a run file (or run id) names: run ids start with their year (``2025-20260105T…``)."""
    head = Path(path).name.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def _swap(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _swap_if(path: Path, text: str) -> None:
    """:func:`_swap` unless ``path`` already says ``text``."""
    if not path.exists() or path.read_text(encoding="utf-8").strip() != text:
        _swap(path, text)


def point(con, folder: Path) -> dict[int, str]:
    """Point ``LATEST-<year>`` at the run readers read of each year — the latest official run, else the
    latest trial run, never a withdrawn one, among the published files — and ``LATEST`` at the latest
    year's (DESIGN §7, §7a). A year with nothing to read loses its pointer. Returns year → file name."""
    rows = con.execute(
        f"""select year, run_id from main.runs where status = 'finished' and {STATE} <> '{WITHDRAWN}'
            order by year, {STATE} = '{OFFICIAL}' desc, finished_at desc, run_id desc"""
    ).fetchall()
    chosen: dict[int, str] = {}
    for year, run_id in rows:
        if year not in chosen and (folder / f"{run_id}.duckdb").is_file():
            chosen[year] = f"{run_id}.duckdb"
    for p in list(folder.iterdir()):
        m = _YEAR_POINTER.match(p.name)
        if m and int(m.group(1)) not in chosen:
            p.unlink(missing_ok=True)
    for year, name in sorted(chosen.items()):
        _swap_if(folder / f"LATEST-{year}", name)
    if chosen:
        _swap_if(folder / "LATEST", chosen[max(chosen)])
    else:
        (folder / "LATEST").unlink(missing_ok=True)
    return chosen


def publication_of(path: str | os.PathLike) -> str:
    """The publication state a published copy carries (:data:`TRIAL` for copies made before states)."""
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return TRIAL
    try:
        cols = {
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns where table_name = 'runs'"
            ).fetchall()
        }
        if "publication" not in cols:
            return TRIAL
        row = con.execute(f"select {STATE} from runs limit 1").fetchall()
        return row[0][0] if row else TRIAL
    except duckdb.Error:
        return TRIAL
    finally:
        con.close()


# --------------------------------------------------------------------------- which run to read


def safe_run_id(run_id: str | None) -> bool:
    """Whether ``run_id`` is a name (letters, digits, ``-`` and ``_``), never a path."""
    if not run_id:
        return False
    return run_id.replace("-", "").replace("_", "").isalnum()


def published_runs(folder: str | os.PathLike, year: int | None = None) -> list[Path]:
    """Published run files in ``folder`` (of ``year``), oldest first (run ids sort by start time)."""
    files = [p for p in Path(folder).glob("*.duckdb") if not p.name.startswith(".")]
    return sorted(p for p in files if year is None or run_year(p) == year)


def published_folder(published: str | os.PathLike | None = None, db=None, *, search: bool = False) -> Path:
    """Where a reader finds the published runs: ``published`` (a folder, or a run file), else
    ``$HZEVAL_PUBLISHED``, else ``published/`` beside the warehouse (``db``, ``$HZEVAL_DB``,
    ``./hzeval.duckdb``).

    ``search`` is for the notebooks, which have no ``--db`` and run from ``notebooks/``: without
    ``db``, ``$HZEVAL_DB`` counts only when absolute or existing, else the ``published/`` folder in
    the working folder or the nearest of its parents; :class:`RunNotFoundError` when there is none."""
    for given in (published, os.environ.get("HZEVAL_PUBLISHED")):
        if given:
            return Path(given)
    if not search or db is not None:
        return published_dir(db)
    env_db = os.environ.get("HZEVAL_DB")
    if env_db and (Path(env_db).is_absolute() or Path(env_db).exists()):
        return published_dir(env_db)
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "published").is_dir():
            return folder / "published"
    raise RunNotFoundError(
        "找不到已发布的评估结果（published/ 文件夹）：请先运行 make demo 或 hzeval assess，或设置 HZEVAL_PUBLISHED",
        "no published/ folder found: run 'make demo' or 'hzeval assess', or set HZEVAL_PUBLISHED",
        path=str(here),
    )


def _latest(folder: Path, year: int | None) -> Path | None:
    """The run readers read of ``year`` (None: of the latest year) in ``folder``.

    The one rule of "latest" (DESIGN §7a): the latest official run of the year, else its latest trial
    run, never a withdrawn one. Writers keep the pointers by this rule (:func:`point`), so what the
    pointers say — ``LATEST-<year>``, then ``LATEST`` when it is of ``year`` (``LATEST`` alone without
    a year) — is read first; in a folder without pointers, the run files' own states decide."""
    for name in (f"LATEST-{year}", "LATEST") if year is not None else ("LATEST",):
        pointer = folder / name
        if pointer.exists():
            path = folder / pointer.read_text(encoding="utf-8").strip()
            if path.is_file() and (year is None or run_year(path) == year):
                return path
    runs = published_runs(folder, year)
    years = {y for p in runs if (y := run_year(p)) is not None}
    if year is None and years:
        runs = [p for p in runs if run_year(p) == max(years)]
    states = {p: publication_of(p) for p in runs}
    official = [p for p in runs if states[p] == OFFICIAL]
    trial = [p for p in runs if states[p] == TRIAL]
    chosen = official or trial
    return chosen[-1] if chosen else None


def resolve_run(
    published: str | os.PathLike | None = None, *, year: int | None = None, run_id: str | None = None, db=None
) -> Path | None:
    """Which published run to read: the one resolver (DESIGN §2, §7). None when there is none.

    ``published`` is a run file (read as given), a folder of published runs, or None
    (:func:`published_folder`: ``$HZEVAL_PUBLISHED``, else ``published/`` beside the warehouse ``db``).
    With ``run_id``: that run's file when ``run_id`` is a safe name (:func:`safe_run_id`) and is
    published (its year is the file's own: readers check it). Otherwise the latest run of ``year``,
    else of the latest year (:func:`_latest`)."""
    target = published_folder(published, db)
    if target.is_file():
        return target
    if not target.is_dir():
        return None
    if run_id is not None:
        path = target / f"{run_id}.duckdb" if safe_run_id(run_id) else None
        return path if path is not None and path.is_file() else None
    return _latest(target, year)


def find_published(
    published: str | os.PathLike | None = None, year: int | None = None, db=None, *, run_id: str | None = None
) -> Path:
    """:func:`resolve_run`, raising :class:`RunNotFoundError` (saying what to do) when there is no such run."""
    path = resolve_run(published, year=year, run_id=run_id, db=db)
    if path is not None:
        return path
    target = published_folder(published, db)
    if not target.is_dir():
        raise RunNotFoundError(f"没有已发布的评估结果：{target}", f"no published runs at {target}", path=str(target))
    if run_id is not None:
        raise RunNotFoundError(f"未找到已发布的评估运行 {run_id}", f"no published run {run_id}", path=str(target))
    what = f"{year} 年" if year else ""
    raise RunNotFoundError(
        f"{target} 中没有{what}已发布的评估结果，请先运行 hzeval assess --year {year or 'Y'}",
        f"no published {year or ''} run in {target}: run 'hzeval assess --year {year or 'Y'}' first",
        path=str(target),
    )


def latest_published(db=None, year: int | None = None) -> Path | None:
    """The latest published run file of ``year`` (default: of the latest year) beside the warehouse, or None."""
    return resolve_run(published_dir(db), year=year)


def recover(con, db=None) -> list[str]:
    """Finish what a killed writer left (issue 13, DESIGN §7a): remove stale ``.tmp`` files in
    ``published/``; take away the copy of a withdrawn run (never published again); publish each year's
    newest run and its latest official run when they are not published, and republish an official run
    whose copy still says 试算 (killed between ``runs official`` and its copy); then point the pointers
    by the one rule (:func:`point`). Call only while holding the warehouse for writing (then no other
    process can be publishing). Returns the run ids published."""
    folder = published_dir(db)
    if folder.is_dir():
        for stale in folder.glob(".*.tmp*"):
            log.warning("removing stale %s (left by an interrupted publish)", stale)
            stale.unlink(missing_ok=True)
    rows = con.execute(
        f"""select year, run_id, {STATE} from main.runs where status = 'finished'
            order by year, finished_at desc, run_id desc"""
    ).fetchall()
    wanted: list[str] = []
    newest: set[int] = set()
    official: set[int] = set()
    stale_copies: list[str] = []
    for year, run_id, state in rows:
        final = folder / f"{run_id}.duckdb"
        if state == WITHDRAWN:
            if final.exists():
                log.warning("run %s is withdrawn: removing its published copy", run_id)
                final.unlink()
            continue
        if year not in newest:
            newest.add(year)
            wanted.append(run_id)
        if state == OFFICIAL:
            if year not in official:
                official.add(year)
                if run_id not in wanted:
                    wanted.append(run_id)
            if final.exists() and publication_of(final) != OFFICIAL:
                stale_copies.append(run_id)
    done = []
    for run_id in wanted:
        if not (folder / f"{run_id}.duckdb").exists():
            log.warning("run %s was committed but not published: publishing it now", run_id)
            publish_run(con, run_id, db)
            done.append(run_id)
    for run_id in stale_copies:  # replaced atomically: readers see the trial copy, then the official one
        log.warning("run %s is official but its copy is not: publishing it again", run_id)
        publish_run(con, run_id, db)
        done.append(run_id)
    if folder.is_dir():
        point(con, folder)
    return done
