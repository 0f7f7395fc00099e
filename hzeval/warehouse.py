"""The DuckDB warehouse: opening it, its schema, and its stable output tables (DESIGN §7).

Writers (``load``, ``assess``) hold the file only while they work: :func:`connect`
is used as a context manager. Readers that live beside writers read a published copy
(see :mod:`hzeval.publish`), never the live file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from pathlib import Path

import duckdb

from hzeval import calendar
from hzeval.contract import TABLES, table_ddl
from hzeval.errors import WarehouseError

log = logging.getLogger(__name__)

DEFAULT_DB = "hzeval.duckdb"

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
  points double, max_points double
);
create table if not exists grades (
  run_id varchar, year integer, agency_code varchar, total double, grade varchar,
  vetoed boolean, rank integer, peer_group varchar
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
"""


def db_path(path: str | os.PathLike | None = None) -> Path:
    return Path(path or os.environ.get("HZEVAL_DB") or DEFAULT_DB)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for t in TABLES.values():
        con.execute(table_ddl(t))
    con.execute(SYSTEM_DDL)
    con.execute(MIGRATIONS)
    exists = con.execute("select count(*) from information_schema.tables where table_name = 'calendar'").fetchall()[0][0]
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
            if "lock" not in str(exc).lower() or read_only or time.monotonic() - t0 >= wait:
                failure = exc
                break
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    waited = f"{time.monotonic() - t0:.0f}"
    if "lock" not in str(failure).lower():
        raise WarehouseError(f"无法打开数据仓库 {p}：{failure}", f"cannot open warehouse {p}: {failure}",
                             path=str(p)) from failure
    reader, who = lock_holder(p, failure)
    if reader:
        raise WarehouseError(
            f"数据仓库 {p} 正被另一进程以只读方式打开（{who}，例如直接打开数据仓库的笔记本或脚本），等待 {waited} 秒后仍未释放："
            "请关闭该连接后重试；笔记本请用 hzeval.workbench 读取已发布的副本",
            f"warehouse {p} is held open read-only by another process ({who}, e.g. a notebook that opened the "
            f"warehouse itself); still held after {waited}s: close it and retry (notebooks read published copies)",
            path=str(p),
        ) from failure
    raise WarehouseError(
        f"数据仓库 {p} 正被另一进程写入（{who}），等待 {waited} 秒后仍未结束：请待其完成后重试",
        f"warehouse {p} is being written by another process ({who}); still held after {waited}s: retry when it is done",
        path=str(p),
    ) from failure


@contextlib.contextmanager
def connect(path: str | os.PathLike | None = None, read_only: bool = False, create: bool = True):
    """Open the warehouse (creating its schema when writable) and close it afterwards."""
    p = db_path(path)
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
        yield con
    finally:
        con.close()
