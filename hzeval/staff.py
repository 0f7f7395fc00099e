"""Evaluation staff's workbench queries (drop checks, evidence explorer, year over year).

Thin notebooks in ``notebooks/`` call these; no metric logic lives in the notebooks.
Every function takes an open DuckDB connection to the warehouse (or a published copy where
noted) and returns polars frames.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import polars as pl

from hzeval.calendar import WorkCalendar
from hzeval.contract import TABLES
from hzeval.errors import WarehouseError
from hzeval.metrics import METRICS, Window, compute_items
from hzeval.scheme import load_scheme
from hzeval.sqlutil import frame

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


def find_warehouse(db: str | None = None) -> Path:
    """The warehouse a notebook should read: ``db``, else ``$HZEVAL_DB``, else ``hzeval.duckdb`` in
    the working folder or one of its parents (notebooks run from ``notebooks/``)."""
    if db:
        return Path(db)
    if os.environ.get("HZEVAL_DB"):
        return Path(os.environ["HZEVAL_DB"])
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "hzeval.duckdb").exists():
            return folder / "hzeval.duckdb"
    raise WarehouseError("找不到 hzeval.duckdb，请先运行 make demo 或设置 HZEVAL_DB",
                         "no hzeval.duckdb found: run 'make demo' or set HZEVAL_DB")


def open_warehouse(db: str | None = None):
    """A read-only connection for notebooks (temp tables still work on it)."""
    import duckdb

    path = find_warehouse(db)
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        raise WarehouseError(f"数据仓库 {path} 正被写入（例如定时任务），请稍后再试：{exc}",
                             f"warehouse {path} is being written (e.g. by a scheduled run); retry later: {exc}") from exc


# --------------------------------------------------------------------------- drop check


def loads(con, last: int | None = None) -> pl.DataFrame:
    """Files loaded (newest first): table, rows loaded / rejected / replaced, when."""
    return frame(con, """
        select load_id, file, table_name, file_format, encoding, rows_loaded, rows_rejected, rows_replaced, loaded_at
        from loads order by load_id desc limit coalesce($n, 1000000)
    """, {"n": last})


def rejects_by_reason(con) -> pl.DataFrame:
    return frame(con, """
        select table_name, column_name, reason, count(*) as rows, min(file) as example_file, min(line) as example_line
        from rejects group by all order by rows desc
    """)


def coverage(con, table: str) -> pl.DataFrame:
    """Rows per month and agency for one input table (gaps show missing exports)."""
    if table not in TIME_COLUMN or table not in AGENCY_COLUMN:
        raise KeyError(f"no coverage view for {table}")
    t, a = TIME_COLUMN[table], AGENCY_COLUMN[table]  # names from the contract, never from input
    assert t in TABLES[table].names and a in TABLES[table].names
    return frame(con, f"""
        select strftime({t}, '%Y-%m') as month, {a} as agency_code, count(*) as rows
        from {table} where {t} is not null group by all order by month, agency_code
    """).pivot(on="month", index="agency_code", values="rows", sort_columns=True).sort("agency_code")


def snapshot_dates(con) -> list[dt.date]:
    return [r[0] for r in con.execute("select distinct snapshot_date from catalog_snapshot order by 1").fetchall()]


def snapshot_diff(con, before: dt.date | None = None, after: dt.date | None = None) -> dict[str, pl.DataFrame]:
    """Resources added, withdrawn (status change or gone) and fields changed between two snapshots
    (default: the last two)."""
    dates = snapshot_dates(con)
    if len(dates) < 2 and (before is None or after is None):
        empty = pl.DataFrame()
        return {"added": empty, "withdrawn": empty, "changed": empty}
    before = before or dates[-2]
    after = after or dates[-1]
    fields = [c.name for c in TABLES["catalog_snapshot"].columns if c.name not in ("snapshot_date", "resource_code")]
    p = {"b": before, "a": after}
    added = frame(con, """
        select n.resource_code, n.resource_name, n.provider_code, n.status from catalog_snapshot n
        where n.snapshot_date = $a and n.resource_code not in (select resource_code from catalog_snapshot where snapshot_date = $b)
        order by 1""", p)
    withdrawn = frame(con, """
        select o.resource_code, o.resource_name, o.provider_code,
               coalesce(n.status, '（快照中已无此资源）') as now_status
        from catalog_snapshot o left join catalog_snapshot n on n.resource_code = o.resource_code and n.snapshot_date = $a
        where o.snapshot_date = $b and o.status = '已发布' and (n.resource_code is null or n.status <> '已发布')
        order by 1""", p)
    unpivot = ", ".join(f"cast({f} as varchar) as {f}" for f in fields)
    changed = frame(con, f"""
        with o as (unpivot (select resource_code, {unpivot} from catalog_snapshot where snapshot_date = $b)
                   on {', '.join(fields)} into name field value before_value),
             n as (unpivot (select resource_code, {unpivot} from catalog_snapshot where snapshot_date = $a)
                   on {', '.join(fields)} into name field value after_value)
        select resource_code, field, before_value, after_value
        from o full join n using (resource_code, field)
        where before_value is distinct from after_value
          and resource_code in (select resource_code from catalog_snapshot where snapshot_date = $b)
          and resource_code in (select resource_code from catalog_snapshot where snapshot_date = $a)
        order by resource_code, field""", p)
    return {"added": added, "withdrawn": withdrawn, "changed": changed}


# --------------------------------------------------------------------------- evidence explorer


def metric_items(con, year: int, as_of: dt.datetime, agency: str, metric: str, scheme=None) -> pl.DataFrame:
    """Every item (ok, late, pending, failed, excused) of one agency and metric, recomputed."""
    if metric not in METRICS:
        raise KeyError(metric)
    scheme = scheme or load_scheme(year=year)
    compute_items(con, Window.for_year(year, as_of, scheme), metric_ids=[metric])
    return frame(con, """
        select record_table, record_id, status, reason, due_at, done_at, num, den
        from metric_items where agency_code = $a order by due_at nulls last, record_id
    """, {"a": agency})


def deadline_steps(cal: WorkCalendar, start: dt.date | dt.datetime, n: int) -> pl.DataFrame:
    """The days from the event to its deadline, one row each, showing which count (DESIGN §4)."""
    import chinese_calendar as cc

    d0 = start.date() if isinstance(start, dt.datetime) else start
    due = cal.due_date(d0, n)
    days = cal.frame.filter((pl.col("day") >= d0) & (pl.col("day") <= due))
    rows = []
    counted = 0
    for day, is_work, source in days.select("day", "is_workday", "source").iter_rows():  # ≤ a few dozen days
        weekend = day.weekday() >= 5
        name = None
        if source == "chinese_calendar":
            _, name = cc.get_holiday_detail(day)
        if day == d0:
            kind, note = "事件当日", "当日不计"
        elif is_work:
            counted += 1
            kind, note = ("调休上班" if weekend else "工作日"), f"第 {counted} 个工作日"
        else:
            kind, note = ("法定节假日" if name else ("周末" if weekend else "调整休息日")), "不计"
        rows.append({"date": day, "weekday": "一二三四五六日"[day.weekday()], "kind": kind,
                     "holiday": name or "", "counted": note, "source": source})
    return pl.DataFrame(rows)


#: the record and column whose day starts each working-day deadline
TRIGGER = {
    "catalog_update_timeliness": ("basis_changes", "change_id", "effective_date"),
    "catalog_review_timeliness": ("catalog_events", "event_id", "event_time"),
    "share_reply_timeliness": ("share_applications", "application_id", "submitted_at"),
    "share_implementation_timeliness": ("share_applications", "application_id", "replied_at"),
    "demand_confirmation_timeliness": ("share_applications", "application_id", "submitted_at"),
    "objection_timeliness": ("objections", "objection_id", "raised_at"),
    "open_reply_timeliness": ("open_applications", "open_app_id", "submitted_at"),
}


def deadline_explained(con, metric_id: str, record_id: str, scheme) -> pl.DataFrame:
    """Step-by-step deadline of one item of a working-day metric (empty for other metrics)."""
    if metric_id not in TRIGGER:
        return pl.DataFrame()
    table, key, column = TRIGGER[metric_id]  # names from the constant above, never from input
    rows = con.execute(f"select {column} from {table} where {key} = $id", {"id": record_id}).fetchall()
    if not rows or rows[0][0] is None:
        return pl.DataFrame()
    # the rule in force on the trigger day (DESIGN §5a)
    days = scheme.ruleset.in_force(rows[0][0]).deadlines[METRICS[metric_id].deadline].days
    return deadline_steps(WorkCalendar.from_warehouse(con), rows[0][0], days)


def records_for(con, table: str, record_id: str) -> pl.DataFrame:
    """The input record(s) behind an evidence item (by the table's first key column)."""
    t = TABLES[table]
    key = "resource_code" if table == "catalog_snapshot" else t.key[0]
    return frame(con, f"select * from {table} where {key} = $id", {"id": record_id.split(" ")[0]})


# --------------------------------------------------------------------------- year over year


def year_over_year(con, year: int) -> dict[str, pl.DataFrame]:
    """Totals, dimensions and indicators of the newest finished runs of ``year`` and ``year - 1``."""
    runs = frame(con, """
        select year, arg_max(run_id, finished_at) as run_id from runs
        where status = 'finished' and year in ($y, $y - 1) group by year
    """, {"y": year})
    ids = dict(zip(runs["year"], runs["run_id"]))
    cur, prev = ids.get(year), ids.get(year - 1)
    totals = frame(con, """
        select c.agency_code, a.agency_name, c.peer_group, p.total as total_prev, c.total as total,
               c.total - p.total as change, p.grade as grade_prev, c.grade, p.rank as rank_prev, c.rank
        from grades c left join grades p on p.run_id = $p and p.agency_code = c.agency_code
        left join agencies a on a.agency_code = c.agency_code
        where c.run_id = $c order by change nulls last
    """, {"c": cur, "p": prev})
    dims = frame(con, """
        with d as (select run_id, agency_code, dimension, sum(points) as points from scores
                   where run_id in ($c, $p) group by all)
        select c.agency_code, c.dimension, p.points as points_prev, c.points, c.points - p.points as change
        from d c left join d p on p.run_id = $p and p.agency_code = c.agency_code and p.dimension = c.dimension
        where c.run_id = $c order by c.agency_code, c.dimension
    """, {"c": cur, "p": prev})
    indicators = frame(con, """
        select c.agency_code, c.metric_id, p.value as value_prev, c.value, c.value - p.value as change,
               p.count as count_prev, c.count
        from metric_values c left join metric_values p
          on p.run_id = $p and p.agency_code = c.agency_code and p.metric_id = c.metric_id
        where c.run_id = $c order by c.agency_code, c.metric_id
    """, {"c": cur, "p": prev})
    return {"runs": runs, "totals": totals, "dimensions": dims, "indicators": indicators}
