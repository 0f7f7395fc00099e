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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from hzeval.contract import Table
from hzeval.errors import InputFileError, clip
from hzeval.ingest import normalize, readers, sqlpath
from hzeval.ingest.limits import Limits
from hzeval.ingest.report import unresolved_count
from hzeval.store import calendar
from hzeval.util import faults

log = logging.getLogger(__name__)

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


def _insert_rejects(con, rejects: pl.DataFrame, load_id: int, file: str, table: Table) -> None:
    rej = rejects.select(
        pl.lit(load_id, dtype=pl.Int64).alias("load_id"),
        pl.lit(file).alias("file"),
        pl.lit(table.name).alias("table_name"),
        "line",
        "column_name",
        "value",
        "reason",
    )
    con.register("_hz_rejects", rej.to_arrow())
    try:
        con.execute(
            "insert into rejects select load_id, file, table_name, line, column_name, value, reason from _hz_rejects"
        )
    finally:
        con.unregister("_hz_rejects")


def _key_hashes(good: pl.DataFrame, key: list[str]) -> pl.Series:
    kexpr = pl.col(key[0]) if len(key) == 1 else pl.struct(key)
    return good.select(kexpr.hash(seed=0)).to_series()


def _reject_later_duplicates(con, table: Table, load_id: int, file: str) -> int:
    """Rows of this load whose key an earlier line of the same file (in an earlier batch) already
    brought: reject them like :func:`normalize.parse_frame` does inside one batch, and delete them
    from the table. Returns how many rows were rejected."""
    key = list(table.key)
    kcols = ", ".join(key)
    cond = " and ".join(f"t.{k} is not distinct from d.{k}" for k in key)
    found = _rows(
        con,
        f"""
        select {", ".join(f"t.{k}" for k in key)}, t._line from {table.name} t
        join (select {kcols} from {table.name} where _load_id = ? group by all having count(*) > 1) d on {cond}
        where t._load_id = ? order by t._line""",
        [load_id, load_id],
    )
    rows = pl.DataFrame(found, schema=[*key, "_line"], orient="row", infer_schema_length=None)
    if not rows.height:
        return 0  # distinct keys after all (a 64-bit hash collision)
    rejects = (
        normalize.duplicate_rejects(rows, key)
        .cast(normalize.REJECT_SCHEMA)
        .with_columns(normalize._clipped(pl.col("value")).alias("value"))
    )
    con.register("_hz_dups", rejects.select("line").to_arrow())
    try:
        con.execute(f"delete from {table.name} where _load_id = ? and _line in (select line from _hz_dups)", [load_id])
    finally:
        con.unregister("_hz_dups")
    _insert_rejects(con, rejects, load_id, file, table)
    return rejects.height


def _replace_older(con, table: Table, load_id: int) -> int:
    """Delete the rows of earlier loads whose key this load brings, recording each replaced load."""
    cond = _key_condition(table, "t", "i")
    con.execute(
        f"create or replace temp table _hz_keys as select distinct {', '.join(table.key)} from {table.name}"
        " where _load_id = ?",
        [load_id],
    )
    try:
        old = _rows(
            con,
            f"""
            select t._load_id, count(*) from {table.name} t join _hz_keys i on {cond}
            where t._load_id is distinct from ? group by t._load_id order by t._load_id nulls first""",
            [load_id],
        )
        if old:
            con.execute(
                f"delete from {table.name} t using _hz_keys i where {cond} and t._load_id is distinct from ?", [load_id]
            )
            con.executemany(
                "insert into replacements (load_id, table_name, replaced_load_id, rows) values (?, ?, ?, ?)",
                [[load_id, table.name, old_id, n] for old_id, n in old],
            )
    finally:
        con.execute("drop table if exists _hz_keys")
    return sum(n for _, n in old)


