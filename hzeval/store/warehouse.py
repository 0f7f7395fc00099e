"""The DuckDB warehouse: opening it, its schema, and its stable output tables (DESIGN §7).

Writers (``load``, ``assess``) hold the file only while they work: :func:`connect`
is used as a context manager. Readers that live beside writers read a published copy
(see :mod:`hzeval.store.published`), never the live file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from pathlib import Path

import duckdb

from hzeval.contract import TABLES, table_ddl
from hzeval.errors import WarehouseBusy, WarehouseError
from hzeval.store import calendar
from hzeval.store.location import db_path
from hzeval.store.published import recover

log = logging.getLogger(__name__)


#: bookkeeping and output tables; names and columns are a public contract
SYSTEM_DDL = """
create sequence if not exists load_seq start 1;
create table if not exists loads (
  load_id bigint primary key, file varchar, sha256 varchar, table_name varchar,
  rows_loaded bigint, rows_rejected bigint, rows_replaced bigint, loaded_at timestamp,
  file_format varchar, encoding varchar
);
create table if not exists rejects (
  load_id bigint, file varchar, table_name varchar, line bigint, column_name varchar,
  value varchar, reason varchar
);
create table if not exists replacements (
  load_id bigint, table_name varchar, replaced_load_id bigint, rows bigint
);
create table if not exists runs (
  run_id varchar primary key, started_at timestamp, finished_at timestamp, year integer,
  as_of timestamp, scheme_sha256 varchar, inputs_sha256 varchar, package_version varchar,
  status varchar, scheme_name varchar, scheme_file varchar, inputs json
);
-- a run's publication (DESIGN §7a): every change (official, withdrawn) with who, when and why; never updated
-- or deleted. ``runs.publication`` holds the current state (trial | official | withdrawn; NULL = trial)
create table if not exists run_publication (
  run_id varchar, action varchar, actor varchar, acted_at timestamp, reason varchar
);
-- how fresh each input table was for a run (DESIGN §7a): its event time column (contract), rows in the table,
-- the newest record at or before the as-of, and whether that is older than the scheme's stale_after days
create table if not exists run_freshness (
  run_id varchar, table_name varchar, time_column varchar, rows bigint, newest_at timestamp,
  expect_recent boolean, stale boolean, stale_after integer
);
create table if not exists metric_values (
  run_id varchar, year integer, agency_code varchar, metric_id varchar,
  numerator double, denominator double, value double, count bigint
);
create table if not exists evidence (
  run_id varchar, metric_id varchar, agency_code varchar, record_table varchar,
  record_id varchar, reason varchar, due_at timestamp, done_at timestamp, adjustment_id varchar
);
create table if not exists scores (
  run_id varchar, year integer, agency_code varchar, dimension varchar, indicator varchar,
  points double, max_points double, basis varchar
);
create table if not exists grades (
  run_id varchar, year integer, agency_code varchar, total double, grade varchar,
  vetoed boolean, rank integer, peer_group varchar, veto_reason varchar, graded boolean
);
create table if not exists adjustments (
  adjustment_id varchar primary key, kind varchar, metric_id varchar, agency_code varchar,
  record_table varchar, record_id varchar, column_name varchar, new_value varchar,
  reason varchar, evaluator varchar, created_at timestamp
);
create table if not exists adjustment_events (
  adjustment_id varchar, action varchar, actor varchar, acted_at timestamp, note varchar
);
create table if not exists run_adjustments (run_id varchar, adjustment_id varchar);
create table if not exists run_rules (
  run_id varchar, kind varchar, key varchar, profile varchar, title varchar, valid_from date, valid_to date,
  days integer, article varchar, text varchar, period varchar
);
create table if not exists project_gates (
  run_id varchar, project_id varchar, owner_code varchar, passed boolean,
  failed_conditions varchar, accepted_while_failing boolean, failed_resources varchar,
  checked_at timestamp
);
"""

#: columns added after a table's first release: a warehouse made by an older version gets them on open
MIGRATIONS = """
alter table evidence add column if not exists rule_profile varchar;
alter table evidence add column if not exists article varchar;
alter table runs add column if not exists rules_sha256 varchar;
alter table scores add column if not exists basis varchar;
alter table grades add column if not exists veto_reason varchar;
alter table grades add column if not exists graded boolean;
-- the engine that computed a run's metric items (duckdb | spark); runs made before it: NULL = duckdb
alter table runs add column if not exists engine varchar;
-- a run's publication state (DESIGN §7a): trial | official | withdrawn; runs made before it: NULL = trial
alter table runs add column if not exists publication varchar;
-- the 第四十六条 (容错免责) conditions an excuse records ('；'-joined); NULL = none recorded
alter table adjustments add column if not exists tolerance varchar;
"""

#: 督办 notices (DESIGN §7, ``hzeval notify``): one row per item, level and recipient per delivery
#: attempt (status sent | failed), never updated or deleted. ``create if not exists`` is also the
#: migration: a warehouse made before notices existed gets the table the next time it is opened.
NOTICES_DDL = """
create table if not exists notices (
  notice_id varchar, agency_code varchar, item_key varchar, level varchar, channel varchar,
  recipient varchar, sent_at timestamp, status varchar, error varchar, attempted_at timestamp,
  next_attempt_at timestamp, as_of timestamp, metric_id varchar, record_table varchar,
  record_id varchar, subject_agency varchar, due_at timestamp, contact_name varchar
);
"""


#: operating-system causes DuckDB reports only inside its message text → what users are told
OS_CAUSES = (
    ("File too large", "文件超过大小限制（ulimit -f）", "file too large (file-size limit)"),
    ("No space left on device", "磁盘已满", "disk full"),
    ("Disk quota exceeded", "超出磁盘配额", "disk quota exceeded"),
    ("Read-only file system", "只读文件系统", "read-only file system"),
    ("Permission denied", "没有权限", "permission denied"),
    ("No such file or directory", "文件或文件夹不存在", "no such file or folder"),
)


def os_cause(exc: BaseException) -> tuple[str, str] | None:
    """(Chinese, English) for an OS-level cause named in a DuckDB or OS error, or None."""
    text = str(exc)
    for needle, zh, en in OS_CAUSES:
        if needle.lower() in text.lower():
            return zh, en
    return None


def is_lock_conflict(exc: BaseException) -> bool:
    """Whether a DuckDB open failed because another process holds the file."""
    return "lock" in str(exc).lower() and "conflicting" in str(exc).lower() or "Could not set lock" in str(exc)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for t in TABLES.values():
        con.execute(table_ddl(t))
    have = set(
        con.execute(
            "select table_name, column_name from information_schema.columns where table_schema = 'main'"
        ).fetchall()
    )
    for t in TABLES.values():
        for c in t.columns:  # a column the contract gained since the warehouse was made
            if (t.name, c.name) not in have:
                con.execute(f"alter table {t.name} add column {c.name} {c.sql_type}")
    con.execute(SYSTEM_DDL)
    con.execute(MIGRATIONS)
    con.execute(NOTICES_DDL)
    exists = con.execute("select count(*) from information_schema.tables where table_name = 'calendar'").fetchall()[0][
        0
    ]
    if not exists:
        calendar.install(con)
    else:
        con.execute(calendar.MACROS)  # a warehouse made by an older version gets the current macros


#: how long a writer waits for another process to let go of the warehouse (``$HZEVAL_LOCK_WAIT`` seconds)
LOCK_WAIT_SECONDS = 10.0


def lock_holder(p: Path, exc: Exception) -> tuple[bool, str]:
    """(held by readers only, who) for a failed open: a read-only open succeeds beside readers and
    fails beside a writer; DuckDB's message names the holder's PID, ``/proc`` its command line."""
    reader = False
    try:
        duckdb.connect(str(p), read_only=True).close()
        reader = True
    except duckdb.Error:
        pass
    m = re.search(r"\(PID (\d+)\)", str(exc))
    who = "未知进程 / unknown process"
    if m:
        who = f"PID {m.group(1)}"
        with contextlib.suppress(OSError):
            cmd = Path(f"/proc/{m.group(1)}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            who += f" {cmd[:100]}"
    return reader, who


def _open(p: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open the file; a writer finding it held retries briefly, then names who holds it and how."""
    wait = float(os.environ.get("HZEVAL_LOCK_WAIT", LOCK_WAIT_SECONDS))
    t0, delay = time.monotonic(), 0.2
    while True:
        try:
            return duckdb.connect(str(p), read_only=read_only)
        except duckdb.IOException as exc:
            if not is_lock_conflict(exc) or read_only or time.monotonic() - t0 >= wait:
                failure = exc
                break
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    waited = f"{time.monotonic() - t0:.0f}"
    if not is_lock_conflict(failure):
        cause = os_cause(failure) or ("无法打开", "cannot open")
        raise WarehouseError(
            f"无法打开数据仓库 {p}：{cause[0]}（{_short(failure)}）",
            f"cannot open warehouse {p}: {cause[1]} ({_short(failure)})",
            path=str(p),
        ) from failure
    reader, who = lock_holder(p, failure)
    if reader:
        raise WarehouseBusy(
            f"数据仓库 {p} 正被另一进程以只读方式打开（{who}，例如直接打开数据仓库的笔记本或脚本），"
            f"等待 {waited} 秒后仍未释放："
            "请关闭该连接后重试；笔记本请用 hzeval.workbench.session 读取已发布的副本",
            f"warehouse {p} is held open read-only by another process ({who}, e.g. a notebook that opened the "
            f"warehouse itself); still held after {waited}s: close it and retry (notebooks read published copies)",
            path=str(p),
        ) from failure
    raise WarehouseBusy(
        f"数据仓库 {p} 正被另一进程写入（{who}），等待 {waited} 秒后仍未结束：请待其完成后重试",
        f"warehouse {p} is being written by another process ({who}); still held after {waited}s: retry when it is done",
        path=str(p),
    ) from failure


