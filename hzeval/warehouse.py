"""The DuckDB warehouse: opening it, its schema, and its stable output tables (DESIGN §7).

Writers (``load``, ``assess``) hold the file only while they work: :func:`connect`
is used as a context manager. Readers that live beside writers read a published copy
(see :mod:`hzeval.publish`), never the live file.
"""

from __future__ import annotations

import contextlib
import logging
import os
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
-- the engine that computed a run's metric items (duckdb | spark); runs made before it: NULL = duckdb
alter table runs add column if not exists engine varchar;
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
    try:
        con = duckdb.connect(str(p), read_only=read_only)
    except duckdb.IOException as exc:
        raise WarehouseError(
            f"无法打开数据仓库 {p}（可能正被另一进程写入）：{exc}",
            f"cannot open warehouse {p} (another process may be writing it): {exc}",
            path=str(p),
        ) from exc
    try:
        if not read_only:
            ensure_schema(con)
        yield con
    finally:
        con.close()
