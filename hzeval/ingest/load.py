"""Loading a drop into the warehouse in one transaction (DESIGN §3).

1. Discover the files and check every header (:func:`readers.inspect_file`) before
   anything is written: a bad file stops the whole call with an
   :class:`~hzeval.errors.InputFileError`.
2. ``begin``; per file: skip it when ``loads`` already has its sha256 for the table;
   else parse it, delete the rows whose key it brings (recording the replacement per
   old load), insert the good rows, its rejects and its ``loads`` row; rebuild the
   calendar when ``calendar_overrides`` changed; ``commit``. Any error rolls back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from hzeval import calendar, faults
from hzeval.contract import Table
from hzeval.errors import InputFileError, clip
from hzeval.ingest import normalize, readers
from hzeval.ingest.limits import Limits

log = logging.getLogger(__name__)

#: show a progress bar only for drops larger than this
PROGRESS_MIN_BYTES = 8 * 1024 * 1024

STATUS_LOADED = "loaded"
STATUS_UNCHANGED = "unchanged"


@dataclass
class FileResult:
    file: str
    table: str
    file_format: str
    encoding: str | None
    status: str
    sha256: str
    load_id: int | None = None
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_replaced: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass
class LoadResult:
    files: list[FileResult] = field(default_factory=list)
    #: files inside folders that were not loaded (unsupported type)
    skipped: list[str] = field(default_factory=list)
    #: distinct (table, column, value) references that do not resolve, after the load
    unresolved: int = 0

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    @property
    def rows_replaced(self) -> int:
        return sum(f.rows_replaced for f in self.files)

    @property
    def load_ids(self) -> list[int]:
        return [f.load_id for f in self.files if f.load_id is not None]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _rows(con, sql: str, params=None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def _key_condition(table: Table, left: str, right: str) -> str:
    return " and ".join(f"{left}.{k} = {right}.{k}" for k in table.key)


def _load_one(con, plan: readers.FilePlan, limits: Limits) -> FileResult:
    table = plan.table
    data = plan.path.read_bytes()
    sha = sha256_bytes(data)
    done = _rows(con, "select load_id, encoding from loads where sha256 = ? and table_name = ? order by load_id limit 1", [sha, table.name])
    if done:
        log.info("%s: same bytes already loaded as load %s; skipped", plan.file, done[0][0])
        return FileResult(plan.file, table.name, plan.format, done[0][1], STATUS_UNCHANGED, sha, load_id=None)

    df, encoding = readers.read_frame(plan, data)
    del data
    mapping, unknown = normalize.column_mapping(table, df.columns)
    normalize.check_mapping(table, mapping, plan.file)
    parsed = normalize.parse_frame(df, table, mapping, readers.LINE_OFFSET[plan.format], limits.max_field_chars)
    del df

    load_id = _rows(con, "select nextval('load_seq')")[0][0]
    result = FileResult(plan.file, table.name, plan.format, encoding, STATUS_LOADED, sha, load_id=load_id)
    if unknown:
        result.warnings.append(f"忽略未知列 / ignored unknown columns: {clip(', '.join(map(str, unknown)))}")

    good = parsed.good
    cols = ", ".join(table.names)
    # plain (large) strings: DuckDB scans them about twice as fast as Arrow string views
    con.register("_hz_incoming", good.to_arrow(compat_level=pl.CompatLevel.oldest()))
    try:
        # an empty table has nothing to replace: skip the key join (a distinct over every incoming
        # key, ~0.4 s on 5M rows) on first loads
        has_rows = good.height and _rows(con, f"select exists (select 1 from {table.name})")[0][0]
        if good.height:
            cond = _key_condition(table, "t", "i")
            old = [] if not has_rows else _rows(con, f"""
                select t._load_id, count(*) from {table.name} t
                join (select distinct {', '.join(table.key)} from _hz_incoming) i on {cond}
                group by t._load_id order by t._load_id nulls first""")
            if old:
                con.execute(f"delete from {table.name} t using _hz_incoming i where {cond}")
                con.executemany(
                    "insert into replacements (load_id, table_name, replaced_load_id, rows) values (?, ?, ?, ?)",
                    [[load_id, table.name, old_id, n] for old_id, n in old],
                )
                result.rows_replaced = sum(n for _, n in old)
            con.execute(f"insert into {table.name} ({cols}, _load_id, _line) select {cols}, {load_id}, _line from _hz_incoming")
        result.rows_loaded = good.height
    finally:
        con.unregister("_hz_incoming")

    if parsed.rejects.height:
        rej = parsed.rejects.select(
            pl.lit(load_id, dtype=pl.Int64).alias("load_id"),
            pl.lit(plan.file).alias("file"),
            pl.lit(table.name).alias("table_name"),
            "line", "column_name", "value", "reason",
        )
        con.register("_hz_rejects", rej.to_arrow())
        try:
            con.execute("insert into rejects select load_id, file, table_name, line, column_name, value, reason from _hz_rejects")
        finally:
            con.unregister("_hz_rejects")
        result.rows_rejected = parsed.rows_rejected

    con.execute(
        "insert into loads (load_id, file, sha256, table_name, rows_loaded, rows_rejected, rows_replaced, loaded_at, file_format, encoding)"
        " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [load_id, plan.file, sha, table.name, result.rows_loaded, result.rows_rejected, result.rows_replaced,
         dt.datetime.now().replace(microsecond=0), plan.format, encoding],
    )
    log.info("%s → %s: %d loaded, %d rejected, %d replaced (load %d)", plan.file, table.name,
             result.rows_loaded, result.rows_rejected, result.rows_replaced, load_id)
    return result


def _progress(enabled: bool, total: int):
    """A rich progress bar over bytes, or None for small drops / when disabled."""
    if not enabled or total <= PROGRESS_MIN_BYTES:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("加载 / loading {task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
        console=Console(stderr=True), transient=True,
    )


def load_paths(con, paths: list[Path], progress: bool = True, limits: Limits | None = None) -> LoadResult:
    """Load files and folders into the warehouse; all of them or (on error) nothing."""
    from hzeval.ingest.report import unresolved_references

    limits = limits or Limits.from_env()
    files, skipped = readers.discover([Path(p) for p in paths])
    plans = [readers.inspect_file(f, limits) for f in files]  # header pass: raises before any write
    result = LoadResult(skipped=[str(s) for s in skipped])
    for plan in plans:
        log.debug("%s: table %s (%s)", plan.file, plan.table.name, plan.format)

    bar = _progress(progress, sum(p.size for p in plans))
    current = None
    con.execute("begin")
    try:
        if bar is not None:
            bar.start()
            task = bar.add_task("", total=sum(p.size for p in plans))
        for plan in plans:
            if bar is not None:
                bar.update(task, description=plan.path.name)
            current = plan.file
            result.files.append(_load_one(con, plan, limits))
            if bar is not None:
                bar.advance(task, plan.size)
        if any(f.table == "calendar_overrides" and f.status == STATUS_LOADED for f in result.files):
            calendar.install(con)
        faults.checkpoint("load-before-commit")
        con.execute("commit")
    except BaseException as exc:
        try:
            con.execute("rollback")
        except Exception:  # noqa: BLE001 - the original error matters more (a failed commit has no
            log.debug("rollback failed", exc_info=True)  # transaction left to roll back)
        if isinstance(exc, (InputFileError, KeyboardInterrupt)):
            raise
        if isinstance(exc, pl.exceptions.PolarsError) and current:
            raise InputFileError(
                f"文件 {current} 处理失败，未写入任何数据：{readers.one_line(exc)}",
                f"file {current} could not be processed, nothing was written: {readers.one_line(exc)}",
                file=current,
            ) from exc
        raise
    finally:
        if bar is not None:
            bar.stop()
    result.unresolved = len(unresolved_references(con))
    return result