def _load_one(con, plan: readers.FilePlan, limits: Limits, polars_only: frozenset[str] = frozenset()) -> FileResult:
    """Stream one file into its table (DESIGN §9): Parquet, and CSV whose every line is one record,
    through DuckDB's readers where the columns allow (:func:`_load_sql`; a CSV file listed in
    ``polars_only`` was refused by DuckDB in an earlier attempt), everything else in polars batches
    of :func:`readers.batch_rows` rows
    (:func:`_load_polars`); both write the same rows and rejects. The replacement of older loads'
    rows is settled in SQL once the file is in. Memory stays about one batch (plus the rejects)
    whatever the file's size; the caller's transaction keeps it all or nothing."""
    table = plan.table
    fp = readers.fingerprint(plan)  # sha256 (and CSV encoding) in one sequential pass
    sha = fp.sha256
    done = _rows(
        con,
        "select load_id, encoding from loads where sha256 = ? and table_name = ? order by load_id limit 1",
        [sha, table.name],
    )
    if done:
        log.info("%s: same bytes already loaded as load %s; skipped", plan.file, done[0][0])
        return FileResult(plan.file, table.name, plan.format, done[0][1], STATUS_UNCHANGED, sha, load_id=None)

    load_id = _rows(con, "select nextval('load_seq')")[0][0]
    result = FileResult(plan.file, table.name, plan.format, fp.encoding, STATUS_LOADED, sha, load_id=load_id)
    # an empty table has nothing to replace: skip the key join on first loads
    had_rows = _rows(con, f"select exists (select 1 from {table.name})")[0][0]
    sp = None
    if plan.format == "parquet" and sqlpath.enabled():
        try:
            sp = sqlpath.prepare(con, plan.path, table, plan.mapping, limits.max_field_chars)
        except duckdb.Error as exc:  # what DuckDB cannot describe, polars' reader judges
            log.debug("%s: DuckDB cannot describe the file (%s); polars path", plan.file, readers.one_line(exc))
    elif plan.format == "csv" and sqlpath.enabled() and fp.records is not None and plan.file not in polars_only:
        header, _ = readers.csv_header(plan.path, plan.file)
        sp = sqlpath.prepare_csv(
            plan.path,
            header,
            plan.separator,
            fp.records,
            table,
            plan.mapping,
            limits.max_field_chars,
            fp.separator_at_line_end,
        )
    if sp is not None:
        _load_sql(con, plan, sp, limits, load_id, result)
    else:
        _load_polars(con, plan, fp, limits, load_id, result)
    if had_rows and result.rows_loaded:
        result.rows_replaced = _replace_older(con, table, load_id)

    con.execute(
        "insert into loads (load_id, file, sha256, table_name, rows_loaded, rows_rejected, rows_replaced, loaded_at,"
        " file_format, encoding) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            load_id,
            plan.file,
            sha,
            table.name,
            result.rows_loaded,
            result.rows_rejected,
            result.rows_replaced,
            dt.datetime.now().replace(microsecond=0),
            plan.format,
            result.encoding,
        ],
    )
    log.info(
        "%s → %s: %d loaded, %d rejected, %d replaced (load %d)",
        plan.file,
        table.name,
        result.rows_loaded,
        result.rows_rejected,
        result.rows_replaced,
        load_id,
    )
    return result


def _arrow_schema(table: Table) -> pa.Schema:
    return (
        pl.DataFrame(schema={**{c.name: normalize.target_dtype(c) for c in table.columns}, "_line": pl.Int64})
        .to_arrow(compat_level=pl.CompatLevel.oldest())
        .schema
    )


class CsvRefused(Exception):
    """DuckDB's reader did not read a CSV file as polars' does (it refused a row, or read another
    number of rows than the file's lines): the load is rolled back and retried with that file on the
    polars path (:func:`load_paths`). Internal control flow, never seen by users: not an
    :class:`~hzeval.errors.HzevalError`, so it stays here rather than in :mod:`hzeval.errors`."""

    def __init__(self, file: str, why: str):
        super().__init__(f"{file}: {why}")
        self.file = file