@contextlib.contextmanager
def connect(path: str | os.PathLike | None = None, read_only: bool = False, create: bool = True):
    """Open the warehouse (creating its schema when writable) and close it afterwards."""
    p = db_path(path)
    if not p.resolve().parent.is_dir():
        raise WarehouseError(
            f"数据仓库所在文件夹 {p.resolve().parent} 不存在（--db {p}）",
            f"the warehouse's folder {p.resolve().parent} does not exist (--db {p})",
            path=str(p),
        )
    if read_only or not create:
        if not p.exists():
            raise WarehouseError(
                f"数据仓库 {p} 不存在，请先运行 hzeval load 加载数据",
                f"warehouse {p} does not exist: run 'hzeval load' first",
                path=str(p),
            )
    con = _open(p, read_only)
    try:
        if not read_only:
            ensure_schema(con)
            _recover_publish(con, p)
        yield con
    except duckdb.Error as exc:
        cause = os_cause(exc)
        if cause is None:
            raise
        # the OS refused a write (file-size limit, disk full ...): name the file and the cause, not
        # DuckDB's exception class; DuckDB has rolled the transaction back
        raise WarehouseError(
            f"写入数据仓库 {p} 失败，未保存任何更改：{cause[0]}",
            f"writing the warehouse {p} failed, nothing was saved: {cause[1]} ({_short(exc)})",
            path=str(p),
        ) from exc
    finally:
        con.close()


def _short(exc: BaseException, limit: int = 160) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _recover_publish(con, path: Path) -> None:
    """A writer's start: publish a committed run a killed writer left unpublished (issue 13)."""
    try:
        recover(con, path)
    except (OSError, duckdb.Error) as exc:  # recovery must not stop the writer's own work
        log.warning("publish recovery failed: %s", exc)