def _load_sql(
    con, plan: readers.FilePlan, sp: sqlpath.SqlPlan, limits: Limits, load_id: int, result: FileResult
) -> None:
    """A file through DuckDB's reader (:mod:`hzeval.ingest.sqlpath`): the plain rows in one
    ``insert … select … from read_parquet`` (or ``read_csv``), the others parsed by ``parse_frame``
    in batches, then duplicate keys settled over the file. Same rows, rejects and counts as
    :func:`_load_polars`; a CSV file DuckDB reads otherwise raises :class:`CsvRefused`."""
    table = plan.table
    cols = ", ".join(table.names)
    csv = sp.total is not None
    try:
        if sp.extra_fields and con.execute(sp.extra_fields, {"path": str(plan.path)}).fetchall()[0][0]:
            raise CsvRefused(plan.file, "a row has more fields than the header")
        total = sqlpath.total_rows(con, sp, plan.path)
        if plan.unknown and (total or csv):  # as the polars path: its CSV reader yields a header-only frame
            result.warnings.append(f"忽略未知列 / ignored unknown columns: {clip(', '.join(map(str, plan.unknown)))}")
        # Parquet: duplicate keys asked of the file first: the answer holds when every row is plain,
        # and the hashes' memory is given back before the insert takes its own (CSV: a first pass
        # would parse the whole file again; its keys are checked once inserted, in the table). The same
        # read tells whether every row is plain: then the insert tests none again (source_check)
        checked = None if csv else sqlpath.source_check(con, sp, plan.path, total)
        source_dups: bool | None = checked
        if not csv and checked is None and table.key and total > sqlpath.NUMPY_CHECK_ROWS:
            source_dups = sqlpath.source_duplicate_keys(con, sp, plan.path, total)
        plain = sqlpath.insert_plain(con, sp, plan.path, load_id, all_plain=checked is not None) if total else 0
        result.rows_loaded = plain
        read = plain  # rows of the file DuckDB read: the plain ones, then the others
        reject_parts: list[pl.DataFrame] = []
        if plain < total:
            schema = _arrow_schema(table)
            mapping = {src: name for name, src in sp.source.items()}
            for df, lines in sqlpath.other_rows(con, sp, plan.path, readers.batch_rows(), load_id):
                read += df.height
                parsed = normalize.parse_frame(df, table, mapping, 0, limits.max_field_chars, lines=lines, dedupe=False)
                if parsed.rejects.height:
                    reject_parts.append(parsed.rejects)
                    result.rows_rejected += parsed.rows_rejected
                if parsed.good.height:
                    result.rows_loaded += parsed.good.height
                    con.register("_hz_other", parsed.good.to_arrow(compat_level=pl.CompatLevel.oldest()).cast(schema))
                    try:
                        con.execute(
                            f"insert into {table.name} ({cols}, _load_id, _line)"
                            f" select {cols}, {int(load_id)}, _line from _hz_other"
                        )
                    finally:
                        con.unregister("_hz_other")
                del parsed
    except (duckdb.Error, pa.ArrowException, OSError) as exc:  # DuckDB's reader, also through an Arrow stream
        if csv and not isinstance(exc, OSError):
            raise CsvRefused(plan.file, readers.one_line(exc)) from exc
        raise readers.unreadable(plan.file, "内容损坏或格式不符", "corrupt or malformed content", exc) from exc
    if csv and read != total:  # a blank line DuckDB skipped…: its line numbers would be wrong
        raise CsvRefused(plan.file, f"{read:,} rows read, {total:,} lines")
    if reject_parts:
        _insert_rejects(con, pl.concat(reject_parts, how="vertical_relaxed"), load_id, plan.file, table)
    if table.key and result.rows_loaded > 1:
        if csv:
            dups = sqlpath.loaded_duplicate_keys(con, table, load_id, result.rows_loaded)
        else:
            dups = (
                source_dups
                if plain == total and source_dups is not None
                else sqlpath.has_duplicate_keys(con, table, load_id)
            )
        if dups:
            n = _reject_later_duplicates(con, table, load_id, plan.file)
            result.rows_loaded -= n
            result.rows_rejected += n


def _load_polars(
    con, plan: readers.FilePlan, fp: readers.Fingerprint, limits: Limits, load_id: int, result: FileResult
) -> None:
    """Every other file: polars' readers in batches, each parsed by ``parse_frame``."""
    table = plan.table
    cols = ", ".join(table.names)
    key = list(table.key)
    hashes: list[pl.Series] = []
    reject_parts: list[pl.DataFrame] = []
    failure: list[BaseException] = []
    schema = _arrow_schema(table)

    def good_batches():
        """Parse the file batch by batch, yielding the good rows as Arrow batches (plain large strings:
        DuckDB scans them about twice as fast as string views); rejects and key hashes are kept aside."""
        mapping = None
        rows_in = 0
        try:
            for df in readers.iter_frames(plan, fp):
                fp.data = None  # whole-file formats: the bytes are parsed, let them go
                if mapping is None:
                    mapping, unknown = normalize.column_mapping(table, df.columns)
                    normalize.check_mapping(table, mapping, plan.file)
                    if unknown:
                        result.warnings.append(
                            f"忽略未知列 / ignored unknown columns: {clip(', '.join(map(str, unknown)))}"
                        )
                parsed = normalize.parse_frame(
                    df, table, mapping, readers.LINE_OFFSET[plan.format] + rows_in, limits.max_field_chars
                )
                rows_in += df.height
                del df
                if parsed.rejects.height:
                    reject_parts.append(parsed.rejects)
                    result.rows_rejected += parsed.rows_rejected
                good = parsed.good
                del parsed
                if good.height:
                    if key:
                        hashes.append(_key_hashes(good, key))
                    result.rows_loaded += good.height
                    yield from good.to_arrow(compat_level=pl.CompatLevel.oldest()).cast(schema).to_batches()
                del good
        except BaseException as exc:  # DuckDB wraps what a scanned reader raises: keep the original
            failure.append(exc)
            raise

    # one INSERT consuming a stream of batches: DuckDB writes its row groups out as they fill, so the
    # uncommitted rows do not pile up in memory the way many small INSERTs in one transaction do
    con.register("_hz_incoming", pa.RecordBatchReader.from_batches(schema, good_batches()))
    try:
        con.execute(
            f"insert into {table.name} ({cols}, _load_id, _line) select {cols}, {load_id}, _line from _hz_incoming"
        )
    except Exception:
        if failure:
            raise failure[0] from None
        raise
    finally:
        try:
            con.unregister("_hz_incoming")
        except duckdb.Error:  # an aborted transaction refuses it; the rollback drops the view anyway
            log.debug("unregister after a failed insert", exc_info=True)
    if reject_parts:
        _insert_rejects(con, pl.concat(reject_parts, how="vertical_relaxed"), load_id, plan.file, table)
        reject_parts.clear()

    result.encoding = fp.encoding  # JSON Lines: known once read
    if key and len(hashes) > 1:
        # distinct 64-bit hashes prove distinct keys across batches (8 bytes a row); a repeated
        # hash sends the file down the exact SQL path
        all_hashes = pl.concat(hashes, rechunk=False)  # no second copy of the hashes
        hashes.clear()
        if all_hashes.n_unique() < all_hashes.len():
            n = _reject_later_duplicates(con, table, load_id, plan.file)
            result.rows_loaded -= n
            result.rows_rejected += n
        del all_hashes


#: ``progress(file, done, total)``: called before each file with its name, the bytes of the files before it
#: and of all files; once more at the end, loaded or not, with ``file`` None (the CLI's bar:
#: :func:`hzeval.cli.console.load_progress`)
Progress = Callable[[str | None, int, int], None]


def load_paths(con, paths: list[Path], progress: Progress | None = None, limits: Limits | None = None) -> LoadResult:
    """Load files and folders into the warehouse; all of them or (on error) nothing.

    A CSV file that DuckDB's reader turns out to read otherwise than polars' (:class:`CsvRefused`,
    found only once it was read) rolls the whole load back, and the load starts again with that file
    on the polars path: the same all-or-nothing load, read twice."""
    limits = limits or Limits.from_env()
    files, skipped = readers.discover([Path(p) for p in paths])
    plans = [readers.inspect_file(f, limits) for f in files]  # header pass: raises before any write
    for plan in plans:
        log.debug("%s: table %s (%s)", plan.file, plan.table.name, plan.format)
    polars_only: set[str] = set()
    while True:
        try:
            return _load_all(con, plans, skipped, progress, limits, frozenset(polars_only))
        except CsvRefused as refused:
            if refused.file in polars_only:  # pragma: no cover - the polars path raises no CsvRefused
                raise
            log.info("%s; loading again with that file read by polars", refused)
            polars_only.add(refused.file)


def _load_all(
    con,
    plans: list[readers.FilePlan],
    skipped: list[Path],
    progress: Progress | None,
    limits: Limits,
    polars_only: frozenset[str],
) -> LoadResult:
    result = LoadResult(skipped=[str(s) for s in skipped])
    total, done = sum(p.size for p in plans), 0
    current = None
    con.execute("begin")
    try:
        for plan in plans:
            if progress:
                progress(plan.path.name, done, total)
            current = plan.file
            result.files.append(_load_one(con, plan, limits, polars_only))
            done += plan.size
        if any(f.table == "calendar_overrides" and f.status == STATUS_LOADED for f in result.files):
            calendar.install(con)
        faults.checkpoint("load-before-commit")
        con.execute("commit")
    except BaseException as exc:
        try:
            con.execute("rollback")
        except Exception:  # noqa: BLE001 - the original error matters more (a failed commit has no
            log.debug("rollback failed", exc_info=True)  # transaction left to roll back)
        if isinstance(exc, (InputFileError, KeyboardInterrupt, CsvRefused)):
            raise
        if isinstance(exc, pl.exceptions.PolarsError) and current:
            raise InputFileError(
                f"文件 {current} 处理失败，未写入任何数据：{readers.one_line(exc)}",
                f"file {current} could not be processed, nothing was written: {readers.one_line(exc)}",
                file=current,
            ) from exc
        raise
    finally:
        if progress:
            progress(None, done, total)
    result.unresolved = unresolved_count(con)
    return result
